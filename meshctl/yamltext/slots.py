"""Slots: where a value sits in a document's text, and the region of its recorded form.

Shared by the renderer (:mod:`meshctl.yamltext.edit`), which writes values into slots, and the
recorded forms (:mod:`meshctl.yamltext.recorded`), which read them back out.
"""

from __future__ import annotations

import enum

from meshctl.yamltext.layout import Layout
from meshctl.yamltext.source import Node, ScalarNode


class SlotKind(enum.IntEnum):
    """Where a value sits in the text (what :class:`Slot`'s ``ind`` and ``col`` mean)."""

    MAP_VALUE = 0  # value of a block mapping entry (ind = colon end, col = key column)
    SEQ_ITEM = 1  # block sequence item (ind = dash position, col = dash column)
    FLOW = 2  # value inside a flow collection
    ROOT = 3  # the document's root


MAP_VALUE, SEQ_ITEM, FLOW, ROOT = SlotKind

#: what became of an original entry or item
REMOVED, KEPT, REPLACED = 0, 1, 2  # KEPT: maybe modified inside; REPLACED: a new value


class Slot:
    """A value's place: its kind, the original node there (None: new), and what ``ind`` and
    ``col`` mean for the kind (see :class:`SlotKind`)."""

    __slots__ = ("kind", "old", "ind", "col")

    def __init__(self, kind: SlotKind, old: Node | None, ind: int = 0, col: int = 0) -> None:
        self.kind = kind
        self.old = old
        self.ind = ind
        self.col = col


#: the first character of a recorded form of a flow value
FLOW_MARK = "="
#: the first character of a recorded form, by the kind of its slot
KIND_MARK = {MAP_VALUE: ":", SEQ_ITEM: "-", FLOW: FLOW_MARK, ROOT: ""}


def styled(written: str) -> ScalarNode:
    """A stand-in for the scalar that ``written`` parses to: only its quoting style."""
    n = ScalarNode()
    n.style = written[:1] if written[:1] in ("'", '"') else ""
    return n


def region(layout: Layout, slot: Slot) -> tuple[int, int, int]:
    """``(start, end, column)`` of a slot's recorded form in ``layout``'s text."""
    old = slot.old
    assert old is not None
    if slot.kind == FLOW:
        return old.start, layout.vend(old), layout.line_indent(old.start)
    start = slot.ind - 1 if slot.kind == MAP_VALUE else slot.ind
    return start, layout.glued_end(layout.vend(old), slot.col, True), slot.col


def reindent(text: str, col: int) -> str:
    """Recorded text written at ``col``: lines after the first indented by it."""
    if "\n" not in text:
        return text
    pad = " " * col
    lines = text.split("\n")
    return "\n".join([lines[0], *(ln if ln.rstrip("\r") == "" else pad + ln
                                  for ln in lines[1:])])
