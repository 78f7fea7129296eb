"""The working tree of a JSON-patch application: which nodes of a parsed document an op
sequence kept, replaced, added or removed (see :mod:`meshctl.yamltext.edit` for the rules).

It overlays the position index of :mod:`meshctl.yamltext.source`: containers an op passes
through are wrapped (:class:`WMap`/:class:`WSeq`) and their children are original nodes
(untouched), wrappers, :class:`New` values (added or replaced content, plain data) or
:class:`Merged` keys (present only through a ``<<`` merge). Untouched subtrees are never
visited. :class:`WorkingTree` applies RFC 6902 ops to it; the renderer then turns it into text
edits.
"""

from __future__ import annotations

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

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final


class PatchError(ValueError):
    """An op cannot be applied (missing path, bad index, failed ``test``)."""


class New:
    """Added or replaced content. ``orig``: the original node whose slot it occupies (an
    in-place replacement), or None (appended). ``owned``: value is ours to mutate."""

    __slots__ = ("value", "orig", "owned")

    def __init__(self, value: Any, orig: Node | None, owned: bool = False) -> None:
        self.value = value
        self.orig = orig
        self.owned = owned


class Verbatim:
    """An op value to write as this exact source text: a node's *recorded form*
    (:func:`meshctl.yamltext.recorded.recorded_text`: the text of its slot, from the ``:`` of its
    key or the ``-`` of its item, or ``=`` and a flow value) that reads as ``data``. The
    renderer writes the text re-indented for its slot; where the slot is not of the recorded
    kind, or the value lands inside new content, ``data`` is written instead."""

    __slots__ = ("text", "data")

    def __init__(self, text: str, data: Any) -> None:
        self.text = text
        self.data = data

    def __repr__(self) -> str:
        return f"Verbatim({self.text!r}, {self.data!r})"


def plain(value: Any) -> Any:
    """The data of an op value (a :class:`Verbatim` stands for its data)."""
    return value.data if isinstance(value, Verbatim) else value


