"""Steps undone exactly: kube-inject's result made such that kube-uninject gives back the
input's bytes.

Where removing what injection added would not give the user's text back by itself, injection
records what to undo (meshctl's undo record, :mod:`meshctl.sidecar.provenance`): the nodes
where the inverse's data differs, and the nodes whose text the inverse patch would not restore
(the renderer reports them: :class:`meshctl.yamltext.edit.Changes`), by their recorded forms
(:mod:`meshctl.yamltext.recorded`). When that is not known to be enough, the inverse is run on
the result and what still differs is recorded, for a few rounds (:func:`exact_result`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from meshctl.errors import MeshctlError
from meshctl.manifests.read import Chunk
from meshctl.yamltext.edit import Changes, apply_patch_to_text
from meshctl.yamltext.layout import Layout
from meshctl.yamltext.patch import escape, make_patch, parse_pointer, strict_equal
from meshctl.yamltext.recorded import differing_paths, node_paths, recorded_text
from meshctl.yamltext.source import SourceDoc, YamlSyntaxError, load_document

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Protocol

    from meshctl.outcomes import Outcome

    #: a path in an object: mapping keys and list indexes
    Path = tuple[str | int, ...]
    #: recorded source texts: (path, recorded form)
    Texts = tuple[tuple[Path, str], ...]
    #: texts to write back: (path, recorded form, digest or None), see :attr:`Outcome.texts`
    Written = tuple[tuple[Path, str, str | None], ...]
    #: what an inverse step is to undo beyond its own rules: (path, recorded form), or
    #: (path, None): remove what the inverse leaves there
    Undo = tuple[tuple[Path, str | None], ...]
    #: where an inverse differs: the nodes to give back, the paths to remove (in order)
    Sites = tuple[set[Path], list[Path]]

    class Reversal(Protocol):
        """How a step is undone, for steps whose inverse must give back the input's bytes
        (inject, undone by uninject); see :func:`exact_result`."""

        #: a result of the step on a result of its own is made from the inverse's text
        #: (``--reinject strip``: re-injection takes the old injection out completely first)
        rebuilds: bool

        def applies(self, obj: dict[str, Any], pod_path: tuple[str, ...]) -> bool:
            """Whether the step's result on ``obj`` is to be undone exactly (a first
            injection: a re-injection is undone to the first one's input)."""

        def inverse(self, obj: dict[str, Any], pod_path: tuple[str, ...]) -> Outcome:
            """The inverse step (it applies what :meth:`record` kept, and returns its texts)."""

        def record(self, obj: dict[str, Any], pod_path: tuple[str, ...],
                   undo: Undo, undone: dict[str, Any], original: dict[str, Any],
                   ) -> dict[str, Any]:
            """``obj`` (the step's result) keeping ``undo`` for the inverse step: removals (in
            the order given, on the inverse's result without them), then texts. ``undone``:
            the inverse's result without them (each entry applies while its place there is
            unchanged); ``original``: the object the step was given (what the texts read as
            in it)."""

    #: an object of a document the step changed: (its path in the document, the object, its
    #: pod-template path, the new object, the texts of the step's outcome, the keys added to
    #: the object for the step: the kind and apiVersion of a typed list's item)
    Touched = tuple[Path, dict[str, Any], tuple[str, ...], dict[str, Any], Written,
                    tuple[str, ...]]

#: rounds of recording texts, and checking by running the inverse, before a result is kept
REVERSAL_ROUNDS = 3


