"""Apply an RFC 6902 JSON Patch to a document's SOURCE TEXT, keeping every untouched byte.

How it works. The ops are applied, in order, to a light *working tree* that overlays the
position index from ``meshctl.yamltext.source``: containers an op passes through are wrapped
(``_WMap``/``_WSeq``) and their children are either original nodes (untouched), wrappers,
``_New`` values (added or replaced content, plain data) or ``_Merged`` keys (present only through
a ``<<`` merge). Then the tree is rendered into a list of (start, end, text) edits on the
original text, which are applied with one join. Untouched subtrees are never visited.

Rules (the contract the tests check):

* Added mapping keys go after the last kept entry of that mapping, after its value's last line
  and after the *glued tail*: comment lines that directly follow it (no blank line between) and
  are indented at least as deep as the mapping's keys. Blank lines and less-indented comments
  stay after the added keys: they belong to what follows.
* Added list items go at their index: before the item now at that index and before that
  item's leading comment lines (comments directly above it, no deeper than its ``-``), or after
  the last item's glued tail.
* Removing an entry/item removes its lines: from its key/dash line to its value's last line,
  plus glued comment lines indented deeper than the key/dash. Comments above it stay. So an
  entry this engine added and later removes restores the original bytes exactly. Replacing a
  block value also takes its glued deeper comments.
* Compact forms: removing the first key of ``- key: v`` keeps the ``-`` alone on its line
  (the other keys' lines stay as they are); in a compact nested sequence (``- - a``) items
  inserted before the first one take the dash line, and removing the first items pulls the
  next one up, so the two mirror each other.
* A mapping/list that loses all entries becomes ``{}``/``[]``; an empty flow ``{}``/``[]`` or a
  null (``key:``, ``key: ~``) in block context that gains content becomes block style;
  non-empty flow collections get flow additions (``, k: v``). A container replaced by null in a
  block mapping is written as an empty value (``key:``).
* Indentation of added block content: the column of the siblings; for nested levels the step
  seen at the nearest ancestor (mapping indent, ``-`` offset under a key, item content offset),
  else the first one seen in the document, else 2/2/2.
* JSON documents (root is a flow collection with double-quoted keys) stay JSON: new content is
  JSON, on its own lines with the document's indent width when the collection is multi-line,
  inline with the document's separators when it is one line.
* Replaced scalars keep their quoting style when the new value allows it.
* Anchors and aliases: a change never reaches through an alias. An op that goes into an alias
  site rewrites that site as an explicit copy; an op that changes (or removes) an anchored node
  expands every still-present alias of it into a copy first; ``<<`` merges are expanded into
  explicit keys when a merged key is removed or its source changes; a changed merged-only key
  is written as an explicit local key.
* CRLF documents get CRLF in added lines.

Anything the incremental editor does not handle (an explicit ``? key`` entry to delete, items
that an op sequence reordered) makes the enclosing container be rewritten from its data, so the
result is always right, only less of its formatting survives.
"""

from __future__ import annotations

import re
from typing import Any, Final

from meshctl.yamltext.emitter import (
    DEFAULT_STYLE,
    BlockStyle,
    block_lines,
    double_quoted,
    dump_flow,
    dump_json,
    dump_scalar,
    dump_value_inline,
    entry_lines,
    item_lines,
    literal_body,
    literal_header,
    literal_ok,
    plain_ok,
    single_quoted,
    single_quoted_ok,
)
from meshctl.yamltext.patch import parse_pointer, strict_equal
from meshctl.yamltext.source import (
    AliasNode,
    MapNode,
    Node,
    ScalarNode,
    SeqNode,
    SourceDoc,
    copy_data,
)


class PatchError(ValueError):
    """An op cannot be applied (missing path, bad index, failed ``test``)."""


class _Unsupported(Exception):
    """A construct the incremental editor does not handle; the caller rewrites the container."""


# --- working tree --------------------------------------------------------------------------


class _New:
    """Added or replaced content. ``orig``: the original node whose slot it occupies (an
    in-place replacement), or None (appended). ``owned``: value is ours to mutate."""

    __slots__ = ("value", "orig", "owned")

    def __init__(self, value: Any, orig: Node | None, owned: bool = False) -> None:
        self.value = value
        self.orig = orig
        self.owned = owned


