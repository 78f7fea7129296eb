"""The document pipeline of every manifest command: read -> find -> step -> edit -> results.

A command (inject, uninject) gives a *workload step*: a function from a workload object and the
path of its pod template to an :class:`~meshctl.outcomes.Outcome`. The pipeline does the rest:
it parses only documents that may be workloads (:func:`meshctl.manifests.find.needs_parse`),
finds their pod template (``kind: List`` items too), checks its shape, runs the step, turns the
change into an RFC 6902 JSON Patch and applies it to the document's source text
(:mod:`meshctl.yamltext`), so every other byte stays. Errors get their location here: the file,
the document and the line of the node the error's ``path`` names (else the document's first
line). Nothing is printed; the result is data (:class:`~meshctl.manifests.results.RunResult`).

Big inputs are processed in forked worker processes (both cores of a CI runner help on big
rendered charts); results come back in input order.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Callable, Iterator

from meshctl.errors import InputError, MeshctlError
from meshctl.manifests.find import (
    check_pod_shape,
    is_list,
    list_item_kind,
    looks_like_workload,
    needs_parse,
    object_ref,
    pod_template_path,
    template_reference,
    type_name,
)
from meshctl.manifests.read import Chunk, Source
from meshctl.manifests.results import DocumentChange, Result, RunResult, SourceResult
from meshctl.outcomes import Action, Outcome, Reason
from meshctl.yamltext.check import check_events, may_be_deep
from meshctl.yamltext.edit import Changes, PatchError, Verbatim, apply_patch_to_text
from meshctl.yamltext.layout import Layout
from meshctl.yamltext.patch import escape, make_patch, parse_pointer, strict_equal
from meshctl.yamltext.recorded import differing_paths, node_paths, recorded_text, verbatim_data
from meshctl.yamltext.source import SourceDoc, StructureError, YamlSyntaxError, load_document

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Protocol

    #: a path in an object: mapping keys and list indexes
    Path = tuple[str | int, ...]
    #: recorded source texts: (path, recorded form), see :attr:`Outcome.texts`
    Texts = tuple[tuple[Path, str], ...]
    #: what an inverse step is to undo beyond its own rules: (path, recorded form), or
    #: (path, None): remove what the inverse leaves there
    Undo = tuple[tuple[Path, str | None], ...]
    #: where an inverse differs: the nodes to give back, the paths to remove (in order)
    Sites = tuple[set[Path], list[Path]]
    #: a command's work on one workload: (object, pod-template path) -> outcome; must not mutate
    WorkloadStep = Callable[[dict[str, Any], tuple[str, ...]], Outcome]
    #: ``progress(documents done, documents in all)``
    Progress = Callable[[int, int], None]

    class Reversal(Protocol):
        """How a step is undone, for steps whose inverse must give back the input's bytes
        (inject, undone by uninject); see :meth:`DocumentProcessor._reversible`."""

        def applies(self, obj: dict[str, Any], pod_path: tuple[str, ...]) -> bool:
            """Whether the step's result on ``obj`` is to be undone exactly (a first
            injection: a re-injection is undone to the first one's input)."""

        def inverse(self, obj: dict[str, Any], pod_path: tuple[str, ...]) -> Outcome:
            """The inverse step (it applies what :meth:`record` kept, and returns its texts)."""

        def record(self, obj: dict[str, Any], pod_path: tuple[str, ...],
                   undo: Undo, undone: dict[str, Any]) -> dict[str, Any]:
            """``obj`` (the step's result) keeping ``undo`` for the inverse step: removals (in
            the order given, on the inverse's result without them), then texts. ``undone``:
            the inverse's result without them (each entry applies while its place there is
            unchanged)."""

    #: an object of a document the step changed: (its path in the document, the object, its
    #: pod-template path, the new object, the texts of the step's outcome, the keys added to
    #: the object for the step: the kind and apiVersion of a typed list's item)
    Touched = tuple[Path, dict[str, Any], tuple[str, ...], dict[str, Any], Texts,
                    tuple[str, ...]]

#: what processing one document gives: its new text (None: unchanged), its results, its change
Processed = tuple[str | None, list[Result], DocumentChange | None]

#: rounds of recording texts, and checking by running the inverse, before a result is kept
REVERSAL_ROUNDS = 3



