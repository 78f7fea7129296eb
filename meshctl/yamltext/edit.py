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
from collections.abc import Callable

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
from meshctl.yamltext.layout import (
    FLOW_SEP,
    KEY_SEP,
    Layout,
    Unsupported,
    is_block,
    is_empty,
)
from meshctl.yamltext.recorded import node_paths
from meshctl.yamltext.slots import (
    FLOW,
    FLOW_MARK,
    KEPT,
    KIND_MARK,
    MAP_VALUE,
    REMOVED,
    REPLACED,
    ROOT,
    SEQ_ITEM,
    Slot,
    region,
    reindent,
    styled,
)
from meshctl.yamltext.source import (
    AliasNode,
    MapNode,
    Node,
    ScalarNode,
    SeqNode,
    SourceDoc,
)
from meshctl.yamltext.tree import (
    MISSING,
    Merged,
    New,
    PatchError,
    Verbatim,
    WMap,
    WorkingTree,
    WSeq,
    current,
    orig_of,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any
    #: a flow collection's original child: (start, end, value node, REMOVED/KEPT/REPLACED, child)
    _FlowKid = tuple[int, int, Node, int, Any]
    #: a path in a document: mapping keys and list indexes (JSON Pointer tokens are accepted)
    Path = tuple[str | int, ...]

__all__ = ["Changes", "PatchError", "Verbatim", "apply_patch_to_text"]

#: a block scalar that keeps its final line breaks (``|+``, ``>2+``)
_KEEP_CHOMPING = re.compile(r"[|>][1-9]?\+")


class Renderer:
    """Turns a working tree into edits of the document's text (see the module docstring)."""

    def __init__(self, doc: SourceDoc, tree: WorkingTree,
                 changes: Changes | None = None) -> None:
        self.doc = doc
        self.text = doc.text
        self.tree = tree
        self.layout = Layout(doc)
        self.nl = self.layout.nl
        self.edits: list[tuple[int, int, int, str]] = []
        #: when given: what the rendering does to original nodes, for the inverse patch
        self.changes = changes
        self.lossy = changes.lossy if changes is not None else None

    def lose(self, node: Node | None) -> None:
        if self.lossy is not None and node is not None:
            self.lossy.append(node)

    def gone(self, node: Node) -> None:
        if self.changes is not None:
            self.changes.gone.append(node)

    def edit(self, s: int, e: int, t: str) -> None:
        self.edits.append((s, e, len(self.edits), t))

    def scalar_text(self, value: Any, old: Node | None, flow: bool) -> str:
        """A scalar, keeping ``old``'s quoting style when the new value allows it."""
        if self.layout.json:
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
        if self.layout.json:
            if isinstance(value, (dict, list)):
                return dump_json(
                    value,
                    self.layout.json_indent,
                    base,
                    self.layout.json_item_sep,
                    self.layout.json_key_sep,
                )
            return dump_json(value)
        if isinstance(value, (dict, list)):
            return dump_flow(value)
        return self.scalar_text(value, old, True)

    def block_value(
        self, value: Any, old: Node | None, slot: Slot, st: BlockStyle, flow_pref: bool
    ) -> tuple[str, list[str], bool]:
        """(header on the slot's line, body lines below, whether the header is a compact
        container that must start right after the dash)."""
        if isinstance(value, (dict, list)):
            if not value:
                return ("{}" if isinstance(value, dict) else "[]"), [], False
            if flow_pref:
                return dump_flow(value), [], False
            body: list[str] = []
            if slot.kind == MAP_VALUE:
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
                step = st.indent if slot.kind == MAP_VALUE else st.item_offset
                body = []
                literal_body(value, slot.col + step, body)
                return literal_header(value, step), body, False
            return double_quoted(value), [], False
        if value is None and slot.kind == MAP_VALUE and is_block(old):
            return "", [], False
        return self.scalar_text(value, old, False), [], False

    def replace(self, slot: Slot, value: Any, st: BlockStyle, flow_pref: bool = False) -> None:
        old = slot.old
        k = slot.kind
        if isinstance(value, Verbatim):
            if self.verbatim(slot, value):
                return
            value = value.data
        if self.changes is not None:
            if not self.invertible(slot, value, st, flow_pref):
                self.lose(old if k != ROOT else self.doc.root)
            target = old if k != ROOT else self.doc.root
            if isinstance(target, (MapNode, SeqNode, AliasNode)):
                self.changes.replaced.append(target)
        if k == ROOT:
            self.replace_root(value, st)
            return
        assert old is not None
        if k == FLOW:
            self.edit(
                old.start,
                self.layout.vend(old),
                self.flow_text(value, old, self.layout.line_indent(old.start)),
            )
            return
        header, body, compact = self.block_value(value, old, slot, st, flow_pref)
        ve = self.layout.vend(old)
        old_block = is_block(old) or is_empty(old)
        if is_block(old):
            # comment lines glued below a block value, deeper than its key/dash, are its own
            ve = self.layout.glued_end(ve, slot.col, True)
        if k == MAP_VALUE:
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
            le = self.layout.line_end(ve)
            if le == ve:
                self.edit(start, ve, htext + btext)
            else:
                self.edit(start, ve, htext)
                self.edit(le, le, btext)
        else:
            self.edit(start, ve, htext)

    def verbatim(self, slot: Slot, value: Verbatim) -> bool:
        """Write a recorded text into its slot (False: the slot is not of the recorded kind)."""
        old = slot.old
        if old is None or slot.kind == ROOT:
            return False
        kind = value.text[:1]
        if kind != KIND_MARK[slot.kind]:
            return False
        start, end, col = region(self.layout, slot)
        body = value.text[1:] if kind == FLOW_MARK else value.text
        self.edit(start, end, reindent(body, col))
        return True

    def invertible(self, slot: Slot, value: Any, st: BlockStyle, flow_pref: bool) -> bool:
        """Whether replacing the original scalar of ``slot`` by the scalar ``value`` is undone
        byte for byte by the inverse replacement (the quoting survives both ways)."""
        old = slot.old
        if (slot.kind == ROOT or not isinstance(old, ScalarNode) or old.anchor is not None
                or old.tag is not None or old.style not in ("", "'", '"') or is_empty(old)
                or isinstance(value, (dict, list))):
            return False
        orig = self.text[old.start : old.end]
        if "\n" in orig:
            return False
        if slot.kind == FLOW:
            base = self.layout.line_indent(old.start)
            written = self.flow_text(value, old, base)
            back = self.flow_text(old.data, styled(written), base)
        else:
            written, body, _ = self.block_value(value, old, slot, st, flow_pref)
            if body:
                return False
            back, body, _ = self.block_value(old.data, styled(written), slot, st, False)
            if body:
                return False
        return back == orig

    def replace_root(self, value: Any, st: BlockStyle) -> None:
        root = self.doc.root
        text = self.text
        nl = self.nl
        if self.layout.json or (isinstance(root, (MapNode, SeqNode)) and root.flow):
            if self.layout.json:
                t = dump_json(
                    value,
                    self.layout.json_indent,
                    0,
                    self.layout.json_item_sep,
                    self.layout.json_key_sep,
                )
            else:
                t = dump_flow(value)
            lines = [t]
            col = 0
        elif isinstance(value, (dict, list)) and value:
            col = self.layout.col(root.start) if root is not None else 0
            lines = []
            block_lines(value, col, st, lines)
        else:
            col = 0
            lines = [dump_value_inline(value)]
        if root is None or is_empty(root):
            # empty document: write after everything, before a closing "..." if there is one
            m = re.search(r"(?m)^\.\.\.[ \t]*(#.*)?\r?$", text)
            pos = m.start() if m else len(text)
            pre = "" if pos == 0 or text[pos - 1] == "\n" else nl
            self.edit(pos, pos, pre + nl.join(lines) + nl)
            return
        if (
            isinstance(value, (dict, list))
            and value
            and not (self.layout.json or (isinstance(root, (MapNode, SeqNode)) and root.flow))
        ):
            ls = self.layout.line_start(root.start)
            if text[ls : root.start].strip(" \t"):  # "--- 5": a block cannot start there
                self.edit(
                    root.start, self.layout.vend(root), nl + nl.join(ln[col:] for ln in lines)
                )
                return
        first = lines[0][col:] if lines[0][:col].strip() == "" else lines[0]
        self.edit(root.start, self.layout.vend(root), nl.join([first, *lines[1:]]))

    def render_child(self, ch: Any, slot: Slot, st: BlockStyle) -> None:
        if isinstance(ch, New):
            if ch.orig is not None or slot.kind == ROOT:
                self.replace(slot, ch.value, st)
        elif isinstance(ch, (WMap, WSeq)):
            mark = len(self.edits)
            try:
                if ch.node.flow:
                    self.render_flow(ch, slot, st)
                elif isinstance(ch, WMap):
                    self.render_block_map(ch, slot, st)
                else:
                    self.render_block_seq(ch, slot, st)
            except Unsupported:
                del self.edits[mark:]
                self.replace(slot, current(ch), st)
        elif isinstance(ch, AliasNode) and id(ch) in self.tree.expand:
            t = ch.target
            self.replace(slot, ch.data, st, isinstance(t, (MapNode, SeqNode)) and t.flow)

    def _map_status(self, w: WMap, expand: bool) -> list[int]:
        """Per original entry: REMOVED, KEPT (maybe modified inside) or REPLACED."""
        node = w.node
        entries = node.entries
        merges = set(node.merges) if node.merges else ()
        last: dict[str, int] = {}
        for i, (_k, _v, ks) in enumerate(entries):
            if i not in merges:
                last[ks] = i
        ch = w.children
        status = [REMOVED] * len(entries)
        for i, (_k, _v, ks) in enumerate(entries):
            if i in merges:
                status[i] = REMOVED if expand else KEPT
                continue
            c = ch.get(ks, MISSING)
            li = last[ks]
            target = entries[li][1]
            if c is target or (isinstance(c, (WMap, WSeq)) and c.node is target):
                status[i] = KEPT
            elif isinstance(c, New) and c.orig is target:
                status[i] = REPLACED if i == li else KEPT
            elif isinstance(c, AliasNode) and c is target:
                status[i] = KEPT
        return status

    def _merge_expand(self, w: WMap) -> bool:
        if w.expand_merge:
            return True
        node = w.node
        if not node.merges or not self.tree.dirty:
            return False
        dirty = self.tree.dirty
        for i in node.merges:
            v = node.entries[i][1]
            for src in v.items if isinstance(v, SeqNode) else [v]:
                t = src.target if isinstance(src, AliasNode) else src
                if id(t) in dirty:
                    return True
        return False

    def _new_entries(self, w: WMap, expand: bool) -> list[tuple[str, Any]]:
        out = []
        for ks, c in w.children.items():
            if (isinstance(c, New) and c.orig is None) or (expand and isinstance(c, Merged)):
                out.append((ks, c.value))
        return out

    def _local_style(self, node: MapNode, col: int, st: BlockStyle) -> BlockStyle:
        """Refine the inherited style with what this mapping's own entries show."""
        indent, seq, off = st
        for _k, v, _ks in node.entries:
            if isinstance(v, MapNode) and not v.flow:
                d = self.layout.map_col(v) - col
                if d > 0:
                    indent = d
            elif isinstance(v, SeqNode) and not v.flow:
                try:
                    d = self.layout.col(self.layout.dash_pos(v.items[0])) - col
                except Unsupported:
                    continue
                if d >= 0:
                    seq = d
        return BlockStyle(indent, seq, off)

    def render_block_map(self, w: WMap, slot: Slot, st: BlockStyle) -> None:
        node = w.node
        entries = node.entries
        expand = self._merge_expand(w)
        status = self._map_status(w, expand)
        kept = [i for i, s in enumerate(status) if s != REMOVED]
        if not kept:
            self.replace(slot, current(w), st)
            return
        col = self.layout.map_col(node)
        new = self._new_entries(w, expand)
        if self.lossy is not None and self._map_loses(w, status, new, expand):
            self.lose(node)
        if new or REPLACED in status:
            st = self._local_style(node, col, st)
        children = w.children
        for i, (k, v, ks) in enumerate(entries):
            s = status[i]
            if s == REMOVED:
                self.gone(v)
                j = k.start - 1
                while j > 0 and self.text[j] in " \t":
                    j -= 1
                if self.text[j] == "?":
                    raise Unsupported("explicit key")
                self._delete_lines(
                    k.start, self.layout.glued_end(self.layout.vend(v), col, True), i == 0
                )
                continue
            c = children.get(ks) if i not in node.merges else None
            if c is None or (s == KEPT and orig_of(c) is not v):
                continue
            if s == REPLACED or isinstance(c, (WMap, WSeq, AliasNode)):
                cst = st
                if isinstance(c, WMap) and not c.node.flow:
                    cst = st._replace(indent=max(1, self.layout.map_col(c.node) - col))
                elif isinstance(c, WSeq) and not c.node.flow:
                    cst = st._replace(
                        seq_indent=max(
                            0, self.layout.col(self.layout.dash_pos(c.node.items[0])) - col
                        )
                    )
                self.render_child(c, Slot(MAP_VALUE, v, self.layout.colon_end(k), col), cst)
        if new:
            r = kept[-1]
            tail = self.layout.glued_end(self.layout.vend(entries[r][1]), col, False)
            pos, pre = self.layout.after_line(tail)
            out: list[str] = []
            for ks, val in new:
                entry_lines(ks, val, col, st, out)
            nl = self.nl
            self.edit(pos, pos, pre + nl.join(out) + ("" if pre else nl))

    @staticmethod
    def _map_loses(w: WMap, status: list[int], new: list[tuple[str, Any]], expand: bool) -> bool:
        """A mapping whose bytes an inverse patch would not give back: entries removed (they
        would come back at its end), ``<<`` merges expanded or shadowed by new local keys."""
        return (REMOVED in status or expand
                or (bool(w.node.merge_keys) and any(k in w.node.merge_keys for k, _ in new)))

    def _delete_lines(self, start: int, ext: int, first: bool) -> None:
        """Delete the lines of an entry/item starting at ``start`` through ``ext``.

        When something precedes ``start`` on its line (a compact ``- key: v`` or ``- - a``),
        only the entry's text goes and the line keeps its ``-``: ``-`` followed by the
        remaining entries on their own lines is the same YAML. (A compact sequence instead
        pulls its next kept item up, see ``render_block_seq``: that mirrors inserting before a
        compact first item, so removing an item this engine added restores the bytes.)
        """
        text = self.text
        ls = self.layout.line_start(start)
        if text[ls:start].strip(" \t") == "":
            self.edit(ls, self.layout.next_line(ext) if ext < len(text) else ext, "")
            return
        if not first:
            raise Unsupported("entry shares its line")
        j = start
        while j > ls and text[j - 1] in " \t":
            j -= 1
        self.edit(j, ext, "")

    def render_block_seq(self, w: WSeq, slot: Slot, st: BlockStyle) -> None:
        node = w.node
        orig = node.items
        final, kept = self._seq_alignment(w)
        used = [c is not None for c in kept]
        if not any(used):
            self.replace(slot, current(w), st)
            return
        text = self.text
        dashes = [self.layout.dash_pos(it) for it in orig]
        dcol = self.layout.col(dashes[0])
        compact = text[self.layout.line_start(dashes[0]) : dashes[0]].strip(" \t") != ""
        off = self.layout.item_offset(node, dashes)
        ist = st._replace(item_offset=off) if off else st
        nl = self.nl
        skip = 0
        if compact and not used[0]:
            # "- - a\n  - b": the first kept item moves up onto the dash line when only the
            # removed items (no comments) lie before it
            k = used.index(True)
            exts = [self.layout.glued_end(self.layout.vend(orig[r]), dcol, True) for r in range(k)]
            if all(text[exts[r] : dashes[r + 1]].strip(" \t\r\n") == "" for r in range(k)):
                self.edit(dashes[0], dashes[k], "")
                skip = k
        if self.changes is not None and not all(used):
            self.lose(node)
            for it, u in zip(orig, used, strict=True):
                if not u:
                    self.gone(it)
        for i, it in enumerate(orig):
            if not used[i] and i >= skip:
                ext = self.layout.glued_end(self.layout.vend(it), dcol, True)
                self._delete_lines(dashes[i], ext, i == 0)
        pending: list[Any] = []
        for i, c in final:
            if i < 0:
                pending.append(current(c))
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
                    pos = self.layout.lead_start(dashes[i], dcol)
                    self.edit(pos, pos, nl.join(out) + nl)
                pending = []
            it = orig[i]
            if isinstance(c, (New, WMap, WSeq, AliasNode)):
                self.render_child(c, Slot(SEQ_ITEM, it, dashes[i], dcol), ist)
        if pending:
            r = max(i for i, _c in final if i >= 0)
            tail = self.layout.glued_end(self.layout.vend(orig[r]), dcol, False)
            pos, pre = self.layout.after_line(tail)
            out = []
            for v in pending:
                item_lines(v, dcol, ist, out)
            self.edit(pos, pos, pre + nl.join(out) + ("" if pre else nl))

    def _seq_alignment(self, w: WSeq) -> tuple[list[tuple[int, Any]], list[Any]]:
        """The working items against the original ones: ``(original index or -1, child)`` in
        output order, and per original item the child that keeps it (None: removed)."""
        orig = w.node.items
        pos_of = {id(it): i for i, it in enumerate(orig)}
        kept: list[Any] = [None] * len(orig)
        last = -1
        order: list[tuple[int, Any]] = []
        for c in w.items:
            o = orig_of(c)
            i = pos_of.get(id(o), -1) if o is not None else -1
            if i >= 0 and kept[i] is None:
                if i < last:
                    raise Unsupported("items reordered")
                kept[i] = c
                last = i
                order.append((i, c))
            else:
                order.append((-1, c))
        return order, kept

    def _flow_children(
        self, w: WMap | WSeq
    ) -> tuple[list[_FlowKid], list[tuple[int, Any]], list[tuple[str | None, Any]]]:
        """A flow collection's original children, the items to insert before an original one
        (sequences), and the entries/items to append at the end."""
        kids: list[_FlowKid] = []
        if isinstance(w, WMap):
            node = w.node
            expand = self._merge_expand(w)
            status = self._map_status(w, expand)
            for i, (k, v, ks) in enumerate(node.entries):
                c = w.children.get(ks) if i not in node.merges else None
                kids.append((k.start, max(self.layout.vend(v), k.end), v, status[i], c))
            return kids, [], [(ks, val) for ks, val in self._new_entries(w, expand)]
        order, kept = self._seq_alignment(w)
        inserted: list[tuple[int, Any]] = []
        pending: list[Any] = []
        for i, c in order:
            if i < 0:
                pending.append(current(c))
            else:
                inserted.extend((i, v) for v in pending)
                pending = []
        for i, it in enumerate(w.node.items):
            c = kept[i]
            state = REMOVED if c is None else (REPLACED if isinstance(c, New) else KEPT)
            kids.append((it.start, self.layout.vend(it), it, state, c))
        return kids, inserted, [(None, v) for v in pending]

    def _flow_separators(
        self, node: MapNode | SeqNode, kids: list[_FlowKid], last: int
    ) -> tuple[str, str, bool, int]:
        """(item separator, key separator, multi-line?, indent of new items), as the
        collection writes them."""
        text = self.text
        lay = self.layout
        bracket = text.find("{" if isinstance(node, MapNode) else "[", node.start)
        multi = lay.line_start(kids[0][0]) != lay.line_start(bracket)
        col = lay.col(kids[last][0])
        sep = None
        if len(kids) > 1:
            between = text[kids[0][1] : kids[1][0]]
            if FLOW_SEP.fullmatch(between) and ("\n" in between) == multi:
                sep = between
        if sep is None:
            inline = lay.json_item_sep if lay.json else ", "
            sep = "," + lay.nl + " " * col if multi else inline
        ksep = lay.json_key_sep if lay.json else ": "
        if isinstance(node, MapNode):
            k0, v0, _ks = node.entries[0]
            between = text[k0.end : v0.start]
            if KEY_SEP.fullmatch(between):
                ksep = between
        base = col if multi else lay.line_indent(kids[last][0])
        return sep, ksep, multi, base

    def render_flow(self, w: WMap | WSeq, slot: Slot, st: BlockStyle) -> None:
        node = w.node
        lay = self.layout
        kids, inserted, appended = self._flow_children(w)
        kept = [i for i, kd in enumerate(kids) if kd[3] != REMOVED]
        if self.changes is not None:
            for kd in kids:
                if kd[3] == REMOVED:
                    self.gone(kd[2])
        if self.lossy is not None and (
                len(kept) < len(kids) or not kids
                or (isinstance(w, WMap) and self._map_loses(
                    w, [kd[3] for kd in kids], [(k or "", v) for k, v in appended],
                    self._merge_expand(w)))):
            self.lose(node)
        if not kept:
            data = current(w)
            if not kids and not lay.json and slot.kind in (MAP_VALUE, SEQ_ITEM):
                self.replace(slot, data, st)  # empty {} / [] in block context: go block
            elif slot.kind == ROOT:
                self.replace_root(data, st)
            else:
                text = self.flow_text(data, None, lay.line_indent(node.start))
                self.edit(node.start, node.end, text)
            return
        last = kept[-1]
        sep, ksep, multi, base = self._flow_separators(node, kids, last)

        def item_text(key: str | None, value: Any) -> str:
            if lay.json:
                vt = dump_json(
                    value,
                    lay.json_indent if multi else None,
                    base,
                    lay.json_item_sep,
                    lay.json_key_sep,
                )
                return vt if key is None else dump_json(key) + ksep + vt
            vt = dump_flow(value)
            return vt if key is None else dump_scalar(key, True) + ksep + vt

        # removals: an item with the separator after it; after the last kept one, before it
        n = len(kids)
        for i in range(last):
            if kids[i][3] == REMOVED:
                self.edit(kids[i][0], kids[i + 1][0], "")
        if last < n - 1:
            self.edit(kids[last][1], kids[n - 1][1], "")
        # modifications
        for i in kept:
            _start, _end, vnode, state, c = kids[i]
            if (
                c is not None
                and orig_of(c) is vnode
                and (state == REPLACED or isinstance(c, (WMap, WSeq, AliasNode)))
            ):
                self.render_child(c, Slot(FLOW, vnode), st)
        # insertions
        for i, v in inserted:
            self.edit(kids[i][0], kids[i][0], item_text(None, v) + sep)
        if appended:
            t = "".join(sep + item_text(k, v) for k, v in appended)
            self.edit(kids[last][1], kids[last][1], t)

    def run(self) -> str:
        state = self.tree
        if state.dirty:
            self.tree.mark_alias_expansions()
        root = state.root
        if root is state.empty:
            return self.text
        st = DEFAULT_STYLE if self.layout.json else self.layout.doc_style()
        self.render_child(root, Slot(ROOT, self.doc.root), st)
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
        out = "".join(parts)
        if (edits and edits[-1][1] == len(text) and not edits[-1][3] and text
                and text[-1] != "\n" and out.endswith("\n") and not _KEEP_CHOMPING.search(out)):
            # the last lines of a document without a final line break went: so does the break
            # before them (new last lines were written after one: removing them gives it back)
            out = out[: -2 if out.endswith("\r\n") else -1]
        return out


class Changes:
    """What applying a patch to a document's text did to its original nodes, as the *inverse*
    patch (the one that turns the new data back into the old) sees it, applied to the result:

    * ``lossy``: nodes whose bytes the inverse would not give back. Everything else it restores
      exactly: added entries and items are removed line for line, a replaced scalar whose
      quoting survives both ways is replaced back;
    * ``gone``: nodes whose slot is not in the result (removed entries and items);
    * ``replaced``: collections (and aliases) written over: their children's slots are gone.

    :func:`node_paths` tells where they are."""

    __slots__ = ("lossy", "gone", "replaced")

    def __init__(self) -> None:
        self.lossy: list[Node] = []
        self.gone: list[Node] = []
        self.replaced: list[Node] = []

    def kept(self, doc: SourceDoc) -> Callable[[Path], bool]:
        """Whether the slot of the node at a path is still in the result."""
        gone = node_paths(doc, self.gone) if self.gone else []
        replaced = node_paths(doc, self.replaced) if self.replaced else []

        def kept(path: Path) -> bool:
            return not any(path[:len(g)] == g for g in gone) and not any(
                len(path) > len(r) and path[:len(r)] == r for r in replaced)

        return kept


def apply_patch_to_text(doc: SourceDoc, ops: list[dict[str, Any]],
                        changes: Changes | None = None) -> str:
    """The document's text with ``ops`` applied (see the module docstring for the rules).

    An op value may be a :class:`Verbatim`: that text is written as it is (see there).
    ``changes``, when given, gets what the result means for the inverse patch (see there)."""
    if not ops:
        return doc.text
    tree = WorkingTree(doc)
    for op in ops:
        tree.apply(op)
    return Renderer(doc, tree, changes).run()
