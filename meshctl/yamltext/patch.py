"""Compute a minimal RFC 6902 JSON Patch between two plain-data trees.

The patch is the canonical description of "what injection changes" (as an admission webhook
returns it), and the text engine (``meshctl.yamltext.edit``) applies it to the user's source. So the
patch must be *local*: unchanged subtrees produce nothing, changed scalars ``replace``, new keys
``add``, removed keys ``remove``, and lists are aligned item by item so that adding a sidecar
adds one container instead of rewriting the list.

Lists of mappings that all carry a unique identifying key (``name``, else ``mountPath``, else
``devicePath``) are aligned by that key (a longest common subsequence of the keys), the way
strategic merge treats containers, volumes, env, ports and mounts. Other lists get one weighted
order-preserving alignment: equal items first, then similar containers (shared keys and values,
shared list items), then items of the same kind. Paired items are recursed into (a changed
scalar is a ``replace``); the rest are removed or added. Indices are valid when the ops are
applied in order.

Equality is strict: ``1``, ``1.0`` and ``True`` differ (Python's ``==`` says they are equal,
but they are different YAML).
"""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final
    Op = dict[str, Any]

#: Keys that identify list items, tried in order (strategic-merge style).
IDENTITY_KEYS: Final = ("name", "mountPath", "devicePath")



def escape(token: str) -> str:
    """One JSON Pointer reference token (RFC 6901: ``~`` -> ``~0``, ``/`` -> ``~1``)."""
    if "~" in token:
        token = token.replace("~", "~0")
    if "/" in token:
        token = token.replace("/", "~1")
    return token


def unescape(token: str) -> str:
    if "~" in token:
        token = token.replace("~1", "/").replace("~0", "~")
    return token


def parse_pointer(path: str) -> list[str]:
    """The unescaped reference tokens of a JSON Pointer (``""`` is the whole document)."""
    if path == "":
        return []
    if path[0] != "/":
        raise ValueError(f"invalid JSON pointer {path!r}")
    return [unescape(t) for t in path[1:].split("/")]


def _canonical(value: Any) -> str:
    """One text per value, whatever the order of its keys (keys need not be strings); ``1``,
    ``1.0``, ``True`` and ``"1"`` differ, as for :func:`strict_equal`."""
    if isinstance(value, dict):
        return "{" + ",".join(sorted(f"{_canonical(k)}:{_canonical(v)}"
                                     for k, v in value.items())) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    return repr(value)


def digest(value: Any) -> str:
    """A short digest of plain data (12 hex digits): equal for :func:`strict_equal` data."""
    import hashlib

    return hashlib.blake2b(_canonical(value).encode(), digest_size=6).hexdigest()


def strict_equal(a: Any, b: Any) -> bool:
    """Deep equality that tells ``1``, ``1.0`` and ``True`` apart."""
    if a is b:
        return True  # shared subtrees (unchanged branches of a copied object)
    ta = type(a)
    if ta is not type(b):
        return False
    if ta is dict:
        if len(a) != len(b):
            return False
        return all(k in b and strict_equal(v, b[k]) for k, v in a.items())
    if ta is list:
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    if ta is float and a != a and b != b:
        return True  # nan
    return bool(a == b)


def make_patch(old: Any, new: Any) -> list[Op]:
    """RFC 6902 operations that turn ``old`` into ``new`` when applied in order."""
    ops: list[Op] = []
    _diff(old, new, "", ops)
    return ops


def _same(a: Any, b: Any) -> bool:
    # C-speed ``==`` first; the strict check only runs on the (usually small) equal subtrees.
    return bool(a == b) and strict_equal(a, b)


def _diff(old: Any, new: Any, path: str, ops: list[Op]) -> None:
    to, tn = type(old), type(new)
    if to is dict and tn is dict:
        _diff_dict(old, new, path, ops)
    elif to is list and tn is list:
        _diff_list(old, new, path, ops)
    elif not _same(old, new):
        ops.append({"op": "replace", "path": path, "value": new})


def _diff_dict(old: dict[str, Any], new: dict[str, Any], path: str, ops: list[Op]) -> None:
    if old == new and strict_equal(old, new):
        return
    for k, v in old.items():
        if k in new:
            nv = new[k]
            if v is nv:
                continue
            _diff(v, nv, path + "/" + escape(k), ops)
        else:
            ops.append({"op": "remove", "path": path + "/" + escape(k)})
    for k, nv in new.items():
        if k not in old:
            ops.append({"op": "add", "path": path + "/" + escape(k), "value": nv})


def _identity_key(old: list[Any], new: list[Any]) -> str | None:
    """A key that every item of both lists has, with unique values in each list."""
    if not old or not new:
        return None
    for key in IDENTITY_KEYS:
        ok = True
        for lst in (old, new):
            seen: set[Any] = set()
            for it in lst:
                if type(it) is not dict:
                    return None
                v = it.get(key)
                if v is None or not isinstance(v, (str, int)) or v in seen:
                    ok = False
                    break
                seen.add(v)
            if not ok:
                break
        if ok:
            return key
    return None


def _canon(v: Any) -> str:
    return json.dumps(v, sort_keys=True, separators=(",", ":"))