def _located(exc: YamlSyntaxError, chunk: Chunk) -> InputError:
    prefix = "" if isinstance(exc, StructureError) else "invalid YAML: "
    return InputError(f"{prefix}{exc.problem}", source=chunk.source, document=chunk.index,
                      line=chunk.start_line + exc.line - 1)


def _not_an_object(what: str) -> InputError:
    hint = "; put the objects in a kind: List" if what == "a list" else ""
    return InputError(f"a document must be a Kubernetes object (a mapping), not {what}{hint}")



class DocumentProcessor:
    """Runs one workload step over documents (built once per run). ``reversal``: how the step
    is undone, when its inverse must give back the input byte for byte (kube-inject's)."""

    def __init__(self, step: WorkloadStep, *, keep_patches: bool = True,
                 reversal: Reversal | None = None) -> None:
        self.step = step
        self.keep_patches = keep_patches
        self.reversal = reversal
        self._inverse: DocumentProcessor | None = None

    def _object(self, obj: Any, chunk: Chunk, results: list[Result], at: Path,
                touched: list[Touched], item_kind: tuple[str, Any] | None = None) -> Any:
        """The new object (``obj`` itself when unchanged), at ``at`` in the document; a changed
        one joins ``touched``. ``item_kind``: the kind and apiVersion of a typed list's items,
        for items that leave them out."""
        if is_list(obj):
            return self._list(obj, chunk, results, at, touched)
        added: tuple[str, ...] = ()
        if item_kind is not None and "kind" not in obj:
            added = tuple(k for k in ("kind", "apiVersion") if k not in obj)
            obj = {"kind": item_kind[0], "apiVersion": item_kind[1], **obj}
        kind, namespace, name = object_ref(obj)
        path = pod_template_path(obj)
        if path is None:
            if looks_like_workload(obj):
                warning = (f"kind {kind} has a pod template but meshctl does not know it; "
                           "passed through unchanged")
                results.append(Result(kind, namespace, name, Action.SKIPPED, Reason.UNKNOWN_KIND,
                                      chunk.source, chunk.index, (warning,)))
            return obj if not added else _without(obj, added)
        reference = template_reference(obj, path)
        if reference is not None:
            warning = (f"pod template by reference ({reference}): inject the referenced "
                       "object; passed through unchanged")
            results.append(Result(kind, namespace, name, Action.SKIPPED,
                                  Reason.TEMPLATE_ELSEWHERE, chunk.source, chunk.index,
                                  (warning,)))
            return obj if not added else _without(obj, added)
        check_pod_shape(obj, path)
        outcome = self.step(obj, path)
        results.append(Result(kind, namespace, name, outcome.action, outcome.reason,
                              chunk.source, chunk.index, outcome.warnings))
        if outcome.obj is None:
            return obj if not added else _without(obj, added)
        touched.append((at, obj, path, outcome.obj, outcome.texts, added))
        return outcome.obj if not added else _without(outcome.obj, added)

    def _list(self, data: dict[str, Any], chunk: Chunk, results: list[Result], at: Path,
              touched: list[Touched]) -> Any:
        """A ``List`` (or ``<Kind>List``): every item on its own; lists may nest."""
        items = data["items"]
        if items is None:
            return data
        if not isinstance(items, list):
            raise InputError(f"items must be a list, not {type_name(items)}", path=("items",))
        kind = list_item_kind(data)
        item_kind = None if kind is None else (kind, data.get("apiVersion"))
        new_items = []
        for i, item in enumerate(items):
            try:
                if not isinstance(item, dict):
                    raise InputError(f"items[{i}] must be a Kubernetes object (a mapping), not "
                                     f"{type_name(item)}", path=())
                new_items.append(self._object(item, chunk, results, (*at, "items", i),
                                              touched, item_kind))
            except MeshctlError as exc:
                raise exc.located(path=("items", i)) from None
        if all(a is b for a, b in zip(new_items, items, strict=True)):
            return data
        new_data = copy.copy(data)
        new_data["items"] = new_items
        return new_data

    def process(self, chunk: Chunk) -> Processed:
        results: list[Result] = []
        text = chunk.text
        if not needs_parse(chunk):
            # passed through untouched: only its structure is checked, nothing is built
            try:
                root = check_events(text)
            except YamlSyntaxError as exc:
                raise _located(exc, chunk) from None
            if root in ("sequence", "string", "scalar"):
                what = {"sequence": "a list", "string": "a string"}.get(root, "a scalar")
                raise _not_an_object(what).located(source=chunk.source, document=chunk.index,
                                                   line=chunk.first_line())
            return None, results, None
        try:
            if may_be_deep(text):
                check_events(text)  # before composing: nesting, and libyaml's quadratic cost
            doc = load_document(text)
        except YamlSyntaxError as exc:
            raise _located(exc, chunk) from None
        data = doc.data
        new_text: str | None = None
        touched: list[Touched] = []
        try:
            if data is None:
                return None, results, None
            if not isinstance(data, dict):
                raise _not_an_object(type_name(data))
            new_data = self._object(data, chunk, results, (), touched)
            ops: list[dict[str, Any]] = []
            if new_data is not data:
                if self.reversal is not None and touched:
                    ops, new_text = self._reversible(doc, chunk, touched)
                else:
                    ops = make_patch(data, new_data)
            for op in ops if doc.explicit else ():  # nearly always none
                explicit = doc.explicit_key_on(_pointer_path(op["path"]))
                if explicit is not None:
                    raise InputError(
                        "a key written in explicit form ('? key') is in a mapping injection "
                        "must change, which meshctl cannot edit without rewriting it; write it "
                        "as 'key: value'", line=chunk.line_of_offset(explicit))
        except MeshctlError as exc:
            offset = doc.offset_of(exc.path) if exc.path is not None else None
            line = chunk.line_of_offset(offset) if offset is not None else chunk.first_line()
            raise exc.located(source=chunk.source, document=chunk.index, line=line) from None
        if not ops:
            return None, results, None
        if new_text is None and any(t[4] for t in touched):
            new_text, read = self._with_texts(doc, ops, new_data, touched)
            if read is not new_data:  # texts read in the document add to the data
                ops = make_patch(data, read)
        elif new_text is None:
            new_text = apply_patch_to_text(doc, ops)
        kind, namespace, name = object_ref(data)
        refs = tuple(_list_resources(data, "")) if is_list(data) else ()
        change = DocumentChange(chunk.source, chunk.index, str(data.get("apiVersion") or ""),
                                kind, namespace, name, ops if self.keep_patches else [], refs)
        return new_text, results, change

    # -- texts written back as they were -------------------------------------------------------

    @staticmethod
    def _with_texts(doc: SourceDoc, ops: list[dict[str, Any]], new_data: Any,
                    touched: list[Touched]) -> tuple[str, Any]:
        """The new text, with the step's recorded texts written as they are, and the data it
        reads as; checked: when the result does not read as ``new_data`` (but where a text
        cannot be read alone: an alias of an anchor elsewhere in the document, read in its
        place), the texts are left out (the plain rendering)."""
        extra: list[dict[str, Any]] = []
        in_context: list[tuple[Path, str]] = []  # texts that read in the document only
        for at, _obj, _path, _new, texts, _added in touched:
            for path, text in texts:
                full = (*at, *path)
                found, value = _get(new_data, full)
                if found:
                    extra.append({"op": "replace", "path": _pointer(full),
                                  "value": Verbatim(text, value)})
                    if not verbatim_data(text)[0]:
                        in_context.append((full, text))
        if extra:
            try:
                out = apply_patch_to_text(doc, [*ops, *extra])
                written = load_document(out)
                got, expected = written.data, new_data
                if in_context:  # each written as it was, and read there
                    if any(recorded_text(written, p) != text for p, text in in_context):
                        raise PatchError("a recorded text was not written as it is")
                    expected = _with_objects(new_data, [(p, _get(got, p)[1])
                                                        for p, _text in in_context])
                if strict_equal(got, expected):
                    return out, expected
            except (PatchError, YamlSyntaxError):
                pass
        return apply_patch_to_text(doc, ops), new_data

    # -- steps undone exactly --------------------------------------------------------------

    def _reversible(self, doc: SourceDoc, chunk: Chunk, touched: list[Touched],
                    ) -> tuple[list[dict[str, Any]], str]:
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
        reversal = self.reversal
        assert reversal is not None
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
            objects = [(at, _without(reversal.record(new, path, recorded[at], undone[at])
                                     if recorded.get(at) and at in undone else new, added))
                       for at, _obj, path, new, _texts, added in touched]
            ops = make_patch(data, _with_objects(data, objects))
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
            found_more = self._still_differs(doc, chunk, text, exact)
            if found_more is None:
                return ops, text
            sites = {at: found_more.get(at, (set(), []))[0] for at in sites}
            removals = {at: found_more.get(at, (set(), []))[1] for at in sites}
            recorded = record()
        for _round in range(REVERSAL_ROUNDS):
            ops, text = render()
            found_more = self._still_differs(doc, chunk, text, exact)
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

    def _still_differs(self, doc: SourceDoc, chunk: Chunk, text: str,
                       exact: list[Touched]) -> dict[Path, Sites] | None:
        """None when the inverse step gives ``text`` back as the document's bytes; else
        where it does not, by object."""
        back = self._inverse_of(chunk, text)
        if back == chunk.text:
            return None
        return _differences(doc, back, [(t[0], _without(t[1], t[5])) for t in exact])

    def _inverse_of(self, chunk: Chunk, text: str) -> str:
        """The inverse step run on ``text`` (a document of this chunk's)."""
        reversal = self.reversal
        assert reversal is not None
        if self._inverse is None:
            self._inverse = DocumentProcessor(reversal.inverse, keep_patches=False)
        try:
            back = self._inverse.process(Chunk(chunk.source, chunk.index, text,
                                               chunk.start_line, chunk.is_json))[0]
        except MeshctlError:
            return ""
        return text if back is None else back


