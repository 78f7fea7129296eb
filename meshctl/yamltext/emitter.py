"""A small, fast emitter for NEW YAML/JSON content spliced into a user's document.

Why not ruamel's emitter: it is built for whole documents and is slow; the edit engine only
needs to write fragments (a few keys, a container, one scalar) at a known column, thousands of
times per run. Everything here is plain string building over plain data.

Scalars are written so that they read back as the same value under YAML 1.1 (PyYAML, go-yaml v2,
which Kubernetes uses) AND YAML 1.2 (ruamel): plain when that is safe in both, otherwise single
quotes when no escape is needed, otherwise double quotes with JSON-compatible escapes.
Multi-line strings in block context become literal block scalars (``|``, ``|-``) when that
round-trips exactly; in flow context they are double-quoted.
"""

from __future__ import annotations

import json
import math
import re
from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final

#: Indentation of block content. indent: spaces per mapping level; seq_indent: column of ``-``
#: relative to the parent key (0 for ``key:\\n- a``, 2 for ``key:\\n  - a``); item_offset: column
#: of an item's content relative to its ``-`` (2 for ``- name: x``).
BlockStyle = namedtuple("BlockStyle", ("indent", "seq_indent", "item_offset"), defaults=(2, 2, 2))


DEFAULT_STYLE: Final = BlockStyle()

# --- scalar safety -------------------------------------------------------------------------

#: Words any YAML 1.1 or 1.2 reader (or go-yaml v2) resolves to bool/null/merge/value.
_SPECIAL_WORDS: Final = frozenset(
    {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "<<", "="}
)
#: Characters that may not start a plain scalar (YAML indicators, plus space).
_BAD_FIRST: Final = frozenset("-?:,[]{}#&*!|>'\"%@` \t")
#: Characters that make a plain scalar unsafe inside a flow collection (libyaml also rejects
#: ``?`` inside a flow plain scalar).
_FLOW_BAD: Final = re.compile(r"[,\[\]{}:?]")
#: Anything that needs double quotes (line breaks, non-printables, BOM, YAML 1.1 breaks).
_NEEDS_DOUBLE: Final = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]"
)
#: Characters json.dumps(ensure_ascii=False) leaves raw but YAML cannot read raw.
_JSON_FIXUP: Final = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_SEXAGESIMAL: Final = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_TIMESTAMP_PREFIX: Final = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")
_YAML11_FLOAT: Final = re.compile(
    r"[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?$|[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)$"
)
_YAML11_INT: Final = re.compile(r"[-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$")


def _looks_non_string(s: str) -> bool:
    """True when some YAML 1.1/1.2 reader (or go-yaml v2) would NOT read ``s`` as a string."""
    if s.lower() in _SPECIAL_WORDS:
        return True
    c = s[0]
    if c not in "0123456789+-.":
        return False
    if _YAML11_INT.match(s) or _YAML11_FLOAT.match(s) or _SEXAGESIMAL.match(s):
        return True
    if _TIMESTAMP_PREFIX.match(s):
        return True
    t = s.replace("_", "")
    if t[:3].lower() in ("0x", "+0x", "-0x"):
        return True  # go's ParseFloat reads hex floats
    try:
        float(t)
    except ValueError:
        pass
    else:
        return True
    try:
        int(t, 0)
    except ValueError:
        return False
    return True


def plain_ok(s: str, flow: bool = False) -> bool:
    """Can ``s`` be written as a plain (unquoted) scalar and read back as the same string?"""
    if not s or s[-1] in " \t:":
        return False
    if s[0] in _BAD_FIRST and (s[0] != "-" or len(s) < 2 or s[1] == " "):
        return False  # "-x" is plain-safe ("--domain", "-p"), "-" and "- x" are not
    if "\t" in s or ": " in s or " #" in s or _NEEDS_DOUBLE.search(s):
        return False
    if s.startswith(("---", "...")):
        return False
    if flow and _FLOW_BAD.search(s):
        return False
    return not _looks_non_string(s)


def single_quoted_ok(s: str) -> bool:
    """Single quotes represent any printable one-line string (``'`` doubles)."""
    return _NEEDS_DOUBLE.search(s) is None


def double_quoted(s: str) -> str:
    """A double-quoted scalar; its escapes are JSON escapes, so it is valid JSON as well."""
    out = json.dumps(s, ensure_ascii=False)
    if _JSON_FIXUP.search(out):
        out = _JSON_FIXUP.sub(lambda m: f"\\u{ord(m.group()):04x}", out)
    return out


