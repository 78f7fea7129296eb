"""The document pipeline of every manifest command: read -> find -> step -> edit -> results.

A command (inject, uninject) gives a *workload step*: a function from a workload object and the
path of its pod template to an :class:`~meshctl.outcomes.Outcome`. The pipeline does the rest:
it parses only documents that may be workloads (:func:`meshctl.manifests.find.needs_parse`),
finds their pod template (``kind: List`` items too), checks its shape, runs the step, turns the
change into an RFC 6902 JSON Patch and applies it to the document's source text
(:mod:`meshctl.yamltext`), so every other byte stays. Errors get their location here: the file,
the document and the line of the node the error's ``path`` names (else the document's first
line). Nothing is printed; the result is data (:class:`~meshctl.manifests.results.RunResult`).

A step whose inverse must give back the input's bytes (kube-inject's) also gives how it is
undone: :mod:`meshctl.commands.reversal` makes its result exact. Big inputs are processed in
forked worker processes (:mod:`meshctl.commands.parallel`); results come back in input order.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator

from meshctl.commands.parallel import process_all
from meshctl.commands.reversal import (
    exact_result,
    get_at,
    path_of,
    pointer,
    with_objects,
    without,
)
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
from meshctl.yamltext.edit import PatchError, Verbatim, apply_patch_to_text
from meshctl.yamltext.patch import digest, make_patch, strict_equal
from meshctl.yamltext.recorded import recorded_text, verbatim_data
from meshctl.yamltext.source import SourceDoc, StructureError, YamlSyntaxError, load_document

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any

    #: a command's work on one workload: (object, pod-template path) -> outcome; must not mutate
    WorkloadStep = Callable[[dict[str, Any], tuple[str, ...]], Outcome]

    from meshctl.commands.parallel import Progress
    from meshctl.commands.reversal import Path, Reversal, Touched

#: what processing one document gives: its new text (None: unchanged), its results, its change
Processed = tuple[str | None, list[Result], DocumentChange | None]


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
            return obj if not added else without(obj, added)
        reference = template_reference(obj, path)
        if reference is not None:
            warning = (f"pod template by reference ({reference}): inject the referenced "
                       "object; passed through unchanged")
            results.append(Result(kind, namespace, name, Action.SKIPPED,
                                  Reason.TEMPLATE_ELSEWHERE, chunk.source, chunk.index,
                                  (warning,)))
            return obj if not added else without(obj, added)
        check_pod_shape(obj, path)
        outcome = self.step(obj, path)
        results.append(Result(kind, namespace, name, outcome.action, outcome.reason,
                              chunk.source, chunk.index, outcome.warnings))
        if outcome.obj is None:
            return obj if not added else without(obj, added)
        touched.append((at, obj, path, outcome.obj, outcome.texts, added))
        return outcome.obj if not added else without(outcome.obj, added)

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
            if new_data is not data and self._rebuilds(touched):
                rebuilt = self._rebuilt(chunk, data, results)
                if rebuilt is not None:
                    return rebuilt
            if new_data is not data:
                if self.reversal is not None and touched:
                    ops, new_text = exact_result(doc, chunk, touched, self.reversal,
                                                 lambda t: self._inverse_of(chunk, t))
                else:
                    ops = make_patch(data, new_data)
            for op in ops if doc.explicit else ():  # nearly always none
                explicit = doc.explicit_key_on(path_of(op["path"]))
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
        return new_text, results, self._change(chunk, data, ops)

    def _change(self, chunk: Chunk, data: dict[str, Any],
                ops: list[dict[str, Any]]) -> DocumentChange:
        """The record of a changed document (its patch only when the run prints patches)."""
        kind, namespace, name = object_ref(data)
        refs = tuple(_list_resources(data, "")) if is_list(data) else ()
        return DocumentChange(chunk.source, chunk.index, str(data.get("apiVersion") or ""),
                              kind, namespace, name, ops if self.keep_patches else [], refs)

    # -- texts written back as they were -------------------------------------------------------

    @staticmethod
    def _with_texts(doc: SourceDoc, ops: list[dict[str, Any]], new_data: Any,
                    touched: list[Touched]) -> tuple[str, Any]:
        """The new text, with the step's recorded texts written as they are, and the data it
        reads as. Checked: the result must read as ``new_data``, but where a text reads only
        in its document (an alias, a ``<<`` merge of an anchor elsewhere): there it must be
        written as it is and read as it did when it was recorded (its digest). A text that
        fails that is left out (its place written plainly), and the others are tried again;
        at worst the plain rendering."""
        texts: list[tuple[Path, str, str | None]] = []
        for at, _obj, _path, _new, written, _added in touched:
            for path, text, reads in written:
                full = (*at, *path)
                if get_at(new_data, full)[0]:
                    texts.append((full, text, reads))
        while texts:
            result, failed = _try_texts(doc, ops, new_data, texts)
            if result is not None:
                return result
            # leave out what failed; when that is not known, the texts read in place, then all
            in_place = [t for t in texts if not verbatim_data(t[1])[0]]
            texts = [t for t in texts if t not in (failed or in_place or texts)]
        return apply_patch_to_text(doc, ops), new_data

    # -- steps undone exactly (meshctl.commands.reversal) -------------------------------------

    def _rebuilds(self, touched: list[Touched]) -> bool:
        """Whether the document is done again from its inverse: a step done before (a
        re-injection that changes something: new settings, or a pod edited since) whose
        inverse takes it out completely first (``reversal.rebuilds``)."""
        reversal = self.reversal
        return (reversal is not None and reversal.rebuilds
                and any(not reversal.applies(t[1], t[2]) for t in touched))

    def _rebuilt(self, chunk: Chunk, data: dict[str, Any],
                 results: list[Result]) -> Processed | None:
        """The step on the inverse's text (kube-uninject's result), which it undoes exactly:
        so the inverse of the result is that text, edits made since the first time included.
        The report is the first pass's (``results``: what was done, and why); None when the
        inverse cannot be had."""
        base = self._inverse_of(chunk, chunk.text)
        if not base or base == chunk.text:
            return None
        again = self.process(Chunk(chunk.source, chunk.index, base, chunk.start_line,
                                   chunk.is_json))
        text = base if again[0] is None else again[0]
        if text == chunk.text:
            return None, results, None
        ops = make_patch(data, load_document(text).data) if self.keep_patches else []
        return text, results, self._change(chunk, data, ops)

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


def _try_texts(doc: SourceDoc, ops: list[dict[str, Any]], new_data: Any,
               texts: list[tuple[Path, str, str | None]],
               ) -> tuple[tuple[str, Any] | None, list[tuple[Path, str, str | None]]]:
    """``ops`` applied with ``texts`` written as they are: ``((text, data), [])`` when the
    result checks (see :meth:`DocumentProcessor._with_texts`), else ``(None, the texts that
    failed)`` (empty when the failure is not one text's)."""
    extra = [{"op": "replace", "path": pointer(full),
              "value": Verbatim(text, get_at(new_data, full)[1])}
             for full, text, _reads in texts]
    try:
        out = apply_patch_to_text(doc, [*ops, *extra])
        written = load_document(out)
    except (PatchError, YamlSyntaxError):
        return None, []
    got, expected = written.data, new_data
    in_place = [(full, text, reads) for full, text, reads in texts if not verbatim_data(text)[0]]
    failed = [t for t in in_place
              if recorded_text(written, t[0]) != t[1]
              or (t[2] is not None and digest(get_at(got, t[0])[1]) != t[2])]
    if failed:
        return None, failed
    if in_place:  # they add to the data what they read as
        expected = with_objects(new_data, [(full, get_at(got, full)[1])
                                           for full, _text, _reads in in_place])
    if strict_equal(got, expected):
        return (out, expected), []
    return None, []


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
    done = dict(zip(map(id, todo), process_all(processor, todo, jobs, progress), strict=True))
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