def _list_resources(data: dict[str, Any],
                    prefix: str) -> Iterator[tuple[str, str, str, str, str]]:
    """``(pointer, apiVersion, kind, namespace, name)`` of every resource of a ``*List``, at any
    depth (items of a typed list take its kind and apiVersion when they leave them out)."""
    items = data.get("items")
    item_kind = list_item_kind(data)
    for i, item in enumerate(items if isinstance(items, list) else ()):
        if not isinstance(item, dict):
            continue
        pointer = f"{prefix}/items/{i}"
        if is_list(item):
            yield from _list_resources(item, pointer)
            continue
        if item_kind is not None and "kind" not in item:
            item = {"kind": item_kind, "apiVersion": data.get("apiVersion"), **item}
        yield (pointer, str(item.get("apiVersion") or ""), *object_ref(item))


def _without(obj: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in keys} if keys else obj


def _with_objects(data: Any, objects: list[tuple[Path, Any]]) -> Any:
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


def _pointer_path(pointer: str) -> tuple[str | int, ...]:
    """An RFC 6901 JSON Pointer as a path of keys (and list indexes)."""
    if not pointer:
        return ()
    steps: list[str | int] = []
    for part in pointer[1:].split("/"):
        key = part.replace("~1", "/").replace("~0", "~")
        steps.append(int(key) if key.isdigit() else key)
    return tuple(steps)


