"""Where things are in a document's source text, and the style it is written in.

:class:`Layout` answers the renderer's questions about the original text: line boundaries,
columns, where a value really ends (block scalars, glued comment lines), the ``-`` of an item,
the ``:`` of a key, the indentation steps the document uses (:class:`BlockStyle`) and, for a
JSON document, its separators and indent width. Everything is computed from the text and the
position index of :mod:`meshctl.yamltext.source`, lazily and cached per node.
"""

from __future__ import annotations

import re

from meshctl.yamltext.emitter import BlockStyle
from meshctl.yamltext.source import MapNode, Node, ScalarNode, SeqNode, SourceDoc

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Final


class Unsupported(Exception):  # noqa: N818 - a signal
    """A construct the incremental editor does not handle; the caller rewrites the container."""


FLOW_SEP: Final = re.compile(r"[ \t]*,[ \t]*(?:\r?\n[ \t]*)?")
KEY_SEP: Final = re.compile(r"[ \t]*:[ \t]*")


def is_empty(n: Node) -> bool:
    return isinstance(n, ScalarNode) and n.style == "" and n.value == "" and n.tag is None


def is_block(n: Node | None) -> bool:
    return isinstance(n, (MapNode, SeqNode)) and not n.flow


class Layout:
    """The geometry and style of one document's source text."""

    def __init__(self, doc: SourceDoc) -> None:
        text = doc.text
        self.text = text
        self.doc = doc
        i = text.find("\n")
        #: the document's line break (CRLF documents get CRLF in added lines)
        self.nl = "\r\n" if i > 0 and text[i - 1] == "\r" else "\n"
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
        raise Unsupported("no ':' after key")

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
        raise Unsupported("cannot find the '-' of a sequence item")

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
                        except Unsupported:
                            d = -1
                        if d >= 0:
                            found["seq"] = d
                stack.extend(v for _k, v, _ks in reversed(n.entries))
            elif isinstance(n, SeqNode) and not n.flow:
                if "off" not in found:
                    d = self.item_offset(n)
                    if d:
                        found["off"] = d
                stack.extend(reversed(n.items))
        indent = found.get("indent", 2)
        return BlockStyle(indent, found.get("seq", indent), found.get("off", 2))

    def item_offset(self, seq: SeqNode, dashes: list[int] | None = None) -> int:
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
            except Unsupported:
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
            if KEY_SEP.fullmatch(sep):
                self.json_key_sep = sep
        if len(kids) > 1:
            first = root.entries[0][1] if isinstance(root, MapNode) else root.items[0]
            sep = text[self.vend(first) : kids[1][0]]
            if FLOW_SEP.fullmatch(sep) and "\n" not in sep:
                self.json_item_sep = sep
