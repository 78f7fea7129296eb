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

import copy
import os
from collections.abc import Callable
from typing import Any

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

#: a command's work on one workload: (object, pod-template path) -> outcome; must not mutate
WorkloadStep = Callable[[dict[str, Any], tuple[str, ...]], Outcome]
#: what processing one document gives: its new text, its results, its change (if any)
Processed = tuple[str, list[Result], DocumentChange | None]


class DocumentProcessor:
    """Runs one workload step over documents (built once per run)."""

    def __init__(self, step: WorkloadStep, *, keep_patches: bool = True) -> None:
        self.step = step
        self.keep_patches = keep_patches

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
            if (isinstance(data, dict) and data.get("kind") == "List"
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
        change = DocumentChange(chunk.source, chunk.index, kind, namespace, name,
                                ops if self.keep_patches else [])
        return text, results, change


#: below this many documents to parse, one process is faster than starting workers
PARALLEL_MIN_DOCS = 150

# What a parallel run's workers work on, inherited through fork (set before the pool starts):
# workers get index ranges, not documents, so nothing but results is pickled.
_WORKER_STATE: tuple[DocumentProcessor, list[Chunk]] | None = None


def _work(span: tuple[int, int]) -> list[Processed] | MeshctlError:
    """Process ``chunks[span[0]:span[1]]`` in a worker; a MeshctlError is returned, not raised."""
    assert _WORKER_STATE is not None
    processor, chunks = _WORKER_STATE
    try:
        return [processor.process(c) for c in chunks[span[0] : span[1]]]
    except MeshctlError as exc:
        return exc


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which ends the pool and reports once."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def jobs_for(requested: int, n_docs: int) -> int:
    """Worker processes for ``n_docs`` documents to parse (``requested`` 0: decide here)."""
    if requested:
        return max(1, requested)
    if n_docs < PARALLEL_MIN_DOCS or not hasattr(os, "fork"):
        return 1
    return min(os.cpu_count() or 1, 8)


def _process_all(processor: DocumentProcessor, chunks: list[Chunk],
                 jobs: int) -> list[Processed]:
    """Process chunks in order; with jobs > 1, in forked workers (order kept)."""
    if jobs <= 1 or len(chunks) < 2:
        return [processor.process(c) for c in chunks]
    import multiprocessing

    global _WORKER_STATE
    _WORKER_STATE = (processor, chunks)
    size = max(1, min(32, len(chunks) // (jobs * 8)))
    spans = [(i, min(i + size, len(chunks))) for i in range(0, len(chunks), size)]
    out: list[Processed] = []
    ctx = multiprocessing.get_context("fork")
    try:
        with ctx.Pool(jobs, initializer=_ignore_sigint) as pool:
            for batch in pool.imap(_work, spans):
                if isinstance(batch, MeshctlError):
                    raise batch
                out.extend(batch)
    finally:
        _WORKER_STATE = None
    return out


def documents_to_parse(sources: list[Source]) -> list[Chunk]:
    return [c for src in sources for c in src.chunks if needs_parse(c)]


def run(sources: list[Source], todo: list[Chunk], processor: DocumentProcessor,
        jobs: int) -> RunResult:
    """Process the documents ``todo`` (those of ``sources`` that need parsing) and assemble every
    source's new text; raises MeshctlError on any problem, before anything is emitted."""
    done = dict(zip(map(id, todo), _process_all(processor, todo, jobs), strict=True))
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