def _pointer(path: Path) -> str:
    return "".join("/" + escape(str(t)) for t in path)


def _get(data: Any, path: Path) -> tuple[bool, Any]:
    for tok in path:
        found = (isinstance(data, dict) and tok in data) or (
            isinstance(data, list) and isinstance(tok, int) and 0 <= tok < len(data))
        if not found:
            return False, None
        data = data[tok]
    return True, data


def _tokens(pointer: str) -> Path:
    return tuple(int(t) if t.isdigit() else t for t in parse_pointer(pointer))


def _data_sites(back: Any, obj: Any) -> Sites:
    """Where the inverse step's data (``back``) differs from the object: the nodes to give
    back (changed or missing), and what to remove from it, in that order."""
    restore: set[Path] = set()
    remove: list[Path] = []
    for op in make_patch(back, obj):
        path = _tokens(op["path"])
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
        found, back = _get(other.data, at)
        if found and not strict_equal(back, obj):
            restore, remove = _data_sites(back, obj)  # (after the record: texts of parents)
            out[at] = (restore | {r[:-1] for r in remove if r}, [])
    return out


#: below this many documents to parse, one process is faster than starting workers
PARALLEL_MIN_DOCS = 150

def jobs_for(requested: int, n_docs: int) -> int:
    """Worker processes for ``n_docs`` documents to parse (``requested`` 0: decide here)."""
    if requested:
        return max(1, requested)
    if n_docs < PARALLEL_MIN_DOCS or not hasattr(os, "fork"):
        return 1
    return min(os.cpu_count() or 1, 8)


