"""Parse ONE YAML (or JSON) document into plain data plus a position index of its nodes.

Why a composer of our own: ruamel's composer returns the same node object for an alias as for
its anchor, so an alias site has no position; the edit engine must know where every alias is
(a change must never reach through one). We drive ruamel's C parser (libyaml) event by event and
build small slotted nodes that carry character offsets into ``text`` and, alongside, the plain
data. Event-level parsing with the C parser is faster than ruamel's C composer, whose tag
resolution calls back into Python for every scalar.

Data is read the way ruamel's safe loader reads YAML 1.2 core types, with these choices:

* timestamps stay strings (Kubernetes wants strings; no ``datetime``);
* merge keys ``<<`` are resolved (local keys win; among merged mappings the earlier wins);
* duplicate keys are refused (:class:`StructureError`): which one wins depends on the parser
  (go-yaml's non-strict ``Unmarshal``, what Istio's ``kube-inject`` uses, takes the last one;
  strict parsers refuse). ``allow_duplicates=True`` makes the LAST one win, and the edit
  engine keeps the shadowed entries in mind;
* aliases may expand to at most :data:`MAX_ALIAS_NODES` nodes in all (an alias bomb is refused
  before it is expanded); nesting deeper than Python's recursion allows is refused too (callers
  check depth first: :mod:`meshctl.yamltext.check`);
* a key written in explicit form (``? key``) is noted (:attr:`SourceDoc.explicit`): the edit
  engine cannot keep the bytes around it, so callers refuse to edit such a mapping;
* mapping keys that are not strings become strings (``1`` -> ``"1"``, ``true`` -> ``"true"``),
  as sigs.k8s.io/yaml does when converting to JSON;
* explicit standard tags (``!!str``, ``!!int``...) are honoured; other tags are ignored;
* an empty or comment-only document gives ``None``.

Offsets: libyaml marks count characters (a CRLF counts two), so ``start``/``end`` index ``text``
directly.
"""

from __future__ import annotations

import re

from _ruamel_yaml import CParser
from ruamel.yaml.cyaml import CSafeLoader
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final