class _Merged:
    """A key present only through a ``<<`` merge (data copied at load time)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _WMap:
    __slots__ = ("node", "children", "expand_merge")

    def __init__(self, node: MapNode) -> None:
        self.node = node
        merges = node.merges
        ch: dict[str, Any] = {}
        if merges:
            ms = set(merges)
            for i, (_k, v, ks) in enumerate(node.entries):
                if i not in ms:
                    ch[ks] = v
            for k, x in node.merged.items():
                ch[k] = _Merged(x)
        else:
            for _k, v, ks in node.entries:
                ch[ks] = v
        self.children = ch
        self.expand_merge = False


class _WSeq:
    __slots__ = ("node", "items")

    def __init__(self, node: SeqNode) -> None:
        self.node = node
        self.items: list[Any] = list(node.items)


_MISSING: Final = object()


def _orig_of(ch: Any) -> Node | None:
    if isinstance(ch, Node):
        return ch
    if isinstance(ch, (_WMap, _WSeq)):
        return ch.node
    if isinstance(ch, _New):
        return ch.orig
    return None


def _current(ch: Any) -> Any:
    """The data a working-tree child stands for now."""
    if isinstance(ch, Node):
        return ch.data
    if isinstance(ch, (_New, _Merged)):
        return ch.value
    if isinstance(ch, _WMap):
        return {k: _current(c) for k, c in ch.children.items()}
    if isinstance(ch, _WSeq):
        return [_current(c) for c in ch.items]
    raise TypeError(type(ch))  # pragma: no cover


def _subtree_anchors(n: Node, out: set[int]) -> None:
    if n.anchor is not None:
        out.add(id(n))
    if isinstance(n, MapNode):
        for k, v, _ks in n.entries:
            _subtree_anchors(k, out)
            _subtree_anchors(v, out)
    elif isinstance(n, SeqNode):
        for it in n.items:
            _subtree_anchors(it, out)


class _State:
    __slots__ = ("doc", "root", "empty", "anchors", "dirty", "expand")

    def __init__(self, doc: SourceDoc) -> None:
        self.doc = doc
        #: stands for the missing root of an empty document until an op replaces it
        self.empty = _New(None, None, True)
        self.root: Any = doc.root if doc.root is not None else self.empty
        self.anchors = bool(doc.anchored)
        self.dirty: set[int] = set()  # ids of anchored nodes whose content changes
        self.expand: set[int] = set()  # ids of alias sites to rewrite as copies

    # -- descent ---------------------------------------------------------------------------

    def _wrap(self, n: Node, touch_only: bool = False) -> Any:
        if self.anchors and not touch_only and n.anchor is not None:
            self.dirty.add(id(n))
        if isinstance(n, MapNode):
            return _WMap(n)
        if isinstance(n, SeqNode):
            return _WSeq(n)
        raise PatchError("cannot descend into a scalar")

    def _enter(self, ch: Any) -> tuple[Any, Any]:
        """(what to store in the parent slot, the handle to continue with) for writing."""
        if isinstance(ch, (_WMap, _WSeq)):
            return ch, ch
        if isinstance(ch, (MapNode, SeqNode)):
            w = self._wrap(ch)
            return w, w
        if isinstance(ch, AliasNode):
            nw = _New(copy_data(ch.data), ch, True)
            return nw, nw.value
        if isinstance(ch, _Merged):
            nw = _New(copy_data(ch.value), None, True)
            return nw, nw.value
        if isinstance(ch, _New):
            if not ch.owned:
                ch.value = copy_data(ch.value)
                ch.owned = True
            return ch, ch.value
        raise PatchError("cannot descend into a scalar")

    def _step(self, cur: Any, tok: str) -> Any:
        if isinstance(cur, _WMap):
            ch = cur.children.get(tok, _MISSING)
            if ch is _MISSING:
                raise PatchError(f"no member {tok!r}")
            store, h = self._enter(ch)
            if store is not ch:
                cur.children[tok] = store
        elif isinstance(cur, _WSeq):
            i = _index(tok, len(cur.items))
            ch = cur.items[i]
            store, h = self._enter(ch)
            if store is not ch:
                cur.items[i] = store
        elif isinstance(cur, dict):
            if tok not in cur:
                raise PatchError(f"no member {tok!r}")
            h = cur[tok]
        elif isinstance(cur, list):
            h = cur[_index(tok, len(cur))]
        else:
            raise PatchError("cannot descend into a scalar")
        if not isinstance(h, (dict, list, _WMap, _WSeq)):
            raise PatchError("cannot descend into a scalar")
        return h

    def _parent(self, toks: list[str]) -> Any:
        root = self.root
        if isinstance(root, (ScalarNode, _New)) and not isinstance(
            getattr(root, "value", None), (dict, list)
        ):
            raise PatchError("the document is not a container")
        store, cur = self._enter(root)
        if store is not root:
            self.root = store
        for t in toks:
            cur = self._step(cur, t)
        return cur

    def _removed(self, ch: Any) -> None:
        if not self.anchors:
            return
        o = _orig_of(ch)
        if o is not None and not isinstance(ch, _New):
            _subtree_anchors(o, self.dirty)

    # -- ops -------------------------------------------------------------------------------

    def get(self, toks: list[str]) -> Any:
        """The current value at a path (read only: nothing is wrapped or copied)."""
        cur: Any = self.root
        i = 0
        while i < len(toks) and isinstance(cur, (_WMap, _WSeq)):
            t = toks[i]
            if isinstance(cur, _WMap):
                cur = cur.children.get(t, _MISSING)
                if cur is _MISSING:
                    raise PatchError(f"no member {t!r}")
            else:
                cur = cur.items[_index(t, len(cur.items))]
            i += 1
        d = _current(cur)
        for t in toks[i:]:
            if isinstance(d, dict):
                d = d.get(t, _MISSING)
                if d is _MISSING:
                    raise PatchError(f"no member {t!r}")
            elif isinstance(d, list):
                d = d[_index(t, len(d))]
            else:
                raise PatchError("cannot descend into a scalar")
        return d

    def add(self, toks: list[str], value: Any, must_exist: bool = False) -> None:
        if not toks:
            old = self.root
            self._removed(old)
            self.root = _New(value, _orig_of(old))
            return
        parent = self._parent(toks[:-1])
        last = toks[-1]
        if not isinstance(parent, (_WMap, _WSeq, dict, list)):
            raise PatchError("cannot add into a scalar")
        if isinstance(parent, _WMap):
            old = parent.children.get(last, _MISSING)
            if old is _MISSING:
                if must_exist:
                    raise PatchError(f"no member {last!r} to replace")
                parent.children[last] = _New(value, None)
            else:
                self._removed(old)
                parent.children[last] = _New(value, _orig_of(old))
        elif isinstance(parent, _WSeq):
            items = parent.items
            if must_exist:
                i = _index(last, len(items))
                self._removed(items[i])
                items[i] = _New(value, _orig_of(items[i]))
            else:
                i = len(items) if last == "-" else _index(last, len(items) + 1)
                items.insert(i, _New(value, None))
        elif isinstance(parent, dict):
            if must_exist and last not in parent:
                raise PatchError(f"no member {last!r} to replace")
            parent[last] = copy_data(value)
        else:
            if must_exist:
                parent[_index(last, len(parent))] = copy_data(value)
            else:
                i = len(parent) if last == "-" else _index(last, len(parent) + 1)
                parent.insert(i, copy_data(value))

    def remove(self, toks: list[str]) -> None:
        if not toks:
            self.add(toks, None)
            return
        parent = self._parent(toks[:-1])
        last = toks[-1]
        if not isinstance(parent, (_WMap, _WSeq, dict, list)):
            raise PatchError("cannot remove from a scalar")
        if isinstance(parent, _WMap):
            old = parent.children.pop(last, _MISSING)
            if old is _MISSING:
                raise PatchError(f"no member {last!r} to remove")
            self._removed(old)
            if last in parent.node.merge_keys:
                parent.expand_merge = True  # else the merged value would show through
        elif isinstance(parent, _WSeq):
            i = _index(last, len(parent.items))
            self._removed(parent.items.pop(i))
        elif isinstance(parent, dict):
            if last not in parent:
                raise PatchError(f"no member {last!r} to remove")
            del parent[last]
        else:
            del parent[_index(last, len(parent))]

    def apply(self, op: dict[str, Any]) -> None:
        kind = op.get("op")
        try:
            toks = parse_pointer(op["path"])
        except (KeyError, ValueError) as e:
            raise PatchError(f"bad path in {op!r}") from e
        if ("value" not in op and kind in ("add", "replace", "test")) or (
            "from" not in op and kind in ("move", "copy")
        ):
            raise PatchError(f"incomplete op {op!r}")
        if kind == "add":
            self.add(toks, op["value"])
        elif kind == "replace":
            self.add(toks, op["value"], must_exist=True)
        elif kind == "remove":
            self.remove(toks)
        elif kind in ("move", "copy"):
            src = parse_pointer(op["from"])
            value = copy_data(self.get(src))
            if kind == "move":
                if toks[: len(src)] == src and len(toks) > len(src):
                    raise PatchError("cannot move a value into itself")
                self.remove(src)
            self.add(toks, value)
        elif kind == "test":
            if not strict_equal(self.get(toks), op.get("value")):
                raise PatchError(f"test failed: {op['path']}")
        else:
            raise PatchError(f"unknown op {kind!r}")


def _index(tok: str, size: int) -> int:
    if not tok.isdigit() or (len(tok) > 1 and tok[0] == "0"):
        raise PatchError(f"bad list index {tok!r}")
    i = int(tok)
    if i >= size:
        raise PatchError(f"list index {i} out of range")
    return i


# --- rendering -----------------------------------------------------------------------------

_MAPVAL: Final = 0  # value of a block mapping entry (ind = colon end, col = key column)
_SEQITEM: Final = 1  # block sequence item (ind = dash position, col = dash column)
_FLOW: Final = 2  # value inside a flow collection
_ROOT: Final = 3


class _Slot:
    __slots__ = ("kind", "old", "ind", "col")

    def __init__(self, kind: int, old: Node | None, ind: int = 0, col: int = 0) -> None:
        self.kind = kind
        self.old = old
        self.ind = ind
        self.col = col


_FLOW_SEP: Final = re.compile(r"[ \t]*,[ \t]*(?:\r?\n[ \t]*)?")
_KEY_SEP: Final = re.compile(r"[ \t]*:[ \t]*")


def _is_empty(n: Node) -> bool:
    return isinstance(n, ScalarNode) and n.style == "" and n.value == "" and n.tag is None


def _is_block(n: Node | None) -> bool:
    return isinstance(n, (MapNode, SeqNode)) and not n.flow


class _Renderer:
    def __init__(self, doc: SourceDoc, state: _State) -> None:
        text = doc.text
        self.text = text
        self.doc = doc
        self.state = state
        i = text.find("\n")
        self.nl = "\r\n" if i > 0 and text[i - 1] == "\r" else "\n"
        self.edits: list[tuple[int, int, int, str]] = []
        self._vend: dict[int, int] = {}
        self._style: BlockStyle | None = None
        root = doc.root
        self.json = False
        self.json_indent: int | None = None
        self.json_item_sep = ", "
        self.json_key_sep = ": "
        if isinstance(root, (MapNode, SeqNode)) and root.flow:
            if isinstance(root, MapNode):
                self.json = all(
                    isinstance(k, ScalarNode) and k.style == '"' for k, _v, _ks in root.entries
                )
            else:
                self.json = text.lstrip().startswith("[")
            if self.json:
                self._detect_json(root)

    # -- text helpers ----------------------------------------------------------------------

    def edit(self, s: int, e: int, t: str) -> None:
        self.edits.append((s, e, len(self.edits), t))

    def line_start(self, p: int) -> int:
        return self.text.rfind("\n", 0, p) + 1

    def line_end(self, p: int) -> int:
        text = self.text
        i = text.find("\n", p)
        if i < 0:
            return len(text)
        if i > p and text[i - 1] == "\r":
            return i - 1
        return i

    def next_line(self, p: int) -> int:
        i = self.text.find("\n", p)
        return len(self.text) if i < 0 else i + 1

    def col(self, p: int) -> int:
        return p - self.line_start(p)

    def line_indent(self, p: int) -> int:
        s = self.line_start(p)
        line = self.text[s : self.line_end(s)]
        return len(line) - len(line.lstrip(" "))

    def glued_end(self, p: int, min_col: int, strict: bool) -> int:
        """End of the last comment line glued below the line of ``p`` (no blank line between)
        indented at least ``min_col`` (more than it when ``strict``); else the end of p's line."""
        text = self.text
        end = self.line_end(p)
        n = len(text)
        s = self.next_line(p)
        while s < n:
            le = self.line_end(s)
            line = text[s:le]
            stripped = line.lstrip(" \t")
            if not stripped.startswith("#"):
                break
            c = len(line) - len(stripped)
            if c < min_col or (strict and c == min_col):
                break
            end = le
            s = self.next_line(s)
        return end

    def lead_start(self, p: int, max_col: int) -> int:
        """Start of the comment lines directly above the line of ``p`` (no blank line between)
        indented no deeper than ``max_col``; else the start of p's line."""
        text = self.text
        s = self.line_start(p)
        while s > 0:
            ps = self.line_start(s - 1)
            line = text[ps : self.line_end(ps)]
            stripped = line.lstrip(" \t")
            if not stripped.startswith("#") or len(line) - len(stripped) > max_col:
                break
            s = ps
        return s

    def after_line(self, le: int) -> tuple[int, str]:
        """Insertion point after the line ending at ``le`` and the prefix new lines need."""
        if le >= len(self.text):
            return len(self.text), self.nl
        return self.next_line(le), ""

    def vend(self, n: Node) -> int:
        """End of a node's last content character (block collections: of their last value)."""
        key = id(n)
        r = self._vend.get(key)
        if r is not None:
            return r
        if isinstance(n, MapNode) and not n.flow:
            r = self.vend(n.entries[-1][1])
        elif isinstance(n, SeqNode) and not n.flow:
            r = self.vend(n.items[-1])
        elif isinstance(n, ScalarNode) and n.style in ("|", ">"):
            r = self._block_scalar_end(n)
        else:
            r = n.end
        self._vend[key] = r
        return r

    def _block_scalar_end(self, n: ScalarNode) -> int:
        text = self.text
        hs = n.start
        head = text[hs : self.line_end(hs)].split()
        ind = next((t for t in head if t[0] in "|>"), "|")
        e = n.end
        if "+" in ind:
            if e > hs and text[e - 1] == "\n":
                e -= 1
                if text[e - 1] == "\r":
                    e -= 1
            return e
        floor = self.line_end(hs)
        while e > floor and text[e - 1] in " \t\r\n":
            e -= 1
        return e

    def map_col(self, m: MapNode) -> int:
        """Column of a block mapping's keys: that of a key starting its line (the first key
        of ``- key: v`` or ``? key`` does not), else of the first key."""
        text = self.text
        for k, _v, _ks in m.entries:
            p = k.start
            ls = self.line_start(p)
            j = p - 1
            while j >= ls and text[j] in " \t":
                j -= 1
            if j >= ls and text[j] == "?":  # "? key": the entry starts at the "?"
                p = j
            if text[ls:p].strip(" \t") == "":
                return p - ls
        return self.col(m.entries[0][0].start)

    def colon_end(self, k: Node) -> int:
        text = self.text
        i = k.end
        n = len(text)
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == ":":
            return i + 1
        raise _Unsupported("no ':' after key")

    def dash_pos(self, item: Node) -> int:
        text = self.text
        j = item.start - 1
        while j >= 0 and text[j] in " \t":
            j -= 1
        if j >= 0 and text[j] == "-":
            return j
        s = self.line_start(item.start)
        while s > 0:
            s = self.line_start(s - 1)
            line = text[s : self.line_end(s)]
            stripped = line.lstrip(" \t")
            if not stripped or stripped[0] == "#":
                continue
            k = line.find(" #")
            body = (line[:k] if k >= 0 else line).rstrip(" \t")
            if body.endswith("-"):
                return s + len(body) - 1
            break
        raise _Unsupported("cannot find the '-' of a sequence item")

    # -- style -----------------------------------------------------------------------------

    def doc_style(self) -> BlockStyle:
        if self._style is None:
            self._style = self._detect_style()
        return self._style

    def _detect_style(self) -> BlockStyle:
        found: dict[str, int] = {}
        stack: list[Node] = [self.doc.root] if self.doc.root is not None else []
        budget = 400
        while stack and len(found) < 3 and budget:
            budget -= 1
            n = stack.pop()
            if isinstance(n, MapNode) and not n.flow:
                kc = self.map_col(n)
                for _k, v, _ks in n.entries:
                    if isinstance(v, MapNode) and not v.flow and "indent" not in found:
                        d = self.map_col(v) - kc
                        if d > 0:
                            found["indent"] = d
                    elif isinstance(v, SeqNode) and not v.flow and "seq" not in found:
                        try:
                            d = self.col(self.dash_pos(v.items[0])) - kc
                        except _Unsupported:
                            d = -1
                        if d >= 0:
                            found["seq"] = d
                stack.extend(v for _k, v, _ks in reversed(n.entries))
            elif isinstance(n, SeqNode) and not n.flow:
                if "off" not in found:
                    d = self._item_offset(n)
                    if d:
                        found["off"] = d
                stack.extend(reversed(n.items))
        indent = found.get("indent", 2)
        return BlockStyle(indent, found.get("seq", indent), found.get("off", 2))

    def _item_offset(self, seq: SeqNode, dashes: list[int] | None = None) -> int:
        """Column of compact item content (``- name: x``, ``- - a``) relative to its dash,
        from the first item that shows one; 0 if none does."""
        for i, it in enumerate(seq.items):
            if isinstance(it, MapNode) and not it.flow:
                first = it.entries[0][0].start
            elif isinstance(it, SeqNode) and not it.flow:
                first = it.items[0].start
                j = first - 1
                while j > 0 and self.text[j] in " \t":
                    j -= 1
                first = j  # the inner dash
            else:
                continue
            try:
                dp = dashes[i] if dashes is not None else self.dash_pos(it)
            except _Unsupported:
                continue
            if first - dp >= 2 and self.line_start(first) == self.line_start(dp):
                return first - dp
        return 0

    def _detect_json(self, root: MapNode | SeqNode) -> None:
        text = self.text
        kids: list[tuple[int, int, int]] = []  # (start, key end or -1, value start)
        if isinstance(root, MapNode):
            kids = [(k.start, k.end, v.start) for k, v, _ks in root.entries]
        else:
            kids = [(it.start, -1, it.start) for it in root.items]
        if not kids:
            return
        bracket = text.find("{" if isinstance(root, MapNode) else "[", root.start)
        if self.line_start(kids[0][0]) != self.line_start(bracket):
            self.json_indent = max(1, self.col(kids[0][0]) - self.line_indent(bracket))
        if kids[0][1] >= 0:
            sep = text[kids[0][1] : kids[0][2]]
            if _KEY_SEP.fullmatch(sep):
                self.json_key_sep = sep
        if len(kids) > 1:
            first = root.entries[0][1] if isinstance(root, MapNode) else root.items[0]
            sep = text[self.vend(first) : kids[1][0]]
            if _FLOW_SEP.fullmatch(sep) and "\n" not in sep:
                self.json_item_sep = sep

    # -- value text ------------------------------------------------------------------------

    def scalar_text(self, value: Any, old: Node | None, flow: bool) -> str:
        """A scalar, keeping ``old``'s quoting style when the new value allows it."""
        if self.json:
            return dump_json(value)
        if not isinstance(value, str) or not isinstance(old, ScalarNode):
            return dump_scalar(value, flow)
        st = old.style
        if st == "'" and single_quoted_ok(value):
            return single_quoted(value)
        if st == '"':
            return double_quoted(value)
        if st == "" and plain_ok(value, flow):
            return value
        return dump_scalar(value, flow)

    def flow_text(self, value: Any, old: Node | None, base: int) -> str:
        if self.json:
            if isinstance(value, (dict, list)):
                return dump_json(
                    value, self.json_indent, base, self.json_item_sep, self.json_key_sep
                )
            return dump_json(value)
        if isinstance(value, (dict, list)):
            return dump_flow(value)
        return self.scalar_text(value, old, True)

    def block_value(
        self, value: Any, old: Node | None, slot: _Slot, st: BlockStyle, flow_pref: bool
    ) -> tuple[str, list[str], bool]:
        """(header on the slot's line, body lines below, whether the header is a compact
        container that must start right after the dash)."""
        if isinstance(value, (dict, list)):
            if not value:
                return ("{}" if isinstance(value, dict) else "[]"), [], False
            if flow_pref:
                return dump_flow(value), [], False
            body: list[str] = []
            if slot.kind == _MAPVAL:
                c = slot.col
                block_lines(
                    value,
                    c + (st.indent if isinstance(value, dict) else st.seq_indent),
                    st,
                    body,
                )
                return "", body, False
            d = slot.col
            item_lines(value, d, st, body)
            return body[0][d + 1 :], body[1:], True
        if isinstance(value, str) and "\n" in value:
            if not (isinstance(old, ScalarNode) and old.style == '"') and literal_ok(value):
                step = st.indent if slot.kind == _MAPVAL else st.item_offset
                body = []
                literal_body(value, slot.col + step, body)
                return literal_header(value, step), body, False
            return double_quoted(value), [], False
        if value is None and slot.kind == _MAPVAL and _is_block(old):
            return "", [], False
        return self.scalar_text(value, old, False), [], False

    # -- replacing a value in its slot -----------------------------------------------------

    def replace(self, slot: _Slot, value: Any, st: BlockStyle, flow_pref: bool = False) -> None:
        old = slot.old
        k = slot.kind
        if k == _ROOT:
            self.replace_root(value, st)
            return
        assert old is not None
        if k == _FLOW:
            self.edit(
                old.start, self.vend(old), self.flow_text(value, old, self.line_indent(old.start))
            )
            return
        header, body, compact = self.block_value(value, old, slot, st, flow_pref)
        ve = self.vend(old)
        old_block = _is_block(old) or _is_empty(old)
        if _is_block(old):
            # comment lines glued below a block value, deeper than its key/dash, are its own
            ve = self.glued_end(ve, slot.col, True)
        if k == _MAPVAL:
            if not header or old_block:
                start = slot.ind
                htext = " " + header if header else ""
            else:
                start, htext = old.start, header
        elif compact:
            start, htext = slot.ind + 1, header
        elif old_block:
            start, htext = slot.ind + 1, " " + header
        else:
            start, htext = old.start, header
        if body:
            nl = self.nl
            btext = nl + nl.join(body)
            le = self.line_end(ve)
            if le == ve:
                self.edit(start, ve, htext + btext)
            else:
                self.edit(start, ve, htext)
                self.edit(le, le, btext)
        else:
            self.edit(start, ve, htext)

    def replace_root(self, value: Any, st: BlockStyle) -> None:
        root = self.doc.root
        text = self.text
        nl = self.nl
        if self.json or (isinstance(root, (MapNode, SeqNode)) and root.flow):
            if self.json:
                t = dump_json(value, self.json_indent, 0, self.json_item_sep, self.json_key_sep)
            else:
                t = dump_flow(value)
            lines = [t]
            col = 0
        elif isinstance(value, (dict, list)) and value:
            col = self.col(root.start) if root is not None else 0
            lines = []
            block_lines(value, col, st, lines)
        else:
            col = 0
            lines = [dump_value_inline(value)]
        if root is None or _is_empty(root):
            # empty document: write after everything, before a closing "..." if there is one
            m = re.search(r"(?m)^\.\.\.[ \t]*(#.*)?\r?$", text)
            pos = m.start() if m else len(text)
            pre = "" if pos == 0 or text[pos - 1] == "\n" else nl
            self.edit(pos, pos, pre + nl.join(lines) + nl)
            return
        if (
            isinstance(value, (dict, list))
            and value
            and not (self.json or (isinstance(root, (MapNode, SeqNode)) and root.flow))
        ):
            ls = self.line_start(root.start)
            if text[ls : root.start].strip(" \t"):  # "--- 5": a block cannot start there
                self.edit(root.start, self.vend(root), nl + nl.join(ln[col:] for ln in lines))
                return
        first = lines[0][col:] if lines[0][:col].strip() == "" else lines[0]
        self.edit(root.start, self.vend(root), nl.join([first, *lines[1:]]))

    # -- walking the working tree ----------------------------------------------------------

    def render_child(self, ch: Any, slot: _Slot, st: BlockStyle) -> None:
        if isinstance(ch, _New):
            if ch.orig is not None or slot.kind == _ROOT:
                self.replace(slot, ch.value, st)
        elif isinstance(ch, (_WMap, _WSeq)):
            mark = len(self.edits)
            try:
                if ch.node.flow:
                    self.render_flow(ch, slot, st)
                elif isinstance(ch, _WMap):
                    self.render_block_map(ch, slot, st)
                else:
                    self.render_block_seq(ch, slot, st)
            except _Unsupported:
                del self.edits[mark:]
                self.replace(slot, _current(ch), st)
        elif isinstance(ch, AliasNode) and id(ch) in self.state.expand:
            t = ch.target
            self.replace(slot, ch.data, st, isinstance(t, (MapNode, SeqNode)) and t.flow)

    def _map_status(self, w: _WMap, expand: bool) -> list[int]:
        """Per original entry: 0 removed, 1 kept (maybe modified inside), 2 replaced."""
        node = w.node
        entries = node.entries
        merges = set(node.merges) if node.merges else ()
        last: dict[str, int] = {}
        for i, (_k, _v, ks) in enumerate(entries):
            if i not in merges:
                last[ks] = i
        ch = w.children
        status = [0] * len(entries)
        for i, (_k, _v, ks) in enumerate(entries):
            if i in merges:
                status[i] = 0 if expand else 1
                continue
            c = ch.get(ks, _MISSING)
            li = last[ks]
            target = entries[li][1]
            if c is target or (isinstance(c, (_WMap, _WSeq)) and c.node is target):
                status[i] = 1
            elif isinstance(c, _New) and c.orig is target:
                status[i] = 2 if i == li else 1
            elif isinstance(c, AliasNode) and c is target:
                status[i] = 1
        return status

    def _merge_expand(self, w: _WMap) -> bool:
        if w.expand_merge:
            return True
        node = w.node
        if not node.merges or not self.state.dirty:
            return False
        dirty = self.state.dirty
        for i in node.merges:
            v = node.entries[i][1]
            for src in v.items if isinstance(v, SeqNode) else [v]:
                t = src.target if isinstance(src, AliasNode) else src
                if id(t) in dirty:
                    return True
        return False

    def _new_entries(self, w: _WMap, expand: bool) -> list[tuple[str, Any]]:
        out = []
        for ks, c in w.children.items():
            if (isinstance(c, _New) and c.orig is None) or (expand and isinstance(c, _Merged)):
                out.append((ks, c.value))
        return out

    def _local_style(self, node: MapNode, col: int, st: BlockStyle) -> BlockStyle:
        """Refine the inherited style with what this mapping's own entries show."""
        indent, seq, off = st
        for _k, v, _ks in node.entries:
            if isinstance(v, MapNode) and not v.flow:
                d = self.map_col(v) - col
                if d > 0:
                    indent = d
            elif isinstance(v, SeqNode) and not v.flow:
                try:
                    d = self.col(self.dash_pos(v.items[0])) - col
                except _Unsupported:
                    continue
                if d >= 0:
                    seq = d
        return BlockStyle(indent, seq, off)

    def render_block_map(self, w: _WMap, slot: _Slot, st: BlockStyle) -> None:
        node = w.node
        entries = node.entries
        expand = self._merge_expand(w)
        status = self._map_status(w, expand)
        kept = [i for i, s in enumerate(status) if s]
        if not kept:
            self.replace(slot, _current(w), st)
            return
        col = self.map_col(node)
        new = self._new_entries(w, expand)
        if new or 2 in status:
            st = self._local_style(node, col, st)
        children = w.children
        for i, (k, v, ks) in enumerate(entries):
            s = status[i]
            if s == 0:
                j = k.start - 1
                while j > 0 and self.text[j] in " \t":
                    j -= 1
                if self.text[j] == "?":
                    raise _Unsupported("explicit key")
                self._delete_lines(k.start, self.glued_end(self.vend(v), col, True), i == 0)
                continue
            c = children.get(ks) if i not in node.merges else None
            if c is None or (s == 1 and _orig_of(c) is not v):
                continue
            if s == 2 or isinstance(c, (_WMap, _WSeq, AliasNode)):
                cst = st
                if isinstance(c, _WMap) and not c.node.flow:
                    cst = st._replace(indent=max(1, self.map_col(c.node) - col))
                elif isinstance(c, _WSeq) and not c.node.flow:
                    cst = st._replace(
                        seq_indent=max(0, self.col(self.dash_pos(c.node.items[0])) - col)
                    )
                self.render_child(c, _Slot(_MAPVAL, v, self.colon_end(k), col), cst)
        if new:
            r = kept[-1]
            tail = self.glued_end(self.vend(entries[r][1]), col, False)
            pos, pre = self.after_line(tail)
            out: list[str] = []
            for ks, val in new:
                entry_lines(ks, val, col, st, out)
            nl = self.nl
            self.edit(pos, pos, pre + nl.join(out) + ("" if pre else nl))

    def _delete_lines(self, start: int, ext: int, first: bool) -> None:
        """Delete the lines of an entry/item starting at ``start`` through ``ext``.

        When something precedes ``start`` on its line (a compact ``- key: v`` or ``- - a``),
        only the entry's text goes and the line keeps its ``-``: ``-`` followed by the
        remaining entries on their own lines is the same YAML. (A compact sequence instead
        pulls its next kept item up, see ``render_block_seq``: that mirrors inserting before a
        compact first item, so removing an item this engine added restores the bytes.)
        """
        text = self.text
        ls = self.line_start(start)
        if text[ls:start].strip(" \t") == "":
            self.edit(ls, self.next_line(ext) if ext < len(text) else ext, "")
            return
        if not first:
            raise _Unsupported("entry shares its line")
        j = start
        while j > ls and text[j - 1] in " \t":
            j -= 1
        self.edit(j, ext, "")

    def render_block_seq(self, w: _WSeq, slot: _Slot, st: BlockStyle) -> None:
        node = w.node
        orig = node.items
        pos_of = {id(it): i for i, it in enumerate(orig)}
        used = [False] * len(orig)
        final: list[tuple[int, Any]] = []  # (original index or -1, child)
        last = -1
        for c in w.items:
            o = _orig_of(c)
            i = pos_of.get(id(o), -1) if o is not None else -1
            if i >= 0 and not used[i]:
                if i < last:
                    raise _Unsupported("items reordered")
                used[i] = True
                last = i
                final.append((i, c))
            else:
                final.append((-1, c))
        if not any(used):
            self.replace(slot, _current(w), st)
            return
        text = self.text
        dashes = [self.dash_pos(it) for it in orig]
        dcol = self.col(dashes[0])
        compact = text[self.line_start(dashes[0]) : dashes[0]].strip(" \t") != ""
        off = self._item_offset(node, dashes)
        ist = st._replace(item_offset=off) if off else st
        nl = self.nl
        skip = 0
        if compact and not used[0]:
            # "- - a\n  - b": the first kept item moves up onto the dash line when only the
            # removed items (no comments) lie before it
            k = used.index(True)
            exts = [self.glued_end(self.vend(orig[r]), dcol, True) for r in range(k)]
            if all(text[exts[r] : dashes[r + 1]].strip(" \t\r\n") == "" for r in range(k)):
                self.edit(dashes[0], dashes[k], "")
                skip = k
        for i, it in enumerate(orig):
            if not used[i] and i >= skip:
                ext = self.glued_end(self.vend(it), dcol, True)
                self._delete_lines(dashes[i], ext, i == 0)
        pending: list[Any] = []
        for i, c in final:
            if i < 0:
                pending.append(_current(c))
                continue
            if pending:
                out: list[str] = []
                for v in pending:
                    item_lines(v, dcol, ist, out)
                if compact and i == skip:
                    # "- - a": the new items take the dash line, the old first item moves down
                    pos = dashes[i]
                    self.edit(pos, pos, nl.join([out[0][dcol:], *out[1:]]) + nl + " " * dcol)
                else:
                    pos = self.lead_start(dashes[i], dcol)
                    self.edit(pos, pos, nl.join(out) + nl)
                pending = []
            it = orig[i]
            if isinstance(c, (_New, _WMap, _WSeq, AliasNode)):
                self.render_child(c, _Slot(_SEQITEM, it, dashes[i], dcol), ist)
        if pending:
            r = max(i for i, _c in final if i >= 0)
            tail = self.glued_end(self.vend(orig[r]), dcol, False)
            pos, pre = self.after_line(tail)
            out = []
            for v in pending:
                item_lines(v, dcol, ist, out)
            self.edit(pos, pos, pre + nl.join(out) + ("" if pre else nl))

    def render_flow(self, w: _WMap | _WSeq, slot: _Slot, st: BlockStyle) -> None:
        node = w.node
        text = self.text
        is_map = isinstance(w, _WMap)
        # original children: (start, end, value node, status, child)
        kids: list[tuple[int, int, Node, int, Any]] = []
        new_items: list[tuple[int, Any]] = []  # seq: (insert before original index, value)
        appended: list[tuple[str | None, Any]] = []
        if isinstance(w, _WMap):
            mnode = w.node
            expand = self._merge_expand(w)
            status = self._map_status(w, expand)
            for i, (k, v, ks) in enumerate(mnode.entries):
                c = w.children.get(ks) if i not in mnode.merges else None
                kids.append((k.start, max(self.vend(v), k.end), v, status[i], c))
            appended = [(ks, val) for ks, val in self._new_entries(w, expand)]
        else:
            snode = w.node
            orig = snode.items
            pos_of = {id(it): i for i, it in enumerate(orig)}
            used: list[Any] = [None] * len(orig)
            last = -1
            order: list[tuple[int, Any]] = []
            for c in w.items:
                o = _orig_of(c)
                i = pos_of.get(id(o), -1) if o is not None else -1
                if i >= 0 and used[i] is None:
                    if i < last:
                        raise _Unsupported("items reordered")
                    used[i] = c
                    last = i
                    order.append((i, c))
                else:
                    order.append((-1, c))
            pend: list[Any] = []
            for i, c in order:
                if i < 0:
                    pend.append(_current(c))
                else:
                    new_items.extend((i, v) for v in pend)
                    pend = []
            appended = [(None, v) for v in pend]
            for i, it in enumerate(orig):
                c = used[i]
                s = 0 if c is None else (2 if isinstance(c, _New) else 1)
                kids.append((it.start, self.vend(it), it, s, c))
        kept = [i for i, kd in enumerate(kids) if kd[3]]
        if not kept:
            data = _current(w)
            if not kids and not self.json and slot.kind in (_MAPVAL, _SEQITEM):
                self.replace(slot, data, st)  # empty {} / [] in block context: go block
            elif slot.kind == _ROOT:
                self.replace_root(data, st)
            else:
                self.edit(
                    node.start, node.end, self.flow_text(data, None, self.line_indent(node.start))
                )
            return
        bracket = text.find("{" if is_map else "[", node.start)
        multi = self.line_start(kids[0][0]) != self.line_start(bracket)
        r = kept[-1]
        ecol = self.col(kids[r][0])
        sep = None
        if len(kids) > 1:
            between = text[kids[0][1] : kids[1][0]]
            if _FLOW_SEP.fullmatch(between) and ("\n" in between) == multi:
                sep = between
        if sep is None:
            inline = self.json_item_sep if self.json else ", "
            sep = "," + self.nl + " " * ecol if multi else inline
        ksep = self.json_key_sep if self.json else ": "
        if is_map:
            k0 = node.entries[0][0]  # type: ignore[union-attr]
            between = text[k0.end : node.entries[0][1].start]  # type: ignore[union-attr]
            if _KEY_SEP.fullmatch(between):
                ksep = between
        base = ecol if multi else self.line_indent(kids[r][0])

        def item_text(key: str | None, value: Any) -> str:
            if self.json:
                vt = dump_json(
                    value,
                    self.json_indent if multi else None,
                    base,
                    self.json_item_sep,
                    self.json_key_sep,
                )
                return vt if key is None else dump_json(key) + ksep + vt
            vt = dump_flow(value)
            if key is None:
                return vt
            return dump_scalar(key, True) + ksep + vt

        # removals
        n = len(kids)
        for i in range(n):
            if kids[i][3] == 0 and i < r:
                self.edit(kids[i][0], kids[i + 1][0], "")
        if r < n - 1:
            self.edit(kids[r][1], kids[n - 1][1], "")
        # modifications
        for i in kept:
            s0, _e0, vnode, s, c = kids[i]
            if (
                c is not None
                and _orig_of(c) is vnode
                and (s == 2 or isinstance(c, (_WMap, _WSeq, AliasNode)))
            ):
                self.render_child(c, _Slot(_FLOW, vnode), st)
        # insertions
        for i, v in new_items:
            self.edit(kids[i][0], kids[i][0], item_text(None, v) + sep)
        if appended:
            t = "".join(sep + item_text(k, v) for k, v in appended)
            self.edit(kids[r][1], kids[r][1], t)

    # -- aliases ---------------------------------------------------------------------------

    def mark_alias_expansions(self) -> None:
        """Find alias sites of changed/removed anchors that are still in the output and mark
        them (and the containers on their way) for rewriting as explicit copies."""
        state = self.state
        dirty = state.dirty
        doc = self.doc
        todo = [a for a in doc.aliases if id(a.target) in dirty]
        if not todo or doc.root is None:
            return
        paths = _alias_paths(doc.root)
        for a in todo:
            path = paths.get(id(a))
            if path is None:
                continue
            cur: Any = state.root
            if cur is doc.root:
                if isinstance(cur, AliasNode):
                    state.expand.add(id(a))
                    continue
                cur = state._wrap(cur, touch_only=True)
                state.root = cur
            elif not (isinstance(cur, (_WMap, _WSeq)) and cur.node is doc.root):
                continue
            for parent, key, child in path:
                if not (isinstance(cur, (_WMap, _WSeq)) and cur.node is parent):
                    cur = None
                    break
                if isinstance(key, tuple):  # inside a "<<" merge entry
                    assert isinstance(cur, _WMap)
                    cur.expand_merge = True
                    cur = None
                    break
                if isinstance(cur, _WMap):
                    c = cur.children.get(key, _MISSING)
                    if c is child:
                        if child is a:
                            state.expand.add(id(a))
                            cur = None
                            break
                        cur.children[key] = cur2 = state._wrap(child, touch_only=True)
                        cur = cur2
                    elif isinstance(c, (_WMap, _WSeq)) and c.node is child:
                        cur = c
                    else:
                        cur = None
                        break
                else:
                    items = cur.items
                    j = next(
                        (
                            j
                            for j, c in enumerate(items)
                            if c is child or (isinstance(c, (_WMap, _WSeq)) and c.node is child)
                        ),
                        -1,
                    )
                    if j < 0:
                        cur = None
                        break
                    c = items[j]
                    if c is child:
                        if child is a:
                            state.expand.add(id(a))
                            cur = None
                            break
                        items[j] = cur2 = state._wrap(child, touch_only=True)
                        cur = cur2
                    else:
                        cur = c

    # -- driver ----------------------------------------------------------------------------

    def run(self) -> str:
        state = self.state
        if state.dirty:
            self.mark_alias_expansions()
        root = state.root
        if root is state.empty:
            return self.text
        st = DEFAULT_STYLE if self.json else self.doc_style()
        self.render_child(root, _Slot(_ROOT, self.doc.root), st)
        edits = sorted(self.edits)
        text = self.text
        parts: list[str] = []
        pos = 0
        for s, e, _n, t in edits:
            if s < pos:
                raise AssertionError(f"overlapping edits at {s}")  # pragma: no cover
            parts.append(text[pos:s])
            parts.append(t)
            pos = e
        parts.append(text[pos:])
        return "".join(parts)


def _alias_paths(root: Node) -> dict[int, list[tuple[Node, Any, Node]]]:
    """For every alias site: the (container, key or index, child) steps from the root."""
    out: dict[int, list[tuple[Node, Any, Node]]] = {}

    def walk(n: Node, path: list[tuple[Node, Any, Node]]) -> None:
        if isinstance(n, AliasNode):
            out[id(n)] = list(path)
        elif isinstance(n, MapNode):
            ms = set(n.merges)
            for i, (_k, v, ks) in enumerate(n.entries):
                path.append((n, ("<<", i) if i in ms else ks, v))
                walk(v, path)
                path.pop()
        elif isinstance(n, SeqNode):
            for i, it in enumerate(n.items):
                path.append((n, i, it))
                walk(it, path)
                path.pop()

    walk(root, [])
    return out


def apply_patch_to_text(doc: SourceDoc, ops: list[dict[str, Any]]) -> str:
    """The document's text with ``ops`` applied (see the module docstring for the rules)."""
    if not ops:
        return doc.text
    state = _State(doc)
    for op in ops:
        state.apply(op)
    return _Renderer(doc, state).run()


__all__ = ["PatchError", "apply_patch_to_text"]