def _common_ends(a: list[Any], b: list[Any]) -> tuple[int, int, int]:
    """(lo, hi_a, hi_b): ``a[:lo] == b[:lo]`` and ``a[hi_a:] == b[hi_b:]``, both maximal."""
    n, m = len(a), len(b)
    lo = 0
    while lo < n and lo < m and a[lo] == b[lo]:
        lo += 1
    hi_a, hi_b = n, m
    while hi_a > lo and hi_b > lo and a[hi_a - 1] == b[hi_b - 1]:
        hi_a -= 1
        hi_b -= 1
    return lo, hi_a, hi_b


def _lcs(a: list[Any], b: list[Any]) -> list[tuple[int, int]]:
    """Matched index pairs of a longest common subsequence of two lists of hashables."""
    n = len(a)
    # Common prefix/suffix first: the usual case is "a few items appended or inserted".
    lo, hi_a, hi_b = _common_ends(a, b)
    pairs = [(i, i) for i in range(lo)]
    ma, mb = a[lo:hi_a], b[lo:hi_b]
    if ma and mb:
        la, lb = len(ma), len(mb)
        table = [[0] * (lb + 1) for _ in range(la + 1)]
        for i in range(la - 1, -1, -1):
            row, nxt = table[i], table[i + 1]
            ai = ma[i]
            for j in range(lb - 1, -1, -1):
                row[j] = nxt[j + 1] + 1 if ai == mb[j] else max(nxt[j], row[j + 1])
        i = j = 0
        while i < la and j < lb:
            if ma[i] == mb[j]:
                pairs.append((lo + i, lo + j))
                i += 1
                j += 1
            elif table[i + 1][j] >= table[i][j + 1]:
                i += 1
            else:
                j += 1
    pairs.extend((hi_a + k, hi_b + k) for k in range(n - hi_a))
    return pairs


def _score(a: Any, b: Any) -> int:
    """How alike two list items are: for mappings 2 per shared key with an equal value and 1
    per other shared key; for lists the shared items; 0 for scalars and different kinds."""
    ta = type(a)
    if ta is not type(b):
        return 0
    if ta is dict:
        return sum(2 if _same(v, b[k]) else 1 for k, v in a.items() if k in b)
    if ta is list:
        bs = [_canon(x) for x in b]
        n = 0
        for x in a:
            c = _canon(x)
            if c in bs:
                bs.remove(c)
                n += 1
        return n
    return 0


def _kind(v: Any) -> int:
    t = type(v)
    return 1 if t is dict else 2 if t is list else 0


_EXACT: Final = 10**9
_MAX_CELLS: Final = 40_000


def _align(old: list[Any], new: list[Any]) -> list[tuple[int, int]]:
    """Order-preserving pairs (i, j) for two lists without item identities.

    One weighted alignment: an equal item weighs more than anything else, then similar
    containers (``_score``), then any two items of the same kind (so a changed scalar is a
    ``replace`` and a changed mapping is recursed into). Maximising one total makes the result
    the same whichever list is called old (removing what an add put in restores the bytes).
    Common prefixes and suffixes are matched first; huge middles fall back to exact LCS.
    """
    co = [_canon(x) for x in old]
    cn = [_canon(x) for x in new]
    n = len(co)
    lo, ha, hb = _common_ends(co, cn)
    pairs = [(i, i) for i in range(lo)]
    a, b = old[lo:ha], new[lo:hb]
    la, lb = len(a), len(b)
    if la and lb:
        if la * lb > _MAX_CELLS:
            pairs.extend((lo + i, lo + j) for i, j in _lcs(co[lo:ha], cn[lo:hb]))
        else:
            ca, cb = co[lo:ha], cn[lo:hb]
            ka, kb = [_kind(x) for x in a], [_kind(x) for x in b]
            w = [
                [
                    _EXACT if ca[i] == cb[j] else (1 + _score(a[i], b[j]) if ka[i] == kb[j] else 0)
                    for j in range(lb)
                ]
                for i in range(la)
            ]
            best = [[0] * (lb + 1) for _ in range(la + 1)]
            for i in range(la - 1, -1, -1):
                row, nxt, wi = best[i], best[i + 1], w[i]
                for j in range(lb - 1, -1, -1):
                    v = nxt[j] if nxt[j] >= row[j + 1] else row[j + 1]
                    x = wi[j]
                    if x and nxt[j + 1] + x > v:
                        v = nxt[j + 1] + x
                    row[j] = v
            i = j = 0
            while i < la and j < lb:
                x = w[i][j]
                if x and best[i][j] == best[i + 1][j + 1] + x:
                    pairs.append((lo + i, lo + j))
                    i += 1
                    j += 1
                elif best[i + 1][j] >= best[i][j + 1]:
                    i += 1
                else:
                    j += 1
    pairs.extend((ha + k, hb + k) for k in range(n - ha))
    return pairs


def _diff_list(old: list[Any], new: list[Any], path: str, ops: list[Op]) -> None:
    if old == new and strict_equal(old, new):
        return
    key = _identity_key(old, new)
    if key is not None:
        pairs = _lcs([it[key] for it in old], [it[key] for it in new])
    else:
        pairs = _align(old, new)
    pos = 0  # index in the list as it is after the ops emitted so far
    i = j = 0
    for pi, pj in [*pairs, (len(old), len(new))]:
        for _ in range(i, pi):
            ops.append({"op": "remove", "path": f"{path}/{pos}"})
        for k in range(j, pj):
            ops.append({"op": "add", "path": f"{path}/{pos}", "value": new[k]})
            pos += 1
        if pi < len(old):
            _diff(old[pi], new[pj], f"{path}/{pos}", ops)
            pos += 1
        i, j = pi + 1, pj + 1
