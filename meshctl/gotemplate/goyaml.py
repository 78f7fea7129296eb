"""YAML and JSON the way Istio's Go code writes and reads them.

* :func:`to_yaml` is ``sigs.k8s.io/yaml.Marshal`` as the ``toYaml`` template function uses it:
  block style, keys sorted, sequences not indented under their key, strings quoted only when a
  plain scalar would read back as something else.
* :func:`go_json` is ``encoding/json.Marshal`` for plain data (compact, HTML characters escaped).
* :func:`load_yaml` parses a rendered template (ruamel's C loader: fast, and already a dependency).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

from ruamel.yaml.cyaml import CSafeLoader
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from meshctl.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final

_PLAIN: Final = re.compile(r"^[A-Za-z_/$.][A-Za-z0-9_./$@+-]*$")
_YAML11_WORDS: Final = frozenset({
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
    "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
})


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return go_float(value)
    text = str(value)
    if _PLAIN.match(text) and text not in _YAML11_WORDS and not text.startswith("."):
        return text
    return yaml_quote(text)


_ESCAPES: Final = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def yaml_quote(text: str) -> str:
    """A YAML double-quoted scalar; printable characters stay as they are."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch.isprintable() and ch not in "\u2028\u2029\ufeff":
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def go_float(value: float) -> str:
    """Go's ``%v`` for a float64: shortest digits, exponent form below 1e-4 and from 1e+06."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits = repr(abs(value))
    # shortest round-trip digits and decimal exponent
    if "e" in digits:
        head, _, e = digits.partition("e")
        exponent = int(e)
        digs = head.replace(".", "")
        point = head.index(".") if "." in head else len(head)
        exponent += point - 1
    else:
        whole, _, frac = digits.partition(".")
        frac = frac.rstrip("0")
        if whole != "0":
            exponent = len(whole) - 1
            digs = whole + frac
        else:
            stripped = frac.lstrip("0")
            exponent = -(len(frac) - len(stripped)) - 1
            digs = stripped
    digs = digs.lstrip("0").rstrip("0") or "0"
    if exponent < -4 or exponent >= 6:
        body = digs[0] + ("." + digs[1:] if len(digs) > 1 else "")
        esign = "-" if exponent < 0 else "+"
        return f"{sign}{body}e{esign}{abs(exponent):02d}"
    if exponent >= 0:
        if len(digs) <= exponent + 1:
            return sign + digs + "0" * (exponent + 1 - len(digs))
        return sign + digs[: exponent + 1] + "." + digs[exponent + 1 :]
    return sign + "0." + "0" * (-exponent - 1) + digs


def to_yaml(value: Any) -> str:
    """``toYaml``: the YAML text of ``value`` (ends with a newline, like Go's)."""
    if isinstance(value, Mapping):
        if not value:
            return "{}\n"
        return "".join(_block_map(value, 0))
    if isinstance(value, list):
        if not value:
            return "[]\n"
        return "".join(_block_list(value, 0))
    return _scalar(value) + "\n"


def _block_map(value: Mapping[Any, Any], indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    for key in sorted(value, key=str):
        item = value[key]
        k = _scalar(str(key))
        if isinstance(item, Mapping) and item:
            out.append(f"{pad}{k}:\n")
            out.extend(_block_map(item, indent + 2))
        elif isinstance(item, list) and item:
            out.append(f"{pad}{k}:\n")
            out.extend(_block_list(item, indent))
        else:
            out.append(f"{pad}{k}: {_inline(item)}\n")
    return out


def _block_list(value: list[Any], indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    for item in value:
        if isinstance(item, Mapping) and item:
            lines = _block_map(item, indent + 2)
            lines[0] = f"{pad}- " + lines[0][indent + 2 :]
            out.extend(lines)
        elif isinstance(item, list) and item:
            lines = _block_list(item, indent + 2)
            lines[0] = f"{pad}- " + lines[0][indent + 2 :]
            out.extend(lines)
        else:
            out.append(f"{pad}- {_inline(item)}\n")
    return out


def _inline(item: Any) -> str:
    if isinstance(item, Mapping):
        return "{}"
    if isinstance(item, list):
        return "[]"
    return _scalar(item)


def go_json(value: Any) -> str:
    """``json.Marshal`` of plain data: compact, map keys sorted, ``<>&`` escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True,
                      default=str)
    return go_json_escape(text)


def go_json_ordered(value: Any) -> str:
    """``json.Marshal`` of a struct whose key order is already Go's field order."""
    return go_json_escape(json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                                     default=str))


def go_json_escape(text: str) -> str:
    if "<" in text or ">" in text or "&" in text or "\u2028" in text or "\u2029" in text:
        text = (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return text


class _Slot:
    """Where a scalar of a parsed text sits: its path in the data, and how to re-read it."""

    __slots__ = ("path", "prefix", "suffix", "block")

    path: tuple[Any, ...]
    prefix: str  # the line up to the value
    suffix: str  # the line after the value (``,`` in a flow mapping)
    block: tuple[int, int, int, str] | None  # first line, end line, indent, chomping

    def __init__(self, path: tuple[Any, ...], prefix: str, suffix: str,
                 block: tuple[int, int, int, str] | None = None) -> None:
        self.path = path
        self.prefix = prefix
        self.suffix = suffix
        self.block = block


class _Shape:
    """A parsed text: its lines, its data, and the slots of the scalars that can be re-read."""

    __slots__ = ("lines", "data", "slots")

    lines: list[str]
    data: Any
    slots: dict[int, _Slot]

    def __init__(self, lines: list[str], data: Any, slots: dict[int, _Slot] | None = None) -> None:
        self.lines = lines
        self.data = data
        self.slots = {} if slots is None else slots


_INT_TOKEN: Final = re.compile(r"^-?(?:0|[1-9][0-9]*)$")
_PLAIN_TOKEN: Final = re.compile(r"^[A-Za-z/$_][A-Za-z0-9_./$@=:+()*-]*$")
_RESERVED_WORDS: Final = frozenset(w.lower() for w in _YAML11_WORDS)


def _read_token(token: str, flow: bool) -> tuple[bool, Any]:
    """A scalar token re-read conservatively: (ok, value). Anything unusual is not ok."""
    if not token or token != token.strip():
        return False, None
    if token[0] == '"':
        inner = token[1:-1]
        if len(token) < 2 or token[-1] != '"' or '"' in inner or "\\" in inner:
            return False, None
        return True, inner
    if token[0] == "'":
        inner = token[1:-1]
        if len(token) < 2 or token[-1] != "'" or "'" in inner.replace("''", ""):
            return False, None
        return True, inner.replace("''", "'")
    if _INT_TOKEN.match(token):
        return True, int(token)
    if _PLAIN_TOKEN.match(token) and token.lower() not in _RESERVED_WORDS and \
            not token.endswith(":") and not (flow and ":" in token):
        return True, token
    return False, None


def _read_block(lines: list[str], indent: int, chomp: str) -> str | None:
    content = []
    for line in lines:
        if line.strip() == "":
            content.append("")
        elif line.startswith(" " * indent):
            content.append(line[indent:])
        else:
            return None
    text = "\n".join(content)
    if chomp == "-":
        return text.rstrip("\n")
    if chomp == "+":
        return text + "\n"
    stripped = text.rstrip("\n")
    return stripped + "\n" if stripped else ""


class ShapeCache:
    """Parses rendered templates, reusing the parse of an earlier text of the same shape.

    Two renders of one template for two similar pods differ in a few scalars (a name, a port
    list). When a text has as many lines as a cached one and every differing line holds a
    scalar of the cached parse (a ``key: value`` line, a list item, a literal block), the cached
    data is copied along the changed paths and the new values are read from the changed lines;
    anything else is a full parse. A slot is only used when re-reading its own cached line gives
    back exactly what the YAML parser read, so the shortcut cannot disagree with the parser.

    The data returned is shared with the cache: callers must not modify it.
    """

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._shapes: list[_Shape] = []

    def load(self, text: str, what: str = "rendered template") -> Any:
        lines = text.split("\n")
        for index, shape in enumerate(self._shapes):
            if len(shape.lines) != len(lines):
                continue
            found, data = self._patch(shape, lines)
            if found:
                if index:
                    self._shapes.insert(0, self._shapes.pop(index))
                return data
        shape = self._full_parse(text, lines, what)
        self._shapes.insert(0, shape)
        del self._shapes[self._size :]
        return shape.data

    @staticmethod
    def _patch(shape: _Shape, lines: list[str]) -> tuple[bool, Any]:
        updates: dict[tuple[Any, ...], Any] = {}
        old_lines = shape.lines
        for i, (old, new) in enumerate(zip(old_lines, lines, strict=True)):
            if old == new:
                continue
            slot = shape.slots.get(i)
            if slot is None:
                return False, None
            if slot.block is not None:
                first, end, indent, chomp = slot.block
                value = _read_block(lines[first:end], indent, chomp)
                if value is None:
                    return False, None
                updates[slot.path] = value
                continue
            if not (new.startswith(slot.prefix) and new.endswith(slot.suffix)) or \
                    len(new) < len(slot.prefix) + len(slot.suffix):
                return False, None
            token = new[len(slot.prefix) : len(new) - len(slot.suffix)]
            ok, value = _read_token(token, bool(slot.suffix.strip()))
            if not ok:
                return False, None
            updates[slot.path] = value
        return True, _with_updates(shape.data, updates)

    @staticmethod
    def _full_parse(text: str, lines: list[str], what: str) -> _Shape:
        loader = CSafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        except YAMLError as exc:
            raise ConfigError(f"{what} is not valid YAML: {exc}") from None
        finally:
            loader.dispose()
        shape = _Shape(lines, data)
        if node is not None:
            try:
                _index_slots(node, data, (), lines, shape.slots, set())
            except _SharedNode:
                shape.slots.clear()  # aliases or merge keys: one line, several values
        return shape


class _SharedNode(Exception):
    pass


def _index_slots(node: Node, data: Any, path: tuple[Any, ...], lines: list[str],
                 slots: dict[int, _Slot], visited: set[int]) -> None:
    if id(node) in visited:
        raise _SharedNode
    visited.add(id(node))
    if isinstance(node, MappingNode):
        if not isinstance(data, dict):
            return
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = getattr(key_node, "value", None)
            if key == "<<":
                raise _SharedNode
            if not isinstance(key_node, ScalarNode) or key in seen or key not in data:
                continue
            seen.add(key)
            _index_slots(value_node, data[key], (*path, key), lines, slots, visited)
    elif isinstance(node, SequenceNode):
        if not isinstance(data, list) or len(data) != len(node.value):
            return
        for i, item in enumerate(node.value):
            _index_slots(item, data[i], (*path, i), lines, slots, visited)
    elif isinstance(node, ScalarNode):
        _index_scalar(node, data, path, lines, slots)


def _index_scalar(node: ScalarNode, value: Any, path: tuple[Any, ...], lines: list[str],
                  slots: dict[int, _Slot]) -> None:
    start, end = node.start_mark, node.end_mark
    if node.style == "|":
        header = lines[start.line][start.column:].strip()
        chomp = header[1:] if header in ("|", "|-", "|+") else None
        if chomp is None or not isinstance(value, str):
            return
        first = start.line + 1
        last = end.line if end.column == 0 else end.line + 1
        body = [ln for ln in lines[first:last] if ln.strip()]
        if not body:
            return
        indent = len(body[0]) - len(body[0].lstrip(" "))
        if indent == 0 or _read_block(lines[first:last], indent, chomp) != value:
            return
        for line in range(first, last):
            slots[line] = _Slot(path, "", "", (first, last, indent, chomp))
        return
    if start.line != end.line or start.line in slots or isinstance(value, (bool, float)) or \
            value is None:
        return
    line = lines[start.line]
    slot = _Slot(path, line[: start.column], line[end.column :])
    if slot.suffix.strip() not in ("", ","):
        return
    ok, again = _read_token(line[start.column : end.column], bool(slot.suffix.strip()))
    if ok and again == value and type(again) is type(value):
        slots[start.line] = slot


def _with_updates(data: Any, updates: Mapping[tuple[Any, ...], Any]) -> Any:
    """``data`` with new values at some paths; only the containers on those paths are copied."""
    if not updates:
        return data
    if () in updates:
        return updates[()]
    groups: dict[Any, dict[tuple[Any, ...], Any]] = {}
    for path, value in updates.items():
        groups.setdefault(path[0], {})[path[1:]] = value
    copy_: Any = dict(data) if isinstance(data, dict) else list(data)
    for key, sub in groups.items():
        copy_[key] = _with_updates(data[key], sub)
    return copy_


def load_yaml(text: str, what: str = "rendered template") -> Any:
    """Parse YAML text (one document) into plain dicts and lists."""
    loader = CSafeLoader(text)
    try:
        return loader.get_single_data()
    except YAMLError as exc:
        # one line: the problem and where (ruamel's message spans several lines)
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ConfigError(f"{what} is not valid YAML: {problem}{where}") from None
    finally:
        loader.dispose()