def single_quoted(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


_STR_CACHE: dict[str, str] = {}
_STR_CACHE_FLOW: dict[str, str] = {}


def _dump_str(s: str, flow: bool) -> str:
    cache = _STR_CACHE_FLOW if flow else _STR_CACHE
    r = cache.get(s)
    if r is not None:
        return r
    if plain_ok(s, flow):
        r = s
    elif single_quoted_ok(s):
        r = single_quoted(s)
    else:
        r = double_quoted(s)
    if len(cache) > 20000:
        cache.clear()
    cache[s] = r
    return r


def dump_float(f: float) -> str:
    """A float that YAML 1.1 and 1.2 both read as a float (1.1 needs a dot in the mantissa)."""
    if math.isnan(f):
        return ".nan"
    if math.isinf(f):
        return ".inf" if f > 0 else "-.inf"
    r = repr(f)
    if "e" in r and "." not in r:
        mant, exp = r.split("e")
        r = mant + ".0e" + exp
    return r


def dump_scalar(value: Any, flow: bool = False) -> str:
    """One-line text of a scalar (multi-line strings come out double-quoted)."""
    if isinstance(value, str):
        return _dump_str(value, flow)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return dump_float(value)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def dump_key(key: Any) -> str:
    """A mapping key (Kubernetes keys are strings; others are written as scalars)."""
    if isinstance(key, str):
        return _dump_str(key, False)
    return dump_scalar(key)


# --- literal block scalars -----------------------------------------------------------------


def literal_ok(s: str) -> bool:
    """Can ``s`` (which contains a line break) be written as a literal block scalar exactly?

    Conservative: no non-printables, no trailing whitespace on any line (whitespace-only lines
    are where block scalar rules get subtle), at least one non-empty line, and not more than one
    trailing line break: a "keep" scalar (``|+``) would also keep the blank lines that follow
    it in the user's text, which then become part of the value.
    """
    if _NEEDS_DOUBLE.search(s.replace("\n", "")) or "\r" in s or s.endswith("\n\n"):
        return False
    lines = s.split("\n")
    has_text = False
    for ln in lines:
        if ln:
            if ln[-1] in " \t":
                return False
            has_text = True
    return has_text


def literal_header(s: str, indicator: int) -> str:
    """``|`` plus indentation indicator (when the text starts with blanks) and chomping."""
    head = "|"
    first = next(ln for ln in s.split("\n") if ln)
    if first[0] in " \t":
        head += str(indicator)
    if not s.endswith("\n"):
        head += "-"
    return head


def literal_body(s: str, col: int, out: list[str]) -> None:
    """Append the content lines of a literal block scalar at ``col``."""
    lines = s.split("\n")
    if s.endswith("\n"):
        lines.pop()
    pad = " " * col
    for ln in lines:
        out.append(pad + ln if ln else "")


# --- block ---------------------------------------------------------------------------------

_PADS: Final = [" " * i for i in range(256)]


def _pad(n: int) -> str:
    return _PADS[n] if n < 256 else " " * n


def _scalar_fast(v: Any) -> str:
    """dump_scalar for the hot path (strings hit the cache first)."""
    t = type(v)
    if t is str:
        r = _STR_CACHE.get(v)
        return r if r is not None else _dump_str(v, False)
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if v is None:
        return "null"
    return dump_scalar(v)


def entry_lines(key: Any, value: Any, col: int, st: BlockStyle, out: list[str]) -> None:
    """Append the lines of ``key: value`` as a block mapping entry at ``col``."""
    if type(key) is str:
        ks = _STR_CACHE.get(key)
        if ks is None:
            ks = _dump_str(key, False)
    else:
        ks = dump_key(key)
    head = (_PADS[col] if col < 256 else " " * col) + ks + ":"
    t = type(value)
    if t is dict:
        if value:
            out.append(head)
            c = col + st.indent
            for k, v in value.items():
                entry_lines(k, v, c, st, out)
        else:
            out.append(head + " {}")
    elif t is list:
        if value:
            out.append(head)
            dcol = col + st.seq_indent
            for v in value:
                item_lines(v, dcol, st, out)
        else:
            out.append(head + " []")
    elif t is str and "\n" in value and literal_ok(value):
        out.append(head + " " + literal_header(value, st.indent))
        literal_body(value, col + st.indent, out)
    else:
        out.append(head + " " + _scalar_fast(value))


def item_lines(value: Any, dash_col: int, st: BlockStyle, out: list[str]) -> None:
    """Append the lines of one block sequence item (``- ...``) with its dash at ``dash_col``."""
    off = st.item_offset
    t = type(value)
    pad = _PADS[dash_col] if dash_col < 256 else " " * dash_col
    if t is dict and value:
        n = len(out)
        c = dash_col + off
        for k, v in value.items():
            entry_lines(k, v, c, st, out)
        out[n] = pad + "-" + out[n][dash_col + 1 :]
    elif t is list and value:
        n = len(out)
        for v in value:
            item_lines(v, dash_col + off, st, out)
        out[n] = pad + "-" + out[n][dash_col + 1 :]
    elif t is str and "\n" in value and literal_ok(value):
        out.append(pad + "- " + literal_header(value, off))
        literal_body(value, dash_col + off, out)
    elif t is dict or t is list:
        out.append(pad + ("- {}" if t is dict else "- []"))
    else:
        out.append(pad + "- " + _scalar_fast(value))


def block_lines(value: Any, col: int, st: BlockStyle, out: list[str]) -> None:
    """Append a non-empty mapping's entries at ``col`` or a sequence's items with dashes at it."""
    if isinstance(value, dict):
        for k, v in value.items():
            entry_lines(k, v, col, st, out)
    elif isinstance(value, list):
        for v in value:
            item_lines(v, col, st, out)
    else:
        raise TypeError("block_lines needs a mapping or a sequence")


def dump_block(
    value: Any,
    indent: int = 2,
    seq_indent: int = 2,
    level_col: int = 0,
    item_offset: int = 2,
) -> str:
    """A block rendering of a container at ``level_col`` (lines joined by ``\\n``, no final
    newline); scalars and empty containers give their one-line form."""
    if isinstance(value, (dict, list)) and value:
        out: list[str] = []
        block_lines(value, level_col, BlockStyle(indent, seq_indent, item_offset), out)
        return "\n".join(out)
    return dump_value_inline(value)


# --- flow / JSON ---------------------------------------------------------------------------


def dump_value_inline(value: Any) -> str:
    """A value on one line in block context: scalars, ``{}``/``[]``, else flow."""
    if isinstance(value, (dict, list)):
        return dump_flow(value)
    return dump_scalar(value)


def dump_flow(value: Any) -> str:
    """A YAML flow rendering on one line (``{a: 1, b: [x, y]}``)."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        return (
            "{"
            + ", ".join(
                (_dump_str(k, True) if isinstance(k, str) else dump_scalar(k)) + ": " + dump_flow(v)
                for k, v in value.items()
            )
            + "}"
        )
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[" + ", ".join(dump_flow(v) for v in value) + "]"
    return dump_scalar(value, True)


def _json_default(o: Any) -> Any:
    raise TypeError(f"cannot write {type(o).__name__} as JSON")


def dump_json(
    value: Any,
    indent: int | None = None,
    base_col: int = 0,
    item_sep: str = ", ",
    key_sep: str = ": ",
) -> str:
    """JSON text of ``value``: compact with the given separators, or pretty with ``indent``
    spaces per level where continuation lines start at ``base_col`` (the caller's column)."""
    if indent is None:
        out = json.dumps(value, ensure_ascii=False, separators=(item_sep, key_sep))
    else:
        out = json.dumps(value, ensure_ascii=False, indent=indent, separators=(",", key_sep))
        if base_col and "\n" in out:
            out = out.replace("\n", "\n" + _pad(base_col))
    if _JSON_FIXUP.search(out):
        out = _JSON_FIXUP.sub(lambda m: f"\\u{ord(m.group()):04x}", out)
    if "NaN" in out or "Infinity" in out:
        out = _fix_nonfinite(value, indent, base_col, item_sep, key_sep, out)
    return out


def _fix_nonfinite(
    value: Any, indent: int | None, base_col: int, item_sep: str, key_sep: str, out: str
) -> str:
    """JSON has no NaN/Infinity; fall back to YAML's ``.nan``/``.inf`` so the value survives."""

    def walk(v: Any) -> bool:
        if isinstance(v, float):
            return not math.isfinite(v)
        if isinstance(v, dict):
            return any(walk(x) for x in v.values())
        if isinstance(v, list):
            return any(walk(x) for x in v)
        return False

    if not walk(value):
        return out  # the words were inside strings
    return dump_flow(value)
