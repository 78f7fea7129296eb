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
    type_name,
)
from meshctl.manifests.read import Chunk, Source
from meshctl.manifests.results import DocumentChange, Result, RunResult, SourceResult
from meshctl.outcomes import Action, Outcome, Reason
from meshctl.yamltext.check import check_events, may_be_deep
from meshctl.yamltext.edit import apply_patch_to_text
from meshctl.yamltext.patch import make_patch
from meshctl.yamltext.source import StructureError, YamlSyntaxError, load_document

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any
    #: a command's work on one workload: (object, pod-template path) -> outcome; must not mutate
    WorkloadStep = Callable[[dict[str, Any], tuple[str, ...]], Outcome]
    #: ``progress(documents done, documents in all)``
    Progress = Callable[[int, int], None]

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
    """Runs one workload step over documents (built once per run)."""

    def __init__(self, step: WorkloadStep, *, keep_patches: bool = True) -> None:
        self.step = step
        self.keep_patches = keep_patches

    def _object(self, obj: Any, chunk: Chunk, results: list[Result],
                item_kind: tuple[str, Any] | None = None) -> Any:
        """The new object (``obj`` itself when unchanged). ``item_kind``: the kind and
        apiVersion of a typed list's items, for items that leave them out."""
        if is_list(obj):
            return self._list(obj, chunk, results)
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
        check_pod_shape(obj, path)
        outcome = self.step(obj, path)
        results.append(Result(kind, namespace, name, outcome.action, outcome.reason,
                              chunk.source, chunk.index, outcome.warnings))
        new = obj if outcome.obj is None else outcome.obj
        return new if not added else _without(new, added)

    def _list(self, data: dict[str, Any], chunk: Chunk, results: list[Result]) -> Any:
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
                new_items.append(self._object(item, chunk, results, item_kind))
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
        try:
            if data is None:
                return None, results, None
            if not isinstance(data, dict):
                raise _not_an_object(type_name(data))
            new_data = self._object(data, chunk, results)
            ops = make_patch(data, new_data) if new_data is not data else []
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
        new_text = apply_patch_to_text(doc, ops)
        kind, namespace, name = object_ref(data)
        refs = tuple(_list_resources(data, "")) if is_list(data) else ()
        change = DocumentChange(chunk.source, chunk.index, str(data.get("apiVersion") or ""),
                                kind, namespace, name, ops if self.keep_patches else [], refs)
        return new_text, results, change


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
    return {k: v for k, v in obj.items() if k not in keys}


def _pointer_path(pointer: str) -> tuple[str | int, ...]:
    """An RFC 6901 JSON Pointer as a path of keys (and list indexes)."""
    if not pointer:
        return ()
    steps: list[str | int] = []
    for part in pointer[1:].split("/"):
        key = part.replace("~1", "/").replace("~0", "~")
        steps.append(int(key) if key.isdigit() else key)
    return tuple(steps)


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
