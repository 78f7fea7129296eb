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
from collections.abc import Callable

from meshctl.errors import InputError, MeshctlError
from meshctl.manifests.find import (
    check_pod_shape,
    looks_like_workload,
    needs_parse,
    object_ref,
    pod_template_path,
)
from meshctl.manifests.read import Chunk, Source
from meshctl.manifests.results import DocumentChange, Result, RunResult, SourceResult
from meshctl.outcomes import Action, Outcome, Reason
from meshctl.yamltext.edit import apply_patch_to_text
from meshctl.yamltext.patch import make_patch
from meshctl.yamltext.source import YamlSyntaxError, load_document

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any
    #: a command's work on one workload: (object, pod-template path) -> outcome; must not mutate
    WorkloadStep = Callable[[dict[str, Any], tuple[str, ...]], Outcome]
    #: ``progress(documents done, documents in all)``
    Progress = Callable[[int, int], None]

#: what processing one document gives: its new text, its results, its change (if any)
Processed = tuple[str, list[Result], DocumentChange | None]

#: kinds whose ``items`` are the objects to process (the KRM function adds ``ResourceList``)
LIST_KINDS = frozenset({"List"})


class DocumentProcessor:
    """Runs one workload step over documents (built once per run)."""

    def __init__(self, step: WorkloadStep, *, keep_patches: bool = True,
                 list_kinds: frozenset[str] = LIST_KINDS) -> None:
        self.step = step
        self.keep_patches = keep_patches
        self.list_kinds = list_kinds

    def _object(self, obj: Any, chunk: Chunk, results: list[Result]) -> Any:
        """The new object (``obj`` itself when unchanged)."""
        if not isinstance(obj, dict):
            return obj
        kind, namespace, name = object_ref(obj)
        path = pod_template_path(obj)
        if path is None:
            if looks_like_workload(obj):
                warning = (f"kind {kind} has a pod template but meshctl does not know it; "
                           "passed through unchanged")
                results.append(Result(kind, namespace, name, Action.SKIPPED, Reason.UNKNOWN_KIND,
                                      chunk.source, chunk.index, (warning,)))
            return obj
        check_pod_shape(obj, path)
        outcome = self.step(obj, path)
        results.append(Result(kind, namespace, name, outcome.action, outcome.reason,
                              chunk.source, chunk.index, outcome.warnings))
        return obj if outcome.obj is None else outcome.obj

    def _list_item(self, index: int, item: Any, chunk: Chunk, results: list[Result]) -> Any:
        try:
            return self._object(item, chunk, results)
        except MeshctlError as exc:
            raise exc.located(path=("items", index)) from None

    def process(self, chunk: Chunk) -> Processed:
        results: list[Result] = []
        if not needs_parse(chunk):
            return chunk.text, results, None
        try:
            doc = load_document(chunk.text)
        except YamlSyntaxError as exc:
            raise InputError(f"invalid YAML: {exc.problem}", source=chunk.source,
                             document=chunk.index, line=chunk.start_line + exc.line - 1) from None
        data = doc.data
        try:
            if (isinstance(data, dict) and data.get("kind") in self.list_kinds
                    and isinstance(data.get("items"), list)):
                items = data["items"]
                new_items = [self._list_item(i, item, chunk, results)
                             for i, item in enumerate(items)]
                if any(a is not b for a, b in zip(new_items, items, strict=True)):
                    new_data: Any = copy.copy(data)
                    new_data["items"] = new_items
                else:
                    new_data = data
            else:
                new_data = self._object(data, chunk, results)
        except MeshctlError as exc:
            offset = doc.offset_of(exc.path) if exc.path is not None else None
            line = chunk.line_of_offset(offset) if offset is not None else chunk.first_line()
            raise exc.located(source=chunk.source, document=chunk.index, line=line) from None
        if new_data is data:
            return chunk.text, results, None
        ops = make_patch(data, new_data)
        if not ops:
            return chunk.text, results, None
        text = apply_patch_to_text(doc, ops)
        kind, namespace, name = object_ref(data) if isinstance(data, dict) else ("", "", "")
        refs: tuple[tuple[int, str, str, str, str], ...] = ()
        if data.get("kind") == "List":
            refs = tuple((i, str(item.get("apiVersion") or ""), *object_ref(item))
                         for i, item in enumerate(data["items"]) if isinstance(item, dict))
        change = DocumentChange(chunk.source, chunk.index, str(data.get("apiVersion") or ""),
                                kind, namespace, name, ops if self.keep_patches else [], refs)
        return text, results, change


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
    return [c for src in sources for c in src.chunks if needs_parse(c)]


def run(sources: list[Source], todo: list[Chunk], processor: DocumentProcessor,
        jobs: int, progress: Progress | None = None) -> RunResult:
    """Process the documents ``todo`` (those of ``sources`` that need parsing) and assemble every
    source's new text; raises MeshctlError on any problem, before anything is emitted.
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
            parts.append(text)
            results.extend(chunk_results)
            if change is not None:
                changes.append(change)
        out_sources.append(SourceResult(src, "".join(parts)))
    return RunResult(tuple(out_sources), tuple(results), tuple(changes))