class Merged:
    """A key present only through a ``<<`` merge (data copied at load time)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class WMap:
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
                ch[k] = Merged(x)
        else:
            for _k, v, ks in node.entries:
                ch[ks] = v
        self.children = ch
        self.expand_merge = False


class WSeq:
    __slots__ = ("node", "items")

    def __init__(self, node: SeqNode) -> None:
        self.node = node
        self.items: list[Any] = list(node.items)


MISSING: Final = object()


def orig_of(ch: Any) -> Node | None:
    if isinstance(ch, Node):
        return ch
    if isinstance(ch, (WMap, WSeq)):
        return ch.node
    if isinstance(ch, New):
        return ch.orig
    return None


def current(ch: Any) -> Any:
    """The data a working-tree child stands for now."""
    if isinstance(ch, Node):
        return ch.data
    if isinstance(ch, New):
        return plain(ch.value)
    if isinstance(ch, Merged):
        return ch.value
    if isinstance(ch, WMap):
        return {k: current(c) for k, c in ch.children.items()}
    if isinstance(ch, WSeq):
        return [current(c) for c in ch.items]
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


class WorkingTree:
    """The working tree of one document, and the ops that build it."""

    __slots__ = ("doc", "root", "empty", "anchors", "dirty", "expand")

    def __init__(self, doc: SourceDoc) -> None:
        self.doc = doc
        #: stands for the missing root of an empty document until an op replaces it
        self.empty = New(None, None, True)
        self.root: Any = doc.root if doc.root is not None else self.empty
        self.anchors = bool(doc.anchored)
        self.dirty: set[int] = set()  # ids of anchored nodes whose content changes
        self.expand: set[int] = set()  # ids of alias sites to rewrite as copies

    # -- descent ---------------------------------------------------------------------------

    def _wrap(self, n: Node, touch_only: bool = False) -> Any:
        if self.anchors and not touch_only and n.anchor is not None:
            self.dirty.add(id(n))
        if isinstance(n, MapNode):
            return WMap(n)
        if isinstance(n, SeqNode):
            return WSeq(n)
        raise PatchError("cannot descend into a scalar")

    def _enter(self, ch: Any) -> tuple[Any, Any]:
        """(what to store in the parent slot, the handle to continue with) for writing."""
        if isinstance(ch, (WMap, WSeq)):
            return ch, ch
        if isinstance(ch, (MapNode, SeqNode)):
            w = self._wrap(ch)
            return w, w
        if isinstance(ch, AliasNode):
            nw = New(copy_data(ch.data), ch, True)
            return nw, nw.value
        if isinstance(ch, Merged):
            nw = New(copy_data(ch.value), None, True)
            return nw, nw.value
        if isinstance(ch, New):
            if not ch.owned or isinstance(ch.value, Verbatim):  # an op inside: data from now on
                ch.value = copy_data(plain(ch.value))
                ch.owned = True
            return ch, ch.value
        raise PatchError("cannot descend into a scalar")

    def _step(self, cur: Any, tok: str) -> Any:
        if isinstance(cur, WMap):
            ch = cur.children.get(tok, MISSING)
            if ch is MISSING:
                raise PatchError(f"no member {tok!r}")
            store, h = self._enter(ch)
            if store is not ch:
                cur.children[tok] = store
        elif isinstance(cur, WSeq):
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
        if not isinstance(h, (dict, list, WMap, WSeq)):
            raise PatchError("cannot descend into a scalar")
        return h

    def _parent(self, toks: list[str]) -> Any:
        root = self.root
        if isinstance(root, (ScalarNode, New)) and not isinstance(
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
        o = orig_of(ch)
        if o is not None and not isinstance(ch, New):
            _subtree_anchors(o, self.dirty)

    # -- ops -------------------------------------------------------------------------------

    def get(self, toks: list[str]) -> Any:
        """The current value at a path (read only: nothing is wrapped or copied)."""
        cur: Any = self.root
        i = 0
        while i < len(toks) and isinstance(cur, (WMap, WSeq)):
            t = toks[i]
            if isinstance(cur, WMap):
                cur = cur.children.get(t, MISSING)
                if cur is MISSING:
                    raise PatchError(f"no member {t!r}")
            else:
                cur = cur.items[_index(t, len(cur.items))]
            i += 1
        d = current(cur)
        for t in toks[i:]:
            if isinstance(d, dict):
                d = d.get(t, MISSING)
                if d is MISSING:
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
            self.root = New(plain(value), orig_of(old))
            return
        parent = self._parent(toks[:-1])
        last = toks[-1]
        if not isinstance(parent, (WMap, WSeq, dict, list)):
            raise PatchError("cannot add into a scalar")
        if isinstance(parent, WMap):
            old = parent.children.get(last, MISSING)
            if old is MISSING:
                if must_exist:
                    raise PatchError(f"no member {last!r} to replace")
                parent.children[last] = New(plain(value), None)
            else:
                self._removed(old)
                orig = orig_of(old)
                parent.children[last] = New(value if orig is not None else plain(value), orig)
        elif isinstance(parent, WSeq):
            items = parent.items
            if must_exist:
                i = _index(last, len(items))
                self._removed(items[i])
                orig = orig_of(items[i])
                items[i] = New(value if orig is not None else plain(value), orig)
            else:
                i = len(items) if last == "-" else _index(last, len(items) + 1)
                items.insert(i, New(plain(value), None))
        elif isinstance(parent, dict):
            if must_exist and last not in parent:
                raise PatchError(f"no member {last!r} to replace")
            parent[last] = copy_data(plain(value))
        else:
            if must_exist:
                parent[_index(last, len(parent))] = copy_data(plain(value))
            else:
                i = len(parent) if last == "-" else _index(last, len(parent) + 1)
                parent.insert(i, copy_data(plain(value)))

    def remove(self, toks: list[str]) -> None:
        if not toks:
            self.add(toks, None)
            return
        parent = self._parent(toks[:-1])
        last = toks[-1]
        if not isinstance(parent, (WMap, WSeq, dict, list)):
            raise PatchError("cannot remove from a scalar")
        if isinstance(parent, WMap):
            old = parent.children.pop(last, MISSING)
            if old is MISSING:
                raise PatchError(f"no member {last!r} to remove")
            self._removed(old)
            if last in parent.node.merge_keys:
                parent.expand_merge = True  # else the merged value would show through
        elif isinstance(parent, WSeq):
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

    # -- aliases ---------------------------------------------------------------------------

    def mark_alias_expansions(self) -> None:
        """Find alias sites of changed/removed anchors that are still in the output and mark
        them (and the containers on their way) for rewriting as explicit copies."""
        state = self
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
            elif not (isinstance(cur, (WMap, WSeq)) and cur.node is doc.root):
                continue
            for parent, key, child in path:
                if not (isinstance(cur, (WMap, WSeq)) and cur.node is parent):
                    cur = None
                    break
                if isinstance(key, tuple):  # inside a "<<" merge entry
                    assert isinstance(cur, WMap)
                    cur.expand_merge = True
                    cur = None
                    break
                if isinstance(cur, WMap):
                    c = cur.children.get(key, MISSING)
                    if c is child:
                        if child is a:
                            state.expand.add(id(a))
                            cur = None
                            break
                        cur.children[key] = cur2 = state._wrap(child, touch_only=True)
                        cur = cur2
                    elif isinstance(c, (WMap, WSeq)) and c.node is child:
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
                            if c is child or (isinstance(c, (WMap, WSeq)) and c.node is child)
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


def _index(tok: str, size: int) -> int:
    if not tok.isdigit() or (len(tok) > 1 and tok[0] == "0"):
        raise PatchError(f"bad list index {tok!r}")
    i = int(tok)
    if i >= size:
        raise PatchError(f"list index {i} out of range")
    return i


# --- rendering -----------------------------------------------------------------------------


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