def _process_all(processor: DocumentProcessor, chunks: list[Chunk], jobs: int,
                 progress: Progress | None = None) -> list[Processed]:
    """Process chunks in order; with jobs > 1, in forked worker processes (order kept).

    Each worker inherits the documents through fork (nothing but results is pickled), takes
    every ``jobs``-th span of documents and writes its results, span by span, to its own pipe;
    the parent reads the spans in input order. An error in a worker comes back as data and
    ends the run; so does anything that interrupts the parent (Ctrl-C), which stops every
    worker at once: no worker outlives the run.
    """
    if jobs <= 1 or len(chunks) < 2:
        if progress is None:
            return [processor.process(c) for c in chunks]
        done: list[Processed] = []
        for c in chunks:
            done.append(processor.process(c))
            progress(len(done), len(chunks))
        return done
    import pickle
    import signal

    size = max(1, min(32, len(chunks) // (jobs * 8)))
    spans = [(i, min(i + size, len(chunks))) for i in range(0, len(chunks), size)]
    workers: list[tuple[int, Any]] = []
    try:
        for k in range(min(jobs, len(spans))):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker: never returns
                code = 1
                try:
                    os.close(read_end)
                    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent reports it
                    with os.fdopen(write_end, "wb") as sink:
                        for start, end in spans[k :: min(jobs, len(spans))]:
                            payload = _work(processor, chunks[start:end])
                            pickle.dump(payload, sink, protocol=pickle.HIGHEST_PROTOCOL)
                            sink.flush()  # the parent is waiting for this span: send it all
                            if payload[0] != "ok":
                                break
                    code = 0
                finally:
                    os._exit(code)  # no atexit handlers, no flushing of the parent's buffers
            os.close(write_end)
            workers.append((pid, os.fdopen(read_end, "rb")))
        out: list[Processed] = []
        for i in range(len(spans)):
            try:
                kind, value = pickle.load(workers[i % len(workers)][1])
            except EOFError:
                raise RuntimeError("a worker process ended unexpectedly") from None
            if kind == "error":
                raise value
            if kind == "bug":
                raise RuntimeError(value)
            out.extend(value)
            if progress is not None:
                progress(len(out), len(chunks))
        return out
    finally:
        for pid, pipe in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # finished workers are zombies until reaped
            pipe.close()
            os.waitpid(pid, 0)


def _work(processor: DocumentProcessor, chunks: list[Chunk]) -> tuple[str, Any]:
    """A worker's results for some chunks: ``("ok", results)``, ``("error", MeshctlError)``
    or ``("bug", description)``."""
    try:
        return "ok", [processor.process(c) for c in chunks]
    except MeshctlError as exc:
        return "error", exc
    except Exception as exc:  # noqa: BLE001 - reported by the parent as an internal error
        return "bug", f"{type(exc).__name__}: {exc}"


def documents_to_parse(sources: list[Source]) -> list[Chunk]:
    """The documents that may be workloads (composed into nodes)."""
    return [c for src in sources for c in src.chunks if needs_parse(c)]


def documents_to_check(sources: list[Source]) -> list[Chunk]:
    """Every document with content: composed, or only checked (see DocumentProcessor.process)."""
    return [c for src in sources for c in src.chunks if c.has_content()]


def run(sources: list[Source], todo: list[Chunk], processor: DocumentProcessor,
        jobs: int, progress: Progress | None = None) -> RunResult:
    """Process the documents ``todo`` (every document of ``sources`` with content) and assemble
    every source's new text; raises MeshctlError on any problem, before anything is emitted.
    ``progress(done, total)`` is called as documents are done (for a progress bar)."""
    done = dict(zip(map(id, todo), _process_all(processor, todo, jobs, progress), strict=True))
    out_sources: list[SourceResult] = []
    results: list[Result] = []
    changes: list[DocumentChange] = []
    for src in sources:
        parts: list[str] = []
        for chunk in src.chunks:
            item = done.get(id(chunk))
            if item is None:
                parts.append(chunk.text)
                continue
            text, chunk_results, change = item
            parts.append(chunk.text if text is None else text)
            results.extend(chunk_results)
            if change is not None:
                changes.append(change)
        out_sources.append(SourceResult(src, "".join(parts)))
    return RunResult(tuple(out_sources), tuple(results), tuple(changes))