def exact_result(doc: SourceDoc, chunk: Chunk, touched: list[Touched], reversal: Reversal,
                 inverse_text: Callable[[str], str]) -> tuple[list[dict[str, Any]], str]:
    """The ops and text of the step's result, made such that the inverse step gives back
    the document's bytes: where it would not by itself, the step records what to undo
    (``reversal.record``): what the inverse would leave that the step added, and the
    source texts of the nodes it would not give back.

    That is known without running the inverse in the common case: where its data differs
    (the inverse step on the new object, compared with the object; recorded before the
    text is made) and the nodes whose bytes the inverse patch would not restore (the
    renderer tells: removed entries, replaced containers, scalars whose quoting does not
    survive both ways, aliases...). When each text is one line (a probe's port, an empty
    ``{}``), that is recorded as it is. Otherwise the inverse is run on the result, and the
    slots where its text still differs from the document's are recorded (and the result
    checked again, for a few rounds): no text is recorded where the inverse gives the bytes
    back by itself."""
    data = doc.data
    exact = [t for t in touched if reversal.applies(t[1], t[2])]
    sites: dict[Path, set[Path]] = {t[0]: set() for t in exact}
    removals: dict[Path, list[Path]] = {t[0]: [] for t in exact}
    undone: dict[Path, dict[str, Any]] = {}  # the inverse's result, by object
    for at, obj, path, new, _texts, _added in exact:
        try:
            back = reversal.inverse(new, path).obj
        except MeshctlError:  # the inverse refuses it: nothing to record
            continue
        undone[at] = new if back is None else back
        if back is not None and not (back == obj and strict_equal(back, obj)):
            sites[at], removals[at] = _data_sites(back, obj)
    data_sites = any(sites.values()) or any(removals.values())
    recorded: dict[Path, Undo] = {}

    def render(changes: Changes | None = None) -> tuple[list[dict[str, Any]], str]:
        objects = [(at, without(reversal.record(new, path, recorded[at], undone[at], obj)
                                 if recorded.get(at) and at in undone else new, added))
                   for at, obj, path, new, _texts, added in touched]
        ops = make_patch(data, with_objects(data, objects))
        return ops, apply_patch_to_text(doc, ops, changes)

    def record() -> dict[Path, Undo]:
        return {at: (*((p, None) for p in removals[at]),
                     *_record(doc, layout, at, found, kept)) for at, found in sites.items()}

    layout = Layout(doc)
    kept: Callable[[Path], bool] = _everything
    if data_sites:  # recorded before the text is made (the common case renders once)
        recorded = record()
    changes = Changes() if exact else None
    ops, text = render(changes)
    if changes is None:
        return ops, text
    rendered = recorded
    if changes.gone or changes.replaced:
        kept = changes.kept(doc)
    lost = node_paths(doc, changes.lossy) if changes.lossy else []
    grown = False
    for at in sites:
        more = {p[len(at):] for p in lost if p[:len(at)] == at and len(p) > len(at)}
        grown = grown or not more <= sites[at]
        sites[at] |= more
    if grown or kept is not _everything:  # else the record is the one rendered
        recorded = record()
    if _simple(doc, recorded):
        same = _nonempty(recorded) == _nonempty(rendered)
        return (ops, text) if same else render()
    if not data_sites:  # the inverse may need nothing: try it first
        found_more = _still_differs(doc, chunk, text, exact, inverse_text)
        if found_more is None:
            return ops, text
        sites = {at: found_more.get(at, (set(), []))[0] for at in sites}
        removals = {at: found_more.get(at, (set(), []))[1] for at in sites}
        recorded = record()
    for _round in range(REVERSAL_ROUNDS):
        ops, text = render()
        found_more = _still_differs(doc, chunk, text, exact, inverse_text)
        if found_more is None or all(
                found_more.get(at, (set(), []))[0] <= sites[at]
                and not found_more.get(at, (set(), []))[1] for at in sites):
            break  # exact, or nothing more to record: keep what helps
        for at in sites:
            more, fewer = found_more.get(at, (set(), []))
            sites[at] |= more
            removals[at] = [*removals[at], *(r for r in fewer if r not in removals[at])]
        recorded = record()
    return ops, text


def _still_differs(doc: SourceDoc, chunk: Chunk, text: str, exact: list[Touched],
                   inverse_text: Callable[[str], str]) -> dict[Path, Sites] | None:
    """None when the inverse step gives ``text`` back as the document's bytes; else
    where it does not, by object."""
    back = inverse_text(text)
    if back == chunk.text:
        return None
    return _differences(doc, back, [(t[0], without(t[1], t[5])) for t in exact])


def without(obj: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in keys} if keys else obj


