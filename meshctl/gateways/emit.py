"""Plain objects -> manifest text: a YAML stream, or JSON (one object, or a ``List``).

Why not ruamel.yaml: importing it costs ~20 ms, more than the rest of the command, and these
objects are small trees of mappings, lists, strings and integers. Why not
:mod:`meshctl.yamltext.emitter` (the emitter of the injection engine): it imports ``json`` and
``re`` and compiles its patterns at import (~11 ms); its rules for plain scalars are finer
than needed here. This one quotes more often, and never less safely: a string is written plain
only when it starts with a letter or ``/``, holds nothing but ASCII letters, digits and
``-._/``, and is not one of the words that some YAML reader takes for a boolean or null
(``yes``, ``off``, ``null``...); any other string is double-quoted, with escapes for what YAML
cannot hold raw. Layout as ``kubectl -o yaml``: two-space indentation, list items at their
key's column; keys in the order the builders put them.

JSON is indented by four spaces, as ``kubectl -o json``; it is imported only when asked for.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from collections.abc import Sequence
    from typing import Any

FORMATS = ("yaml", "json")

_PLAIN_FIRST = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ/")
_PLAIN_CHARS = _PLAIN_FIRST | frozenset("0123456789-._")
#: plain words that YAML 1.1 readers (PyYAML, go-yaml v2) or YAML 1.2 read as bool or null
_NOT_STRINGS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def plain_ok(s: str) -> bool:
    """May ``s`` be written unquoted (read back as this very string by every YAML reader)?"""
    return (
        s != ""
        and s[0] in _PLAIN_FIRST
        and all(c in _PLAIN_CHARS for c in s)
        and s.lower() not in _NOT_STRINGS
    )


def _printable(o: int) -> bool:
    """YAML's printable characters (YAML 1.2, 5.1), less the byte order mark and the two that
    YAML 1.1 reads as line breaks (U+2028, U+2029)."""
    return (
        0x20 <= o <= 0x7E
        or (0xA0 <= o <= 0xD7FF and o not in (0x2028, 0x2029))
        or (0xE000 <= o <= 0xFFFD and o != 0xFEFF)
        or 0x10000 <= o <= 0x10FFFF
    )


def double_quoted(s: str) -> str:
    out = ['"']
    for c in s:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif _printable(ord(c)):
            out.append(c)
        elif ord(c) <= 0xFF:
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(f"\\u{ord(c):04x}")
    out.append('"')
    return "".join(out)


def scalar(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value if plain_ok(value) else double_quoted(value)
    if value == {}:
        return "{}"
    if value == []:
        return "[]"
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _mapping(value: dict[str, Any], col: int, out: list[str]) -> None:
    pad = " " * col
    for key, item in value.items():
        head = pad + scalar(key) + ":"
        if isinstance(item, dict) and item:
            out.append(head)
            _mapping(item, col + 2, out)
        elif isinstance(item, list) and item:
            out.append(head)
            _sequence(item, col, out)
        else:
            out.append(head + " " + scalar(item))


def _sequence(value: list[Any], col: int, out: list[str]) -> None:
    pad = " " * col
    for item in value:
        if isinstance(item, (dict, list)) and item:
            first = len(out)
            if isinstance(item, dict):
                _mapping(item, col + 2, out)
            else:
                _sequence(item, col + 2, out)
            out[first] = pad + "- " + out[first][col + 2 :]
        else:
            out.append(pad + "- " + scalar(item))


def to_yaml(obj: dict[str, Any]) -> str:
    """One object as a YAML document (no ``---``), ending in a newline."""
    out: list[str] = []
    _mapping(obj, 0, out)
    return "\n".join(out) + "\n"


def render(objects: Sequence[dict[str, Any]], output_format: str = "yaml") -> str:
    """The manifest text of ``objects``.

    ``yaml``: one document per object, ``---`` between them (what ``kubectl apply -f`` reads,
    and what ``kubectl create -f ... -o yaml`` writes for several objects). ``json``: the object
    itself when there is one (as ``kubectl create ingress -o json``), else a ``v1`` ``List`` of
    them, in order (as ``kubectl get`` writes several objects; ``kubectl apply -f`` reads it).
    """
    if output_format == "json":
        import json

        doc = objects[0] if len(objects) == 1 else {
            "apiVersion": "v1", "kind": "List", "items": list(objects)
        }
        return json.dumps(doc, indent=4, ensure_ascii=False) + "\n"
    if output_format != "yaml":
        raise ValueError(f"unknown output format {output_format!r}")
    return "---\n".join(to_yaml(obj) for obj in objects)