class YamlSyntaxError(Exception):
    """The document is not valid YAML (or uses something we cannot represent as data).

    ``line`` and ``column`` are 1-based and relative to the text given to ``load_document``.
    """

    def __init__(self, problem: str, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: {problem}")
        self.problem = problem
        self.line = line
        self.column = column


class StructureError(YamlSyntaxError):
    """Valid YAML that meshctl refuses: a duplicate key, nesting too deep, an alias bomb."""


#: nodes that aliases may add by expansion, in one document (an alias bomb adds billions)
MAX_ALIAS_NODES: Final = 100_000


# --- nodes ---------------------------------------------------------------------------------


class Node:
    """A node of the source. ``start``/``end`` are offsets into the document text; ``start``
    includes a node's anchor and tag. ``data`` is the plain value (shared with the document's
    ``data``; never mutate it)."""

    __slots__ = ("start", "end", "anchor", "data")

    start: int
    end: int
    anchor: str | None
    data: Any


class ScalarNode(Node):
    """``style``: ``''`` plain, ``"'"``, ``'"'``, ``'|'`` literal, ``'>'`` folded."""

    __slots__ = ("value", "style", "tag")

    value: str
    style: str
    tag: str | None


class MapNode(Node):
    """``entries``: (key node, value node, key string) in source order, duplicates and ``<<``
    merge entries included. ``merges``: indexes of the merge entries. ``merged``: the data of
    keys that come only from merges (not written locally). ``merge_keys``: every key any merge
    source provides."""

    __slots__ = ("flow", "entries", "merges", "merged", "merge_keys")

    flow: bool
    entries: list[tuple[Node, Node, str]]
    merges: list[int]
    merged: dict[str, Any]
    merge_keys: frozenset[str]


class SeqNode(Node):
    __slots__ = ("flow", "items")

    flow: bool
    items: list[Node]


class AliasNode(Node):
    """An alias site (``*name``): its own position, the anchored node it refers to, and an
    independent copy of that node's data."""

    __slots__ = ("target",)

    target: Node


class SourceDoc:
    """One parsed document: its text, its data and the root of its position index.

    ``anchored`` lists nodes that carry an anchor and ``aliases`` every alias site (both empty
    for nearly every Kubernetes document, which lets the edit engine skip alias bookkeeping).
    """

    __slots__ = ("text", "data", "root", "anchored", "aliases", "explicit")

    def __init__(
        self,
        text: str,
        data: Any,
        root: Node | None,
        anchored: list[Node],
        aliases: list[AliasNode],
        explicit: dict[int, int] | None = None,
    ) -> None:
        self.text = text
        self.data = data
        self.root = root
        self.anchored = anchored
        self.aliases = aliases
        #: ``id(mapping node) -> offset of its first key written as ``? key```` (nearly always
        #: empty)
        self.explicit = {} if explicit is None else explicit

    def __repr__(self) -> str:
        return f"SourceDoc({self.text[:40]!r}...)"

    def explicit_key_on(self, path: tuple[str | int, ...]) -> int | None:
        """The offset of an explicit key (``? key``) in a mapping on ``path`` (the root, each
        mapping the path goes through, and the node at its end), or None."""
        if not self.explicit:
            return None
        node = self.root
        for step in (*path, None):
            if isinstance(node, AliasNode):
                node = node.target
            if isinstance(node, MapNode):
                found = self.explicit.get(id(node))
                if found is not None:
                    return found
                if step is None:
                    return None
                nxt = None
                for _key_node, value_node, key in node.entries:
                    if key == step:
                        nxt = value_node
                node = nxt
            elif isinstance(node, SeqNode) and isinstance(step, int) and step < len(node.items):
                node = node.items[step]
            else:
                return None
        return None

    def offset_of(self, path: tuple[str | int, ...]) -> int | None:
        """Offset in :attr:`text` of the node at ``path`` (mapping keys, list indexes): the
        key of the last step when it is a mapping key, else the node itself; None when the
        path does not lead anywhere."""
        node = self.root
        last = len(path) - 1
        for i, step in enumerate(path):
            if isinstance(node, MapNode):
                found = None
                for key_node, value_node, key in node.entries:
                    if key == step:
                        found = key_node if i == last else value_node
                if found is None:
                    return None
                node = found
            elif isinstance(node, SeqNode) and isinstance(step, int) and step < len(node.items):
                node = node.items[step]
            else:
                return None
        return None if node is None else int(node.start)


# --- scalar resolution (ruamel's YAML 1.2 table, read once) --------------------------------

TAG_STR: Final = "tag:yaml.org,2002:str"
TAG_INT: Final = "tag:yaml.org,2002:int"
TAG_FLOAT: Final = "tag:yaml.org,2002:float"
TAG_BOOL: Final = "tag:yaml.org,2002:bool"
TAG_NULL: Final = "tag:yaml.org,2002:null"
TAG_MERGE: Final = "tag:yaml.org,2002:merge"

#: first character -> [(tag, compiled regex)], exactly as ruamel's safe loader resolves plain
#: scalars.
_RESOLVERS: Final[dict[str, list[tuple[str, re.Pattern[str]]]]] = {
    k: list(v) for k, v in CSafeLoader.yaml_implicit_resolvers.items() if k
}


#: the first characters of plain scalars that may resolve to something other than a string
RESOLVER_FIRST_CHARS: Final = frozenset(_RESOLVERS)


def _to_int(v: str) -> int:
    s = v.replace("_", "")
    sign = 1
    if s[:1] in "+-":
        if s[0] == "-":
            sign = -1
        s = s[1:]
    if s.startswith("0b"):
        return sign * int(s[2:], 2)
    if s.startswith("0x"):
        return sign * int(s[2:], 16)
    if s.startswith("0o"):
        return sign * int(s[2:], 8)
    return sign * int(s)


def _to_float(v: str) -> float:
    s = v.replace("_", "").lower()
    if s.endswith(".inf"):
        return float("-inf") if s[0] == "-" else float("inf")
    if s.endswith(".nan"):
        return float("nan")
    return float(s)


def _construct(tag: str, v: str) -> Any:
    # the resolvers' patterns take a few texts that are no number (``-_``, ``0x_``, ``._``):
    # ruamel and PyYAML fail on them; Go's YAML, which Kubernetes reads with, gives a string
    try:
        if tag == TAG_INT:
            return _to_int(v)
        if tag == TAG_FLOAT:
            return _to_float(v)
    except ValueError:
        return v
    if tag == TAG_BOOL:
        return v[0] in "tTyY"
    if tag == TAG_NULL:
        return None
    return v  # str, timestamp (kept as text), binary, merge/value outside a key, custom tags


def _resolve_plain(v: str) -> Any:
    rs = _RESOLVERS.get(v[0])
    if rs is None:
        return v
    for tag, rx in rs:
        if rx.match(v):
            return _construct(tag, v)
    return v


def _key_string(k: Any) -> str:
    if isinstance(k, str):
        return k
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    return repr(k) if isinstance(k, float) else str(k)


def key_of_scalar(value: str, style: str | None, tag: str | None) -> str:
    """The key string of a scalar mapping key, as the composer reads it (``1`` -> ``"1"``)."""
    if tag is None or tag == "!":
        data = value if style else (_resolve_plain(value) if value else None)
    else:
        data = _construct(tag, value)
    return _key_string(data)


def copy_data(v: Any) -> Any:
    """Deep copy of plain data (much cheaper than copy.deepcopy)."""
    if isinstance(v, dict):
        return {k: copy_data(x) for k, x in v.items()}
    if isinstance(v, list):
        return [copy_data(x) for x in v]
    return v


# --- composer ------------------------------------------------------------------------------


def _err(problem: str, mark: Any) -> YamlSyntaxError:
    return YamlSyntaxError(problem, mark.line + 1, mark.column + 1)


def load_document(text: str, *, allow_duplicates: bool = False) -> SourceDoc:
    """Parse one document's source (``---``, ``%YAML``, ``...``, comments and CRLF allowed)."""
    parser = CParser(text)
    try:
        return _compose(text, parser, allow_duplicates)
    except MarkedYAMLError as e:
        raise syntax_error(e) from None
    except YAMLError as e:  # libyaml's reader: a character YAML does not allow
        raise reader_error(e, text) from None
    except RecursionError:
        raise StructureError("nested too deeply", 1, 1) from None
    finally:
        parser.dispose()


def syntax_error(e: MarkedYAMLError) -> YamlSyntaxError:
    """libyaml's error as a :class:`YamlSyntaxError` (the problem and its line)."""
    mark = e.problem_mark or e.context_mark
    problem = e.problem or e.context or "invalid YAML"
    if mark is None:
        return YamlSyntaxError(problem, 1, 1)
    return _err(problem, mark)


def reader_error(e: YAMLError, text: str) -> YamlSyntaxError:
    """libyaml's reader refusing a character (binary data, a control character)."""
    position = max(0, min(int(getattr(e, "position", 0) or 0), len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    char = text[position] if position < len(text) else ""
    what = f"U+{ord(char):04X}" if char else "a character"
    return YamlSyntaxError(f"{what} is not allowed in YAML (binary data or a control "
                           "character)", line, column)


def _is_explicit(text: str, start: int) -> bool:
    """Whether the block mapping key node starting at ``start`` is written ``? key``: a ``?``
    before it, with only indentation and ``-`` indicators before that on its line."""
    i = start - 1
    while i >= 0 and text[i] in " \t\r\n":
        i -= 1
    if i < 0 or text[i] != "?":
        return False
    line_start = text.rfind("\n", 0, i) + 1
    return text[line_start:i].replace("-", " ").strip() == ""


def _count_nodes(data: Any, limit: int) -> int:
    """Nodes of plain data, counting stops once past ``limit``."""
    count = 0
    todo = [data]
    while todo and count <= limit:
        value = todo.pop()
        count += 1
        if isinstance(value, dict):
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)
    return count


def _compose(text: str, parser: Any, allow_duplicates: bool) -> SourceDoc:
    get = parser.get_event
    anchors: dict[str, Node] = {}
    anchored: list[Node] = []
    aliases: list[AliasNode] = []
    explicit: dict[int, int] = {}
    find_explicit = "?" in text
    budget = [MAX_ALIAS_NODES]  # nodes aliases may still add

    def node(ev: Any) -> Node:
        cls = ev.__class__
        n: Node
        if cls is ScalarEvent:
            sc = n = ScalarNode()
            sc.start = ev.start_mark.index
            sc.end = ev.end_mark.index
            v = sc.value = ev.value
            st = sc.style = ev.style or ""
            tag = sc.tag = ev.tag
            if tag is None or tag == "!":
                if st:
                    sc.data = v
                elif v:
                    sc.data = _resolve_plain(v)
                else:
                    sc.data = None
            else:
                sc.data = _construct(tag, v)
        elif cls is MappingStartEvent:
            n = mapping(ev)
        elif cls is SequenceStartEvent:
            s = SeqNode()
            s.start = ev.start_mark.index
            s.flow = bool(ev.flow_style)
            items: list[Node] = []
            data: list[Any] = []
            ev2 = get()
            while ev2.__class__ is not SequenceEndEvent:
                c = node(ev2)
                items.append(c)
                data.append(c.data)
                ev2 = get()
            s.end = ev2.end_mark.index
            s.items = items
            s.data = data
            n = s
        elif cls is AliasEvent:
            target = anchors.get(ev.anchor)
            if target is None:
                raise _err(f"found undefined alias {ev.anchor!r}", ev.start_mark)
            a = AliasNode()
            a.start = ev.start_mark.index
            a.end = ev.end_mark.index
            a.anchor = None
            a.target = target
            budget[0] -= _count_nodes(target.data, budget[0])
            if budget[0] < 0:
                raise StructureError(f"aliases expand to more than {MAX_ALIAS_NODES} nodes "
                                     "(an alias bomb?)", ev.start_mark.line + 1,
                                     ev.start_mark.column + 1)
            a.data = copy_data(target.data)
            aliases.append(a)
            return a
        else:  # pragma: no cover - the parser guarantees node events here
            raise _err(f"unexpected {cls.__name__}", ev.start_mark)
        anchor = n.anchor = ev.anchor
        if anchor is not None:
            anchors[anchor] = n
            anchored.append(n)
        return n

    def mapping(ev: Any) -> MapNode:
        m = MapNode()
        m.start = ev.start_mark.index
        m.flow = bool(ev.flow_style)
        entries: list[tuple[Node, Node, str]] = []
        data: dict[str, Any] = {}
        merges: list[int] = []
        ev2 = get()
        while ev2.__class__ is not MappingEndEvent:
            kev = ev2
            k = node(kev)
            v = node(get())
            if isinstance(k, ScalarNode):
                if k.style == "" and k.value == "<<" and k.tag is None:
                    merges.append(len(entries))
                    entries.append((k, v, "<<"))
                    ev2 = get()
                    continue
                ks = _key_string(k.data)
            elif isinstance(k, AliasNode) and not isinstance(k.data, (dict, list)):
                ks = _key_string(k.data)
            else:
                raise _err(
                    "a mapping or sequence as a mapping key is not supported", kev.start_mark
                )
            if ks in data and not allow_duplicates:
                first = next(kn for kn, _vn, key in entries if key == ks)
                line = text.count("\n", 0, first.start) + 1
                raise StructureError(f"duplicate key {ks!r} (first at line {line})",
                                     kev.start_mark.line + 1, kev.start_mark.column + 1)
            if find_explicit and id(m) not in explicit and _is_explicit(text, k.start):
                explicit[id(m)] = text.rfind("?", 0, k.start)
            entries.append((k, v, ks))
            data[ks] = v.data
            ev2 = get()
        m.end = ev2.end_mark.index
        m.entries = entries
        m.merges = merges
        if merges:
            _merge(m, data, ev)
        else:
            m.merged = _EMPTY
            m.merge_keys = frozenset()
        m.data = data
        return m

    ev = get()  # StreamStart
    ev = get()
    if ev.__class__ is StreamEndEvent:
        return SourceDoc(text, None, None, anchored, aliases, explicit)
    if ev.__class__ is not DocumentStartEvent:  # pragma: no cover
        raise _err("expected a document", ev.start_mark)
    root = node(get())
    get()  # DocumentEnd
    ev = get()
    if ev.__class__ is not StreamEndEvent:
        raise _err("expected a single document, found another one", ev.start_mark)
    return SourceDoc(text, root.data, root, anchored, aliases, explicit)


_EMPTY: Final[dict[str, Any]] = {}


def _merge(m: MapNode, local: dict[str, Any], ev: Any) -> None:
    """Resolve ``<<`` entries of ``m`` into ``local`` (which holds the local keys)."""
    merged: dict[str, Any] = {}
    for i in m.merges:
        v = m.entries[i][1]
        sources = v.items if isinstance(v, SeqNode) else [v]
        for src in sources:
            d = src.data
            if not isinstance(d, dict) or not isinstance(src, (MapNode, AliasNode)):
                raise _err("expected a mapping or a list of mappings for merging", ev.start_mark)
            for k, x in d.items():
                if k not in merged:
                    merged[k] = x
    m.merge_keys = frozenset(merged)
    only = {k: copy_data(x) for k, x in merged.items() if k not in local}
    m.merged = only
    if only:
        # Merged keys first, then local ones (the order PyYAML and ruamel produce).
        data = dict(only)
        data.update(local)
        local.clear()
        local.update(data)
