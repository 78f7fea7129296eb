"""Recorded forms: the text of a node's slot, to write it back byte for byte, and where two
texts of the same data differ.

kube-inject records the forms of the nodes its inverse would not give back (meshctl's undo
record, :mod:`meshctl.sidecar.provenance`); the renderer writes one back as it is
(:class:`meshctl.yamltext.tree.Verbatim`).

A node's *recorded form* is the text of its slot, enough to write it back byte for byte where
an edit replaced it: for the value of a block mapping entry, from the ``:`` after its key to
the end of the value's last line (with its comment, and the comment lines glued below it,
deeper than the key); for a block sequence item, the same from its ``-``; for a value in a
flow collection, ``=`` and its own text. Lines after the first are dedented by the column of
the key or ``-`` (of the line, in flow) and re-indented for the slot they are written into.
"""

from __future__ import annotations

from meshctl.yamltext.layout import Layout, Unsupported
from meshctl.yamltext.patch import strict_equal
from meshctl.yamltext.slots import FLOW, FLOW_MARK, MAP_VALUE, ROOT, SEQ_ITEM, Slot, region
from meshctl.yamltext.source import (
    MapNode,
    Node,
    SeqNode,
    SourceDoc,
    YamlSyntaxError,
    load_document,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any

    #: a path in a document: mapping keys and list indexes (JSON Pointer tokens are accepted)
    Path = tuple[str | int, ...]

__all__ = ["differing_paths", "node_paths", "recorded_text", "slot_at", "verbatim_data"]


def _dedent(text: str, col: int) -> str | None:
    if "\n" not in text:
        return text
    lines = text.split("\n")
    out = [lines[0]]
    pad = " " * col
    for ln in lines[1:]:
        if ln.rstrip("\r") == "":
            out.append(ln)
        elif ln.startswith(pad) and ln[col:].rstrip("\r") != "":
            out.append(ln[col:])
        else:
            return None  # whitespace only up to the column: not told apart from an empty line
    return "\n".join(out)


def _children(layout: Layout, node: Node) -> Any:
    """``(token, slot)`` of each child a path can name (local entries: the last of duplicate
    keys, no ``<<`` merge entry; list items)."""
    if isinstance(node, MapNode):
        merges = set(node.merges)
        last: dict[str, tuple[Node, Node]] = {}
        for i, (k, v, ks) in enumerate(node.entries):
            if i not in merges:
                last[ks] = (k, v)
        for ks, (k, v) in last.items():
            if node.flow:
                yield ks, Slot(FLOW, v)
            else:
                yield ks, Slot(MAP_VALUE, v, layout.colon_end(k), layout.map_col(node))
    elif isinstance(node, SeqNode):
        for i, it in enumerate(node.items):
            if node.flow:
                yield i, Slot(FLOW, it)
            else:
                d = layout.dash_pos(it)
                yield i, Slot(SEQ_ITEM, it, d, layout.col(d))


def slot_at(layout: Layout, path: Path) -> Slot | None:
    """The slot of the node at ``path`` (None: no such node, or not reachable by path)."""
    node = layout.doc.root
    if node is None:
        return None
    slot = Slot(ROOT, node)
    try:
        for tok in path:
            found: Slot | None = None
            if isinstance(node, MapNode):
                merges = node.merges
                for i in range(len(node.entries) - 1, -1, -1):  # the last of duplicate keys
                    k, v, ks = node.entries[i]
                    if ks == tok and i not in merges:
                        found = Slot(FLOW, v) if node.flow else Slot(
                            MAP_VALUE, v, layout.colon_end(k), layout.map_col(node))
                        break
            elif isinstance(node, SeqNode):
                i = tok if isinstance(tok, int) else int(tok) if str(tok).isdigit() else -1
                if not 0 <= i < len(node.items):
                    return None
                it = node.items[i]
                if node.flow:
                    found = Slot(FLOW, it)
                else:
                    d = layout.dash_pos(it)
                    found = Slot(SEQ_ITEM, it, d, layout.col(d))
            else:
                return None  # a scalar, or an alias: its content is elsewhere
            if found is None:
                return None
            slot = found
            assert slot.old is not None
            node = slot.old
    except Unsupported:
        return None
    return slot


def recorded_text(doc: SourceDoc, path: Path, layout: Layout | None = None) -> str | None:
    """The recorded form of the node at ``path`` (see above); None for the document's root, a
    path that leads nowhere or through an alias, a text that cannot be dedented, and one that
    does not read alone as the node's data (a block scalar at the very end of a document
    without a final line break)."""
    layout = layout or Layout(doc)
    slot = slot_at(layout, path)
    if slot is None or slot.kind == ROOT:
        return None
    start, end, col = region(layout, slot)
    text = _dedent(doc.text[start:end], col)
    if text is None:
        return None
    if slot.kind == FLOW:
        text = FLOW_MARK + text
    if "\n" in text or "|" in text or ">" in text:  # may read differently alone: check
        assert slot.old is not None
        readable, data = verbatim_data(text)
        if readable and not strict_equal(data, slot.old.data):
            return None
    return text


def verbatim_data(text: str) -> tuple[bool, Any]:
    """``(True, data)``: what a recorded form reads as, followed by a line break (as it is in
    its document, but at the very end of one without a final line break); ``(False, None)``
    when it cannot be read alone (an alias of an anchor elsewhere in the document)."""
    kind = text[:1]
    try:
        if kind == ":":
            data = load_document('"k"' + text + "\n").data
            if isinstance(data, dict) and "k" in data:
                return True, data["k"]
        elif kind == "-":
            data = load_document(text + "\n").data
            if isinstance(data, list) and len(data) == 1:
                return True, data[0]
        elif kind == FLOW_MARK:
            return True, load_document(text[1:] + "\n").data
    except YamlSyntaxError:
        pass
    return False, None


def node_paths(doc: SourceDoc, nodes: list[Node]) -> list[Path]:
    """The paths of ``nodes`` (original nodes of ``doc``), in document order, each once; nodes
    no path names (inside a ``<<`` merge entry, shadowed duplicates) are left out."""
    wanted = {id(n) for n in nodes}
    out: list[Path] = []

    def walk(n: Node, path: list[str | int]) -> None:
        if id(n) in wanted:
            out.append(tuple(path))
        if isinstance(n, MapNode):
            merges = set(n.merges)
            last = {ks: i for i, (_k, _v, ks) in enumerate(n.entries) if i not in merges}
            for ks, i in last.items():
                path.append(ks)
                walk(n.entries[i][1], path)
                path.pop()
        elif isinstance(n, SeqNode):
            for i, it in enumerate(n.items):
                path.append(i)
                walk(it, path)
                path.pop()

    if doc.root is not None and wanted:
        walk(doc.root, [])
    return out


def differing_paths(a: SourceDoc, b: SourceDoc) -> list[Path] | None:
    """Where two documents of the same data are written differently: the paths of the
    smallest slots whose text differs (a collection whose children are all the same but which
    differs itself: its own path). None when only the document around its root differs, or the
    documents' data differ."""
    if a.root is None or b.root is None:
        return None
    la, lb = Layout(a), Layout(b)
    out: list[Path] = []

    def text(layout: Layout, slot: Slot) -> str:
        if slot.kind == ROOT:
            return layout.text
        start, end, _col = region(layout, slot)
        return layout.text[start:end]

    def walk(sa: Slot, sb: Slot, path: Path) -> None:
        if text(la, sa) == text(lb, sb):
            return
        na, nb = sa.old, sb.old
        if (isinstance(na, (MapNode, SeqNode)) and type(na) is type(nb)
                and na.flow == nb.flow):
            ka, kb = list(_children(la, na)), list(_children(lb, nb))
            if [t for t, _ in ka] == [t for t, _ in kb]:
                n = len(out)
                for (t, ca), (_t, cb) in zip(ka, kb, strict=True):
                    walk(ca, cb, (*path, t))
                if len(out) > n:
                    return
        out.append(path)

    try:
        walk(Slot(ROOT, a.root), Slot(ROOT, b.root), ())
    except Unsupported:
        return None
    return None if () in out else out