def with_objects(data: Any, objects: list[tuple[Path, Any]]) -> Any:
    """``data`` with each object put at its path (``()``: the document; else items of Lists,
    at any depth); the containers on the way are copied, nothing else."""
    if len(objects) == 1 and not objects[0][0]:
        return objects[0][1]
    root = copy.copy(data)
    copied = {id(root)}
    for at, obj in objects:
        cur = root
        for tok in at[:-1]:
            child = cur[tok]
            if id(child) not in copied:
                child = copy.copy(child)
                copied.add(id(child))
                cur[tok] = child
            cur = child
        cur[at[-1]] = obj
    return root


def pointer(path: Path) -> str:
    return "".join("/" + escape(str(t)) for t in path)


def get_at(data: Any, path: Path) -> tuple[bool, Any]:
    for tok in path:
        found = (isinstance(data, dict) and tok in data) or (
            isinstance(data, list) and isinstance(tok, int) and 0 <= tok < len(data))
        if not found:
            return False, None
        data = data[tok]
    return True, data


def path_of(pointer: str) -> Path:
    """An RFC 6901 JSON Pointer as a path of keys (and list indexes, as numbers)."""
    return tuple(int(t) if t.isdigit() else t for t in parse_pointer(pointer))


def _data_sites(back: Any, obj: Any) -> Sites:
    """Where the inverse step's data (``back``) differs from the object: the nodes to give
    back (changed or missing), and what to remove from it, in that order."""
    restore: set[Path] = set()
    remove: list[Path] = []
    for op in make_patch(back, obj):
        path = path_of(op["path"])
        if op["op"] == "remove":
            remove.append(path)
        else:
            restore.add(path)
    return restore, remove


def _nonempty(recorded: dict[Path, Undo]) -> dict[Path, Undo]:
    """``recorded`` without the objects that record nothing."""
    return {at: undo for at, undo in recorded.items() if undo}


def _everything(path: Path) -> bool:
    return True


def _record(doc: SourceDoc, layout: Layout, at: Path, sites: set[Path],
            kept: Callable[[Path], bool]) -> Texts:
    """The recorded texts of the nodes at ``sites`` (paths in the object at ``at``): a node
    that cannot be recorded (see :func:`recorded_text`), or whose slot the step's result does
    not have (``kept``), is replaced by its parent; a node inside another recorded one is left
    out."""
    found: dict[Path, str] = {}
    for site in sites:
        path = site
        while path:
            full = (*at, *path)
            text = recorded_text(doc, full, layout) if kept(full) else None
            if text is not None:
                found[path] = text
                break
            path = path[:-1]
    keep = sorted(found, key=lambda p: (len(p), [str(t) for t in p]))
    out: list[tuple[Path, str]] = []
    for path in keep:
        if not any(path[:len(q)] == q for q, _t in out):
            out.append((path, found[path]))
    return tuple(sorted(out, key=lambda e: _order(doc, at, e[0])))


def _simple(doc: SourceDoc, recorded: dict[Path, Undo]) -> bool:
    """Texts whose recording is known to make the inverse exact: one line each, no anchors."""
    return not doc.anchored and all(t is None or "\n" not in t for undo in recorded.values()
                                    for _p, t in undo)


def _order(doc: SourceDoc, at: Path, path: Path) -> int:
    offset = doc.offset_of((*at, *path))
    return offset if offset is not None else 0


def _differences(doc: SourceDoc, text: str, objects: list[tuple[Path, Any]],
                 ) -> dict[Path, Sites]:
    """Where ``text`` (the inverse's result) differs from the document, by object."""
    try:
        other = load_document(text)
    except YamlSyntaxError:
        return {}
    out: dict[Path, Sites] = {}
    if strict_equal(other.data, doc.data):
        paths = differing_paths(doc, other) or []
        for at, _obj in objects:
            out[at] = ({p[len(at):] for p in paths if p[:len(at)] == at and len(p) > len(at)},
                       [])
        return out
    for at, obj in objects:
        found, back = get_at(other.data, at)
        if found and not strict_equal(back, obj):
            restore, remove = _data_sites(back, obj)  # (after the record: texts of parents)
            out[at] = (restore | {r[:-1] for r in remove if r}, [])
    return out
