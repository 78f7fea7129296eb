"""Checks of a YAML document's structure without building it: duplicate keys, nesting, aliases.

Every document meshctl reads is held to the same three rules, whether it is injected or passed
through untouched:

* no mapping has the same key twice (``metadata:`` twice: which one wins depends on the parser;
  keys compare as the composer reads them, so ``1`` and ``"1"`` are the same key);
* no node is nested deeper than :data:`MAX_DEPTH` levels (libyaml's parser slows down
  quadratically with depth: 200,000 nested brackets would take minutes);
* aliases expand to at most ``MAX_ALIAS_NODES`` nodes in all ("billion laughs": a few lines
  that expand to billions of nodes).

:func:`check_events` walks libyaml's events (no nodes, no data: an alias is only counted, never
expanded) and raises :class:`~meshctl.yamltext.source.StructureError` at the first problem
(:class:`~meshctl.yamltext.source.YamlSyntaxError` for a syntax error). It is how a document
passed through untouched is checked. :func:`may_be_deep` is the cheap text test that tells
whether a document might break the depth rule at all: only those are walked before the
composer of :mod:`meshctl.yamltext.source` builds a document (it enforces the duplicate-key and
alias rules itself).
"""

from __future__ import annotations

import re

from _ruamel_yaml import CParser
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from meshctl.yamltext.source import (
    MAX_ALIAS_NODES,
    RESOLVER_FIRST_CHARS,
    StructureError,
    key_of_scalar,
    reader_error,
    syntax_error,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final

#: deepest nesting of collections accepted (Kubernetes objects rarely pass 20; the limit keeps
#: every recursive step of meshctl, and libyaml's quadratic cost, far from trouble)
MAX_DEPTH: Final = 256

#: a line whose indentation and block indicators (``-``, ``?``) reach this column (searched
#: from each line break: much faster than ``^`` with MULTILINE, the first line apart)
_DEEP_LINE: Final = re.compile(r"\n[ \t?-]{100}")
_DEEP_LINE_LEVELS: Final = 2 * (100 + 1)


def may_be_deep(text: str) -> bool:
    """False when ``text`` certainly nests no deeper than :data:`MAX_DEPTH` (no line is indented
    that far, and there are not that many brackets); True when it must be walked to know.

    Block collections nest by indentation: along any chain of nested block collections the
    column never decreases and grows at least every second level, so a text with no line
    reaching column 100 (indentation plus ``-``/``?`` indicators) nests at most 202 block
    levels; flow collections add at most one level per bracket."""
    brackets = text.count("[") + text.count("{")
    if brackets + _DEEP_LINE_LEVELS <= MAX_DEPTH:
        return _DEEP_LINE.search(text) is not None or _DEEP_LINE.match("\n" + text[:100]) \
            is not None
    return True


#: first characters of plain scalars that may resolve to something else than a string
_RESOLVED_FIRST: Final = frozenset(RESOLVER_FIRST_CHARS)
#: plain keys with such a first character, resolved once (``name``, ``type``, ``targetPort``)
_PLAIN_KEYS: Final[dict[str, str]] = {}


def _error(problem: str, mark: Any) -> StructureError:
    return StructureError(problem, mark.line + 1, mark.column + 1)


def check_events(text: str, *, max_depth: int = MAX_DEPTH,
                 max_alias_nodes: int = MAX_ALIAS_NODES) -> str | None:
    """Walk the events of ``text`` (one document) and enforce the module's rules. Returns what
    the document is: ``"mapping"``, ``"sequence"``, ``"string"`` (a quoted or block scalar),
    ``"scalar"`` (another one), ``"null"`` (a plain null) or None (no document)."""
    parser = CParser(text)
    try:
        return _walk(parser.get_event, max_depth, max_alias_nodes)
    except MarkedYAMLError as e:
        raise syntax_error(e) from None
    except YAMLError as e:  # libyaml's reader: a character YAML does not allow
        raise reader_error(e, text) from None
    finally:
        parser.dispose()


def _walk(get: Any, max_depth: int, max_alias_nodes: int) -> str | None:
    # The hot loop: every event of every document passed through. Locals only, the commonest
    # event first, no call per event but libyaml's. A frame per open collection: [keys seen
    # (key -> its mark; None: a sequence), next node of the mapping is a key, anchor, nodes
    # before it].
    scalar, alias = ScalarEvent, AliasEvent
    mapping_start, sequence_start = MappingStartEvent, SequenceStartEvent
    ends = (MappingEndEvent, SequenceEndEvent)
    resolved = _RESOLVED_FIRST
    plain_keys = _PLAIN_KEYS
    stack: list[list[Any]] = []
    push, pop = stack.append, stack.pop
    top: list[Any] = [None, False, None, 0]  # the stream: takes one node, checks nothing
    anchors: dict[str, tuple[int, str | None]] = {}
    nodes = expanded = 0
    root = _root(get)
    if root is None:
        return None
    kind, ev = root
    while True:
        cls = ev.__class__
        if cls is scalar:
            nodes += 1
            if top[1]:
                value = ev.value
                if ev.style or ev.tag is not None or not value or value[0] in resolved:
                    key = plain_keys.get(value) if not ev.style and ev.tag is None else None
                    if key is None:
                        key = key_of_scalar(value, ev.style, ev.tag)
                        if not ev.style and ev.tag is None and len(plain_keys) < 4096:
                            plain_keys[value] = key  # name, namespace, type... recur a lot
                else:
                    key = value  # a plain key that reads as a string: the common case
                seen = top[0]
                if key in seen and key != "<<":
                    _duplicate(seen, key, ev)
                seen[key] = ev
                top[1] = False
            elif top[0] is not None:
                top[1] = True
            if ev.anchor is not None:
                anchors[ev.anchor] = (1, key_of_scalar(ev.value, ev.style, ev.tag))
        elif cls is mapping_start or cls is sequence_start:
            nodes += 1
            push(top)
            top = [{} if cls is mapping_start else None, cls is mapping_start, ev.anchor,
                   nodes - 1]
            if len(stack) > max_depth:
                raise _error(f"nesting deeper than {max_depth} levels", ev.start_mark)
        elif cls in ends:
            if top[2] is not None:
                anchors[top[2]] = (nodes - top[3], None)
            top = pop()
            if top[0] is not None:
                top[1] = not top[1]
        elif cls is alias:
            found = anchors.get(ev.anchor)
            if found is None:
                raise _error(f"found undefined alias {ev.anchor!r}", ev.start_mark)
            size, alias_key = found
            nodes += size
            expanded += size
            if expanded > max_alias_nodes:
                raise _error(f"aliases expand to more than {max_alias_nodes} nodes "
                             "(an alias bomb?)", ev.start_mark)
            if top[0] is not None:
                if top[1] and alias_key is not None:
                    if alias_key in top[0] and alias_key != "<<":
                        _duplicate(top[0], alias_key, ev)
                    top[0][alias_key] = ev
                top[1] = not top[1]
        elif cls is StreamEndEvent:
            return kind
        ev = get()


def _root(get: Any) -> tuple[str, Any] | None:
    """The document's first node event and what it starts; None for an empty stream."""
    ev: Any = get()
    while ev.__class__ not in _NODE_EVENTS:
        if ev.__class__ is StreamEndEvent:
            return None
        ev = get()
    cls = ev.__class__
    if cls is MappingStartEvent:
        return "mapping", ev
    if cls is SequenceStartEvent:
        return "sequence", ev
    if cls is ScalarEvent and _plain_null(ev):
        return "null", ev
    return ("string" if cls is ScalarEvent and _quoted(ev) else "scalar"), ev


def _quoted(ev: Any) -> bool:
    return bool(ev.style)


def _plain_null(ev: Any) -> bool:
    return not ev.style and ev.tag is None and ev.value in _NULLS


_NODE_EVENTS: Final = frozenset({ScalarEvent, MappingStartEvent, SequenceStartEvent, AliasEvent})
_NULLS: Final = frozenset({"", "~", "null", "Null", "NULL"})


def _duplicate(seen: dict[str, Any], key: str, ev: Any) -> None:
    first = seen[key].start_mark
    raise _error(f"duplicate key {key!r} (first at line {first.line + 1})", ev.start_mark)
