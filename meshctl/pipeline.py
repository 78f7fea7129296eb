"""The pipeline every front door runs: read -> find -> decide/render/merge -> emit -> report.

``run`` takes resolved :class:`~meshctl.options.Options`, never prints and never exits: it
returns the new text of every input, the JSON patches, and one :class:`Result` per workload.
The CLI decides where those go. Nothing is emitted unless the whole run succeeded, so a broken
document anywhere means no partial manifest anywhere.

Speed: a document is composed into nodes only when it may be a workload (its top-level kind is
a workload kind or ``List``, or the text mentions ``containers``). Everything else is copied as
text; libyaml has already checked its syntax (see :mod:`meshctl.documents`).
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from meshctl import tplcache
from meshctl.documents import Chunk, Source, read_sources
from meshctl.errors import InputError, MeshctlError
from meshctl.options import Mode, Operation, Options
from meshctl.patch import make_patch
from meshctl.report import Result
from meshctl.textedit import apply_patch_to_text
from meshctl.workloads import (
    POD_TEMPLATE_PATHS,
    get_path,
    looks_like_workload,
    pod_template_path,
)
from meshctl.yamlsrc import MapNode, SeqNode, YamlSyntaxError, load_document

if TYPE_CHECKING:
    from meshctl.inject import Injector


# Plain slotted classes, not dataclasses: importing :mod:`dataclasses` (and :mod:`inspect` with
# it) costs every start-up milliseconds.


class DocumentChange:
    """A document whose text changes, with the JSON patch that describes the change.

    Crosses the process boundary of a parallel run (pickled through its slots)."""

    __slots__ = ("source", "document", "kind", "namespace", "name", "patch")

    source: str
    document: int
    kind: str
    namespace: str
    name: str
    patch: list[dict[str, Any]]

    def __init__(self, source: str, document: int, kind: str, namespace: str, name: str,
                 patch: list[dict[str, Any]]) -> None:
        self.source = source
        self.document = document
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.patch = patch


class SourceResult:
    """An input and its new text."""

    __slots__ = ("source", "new_text")

    source: Source
    new_text: str

    def __init__(self, source: Source, new_text: str) -> None:
        self.source = source
        self.new_text = new_text

    @property
    def changed(self) -> bool:
        return self.new_text != self.source.text


class RunResult:
    """Everything a run produced: new texts, reports, patches and warnings."""

    __slots__ = ("sources", "results", "changes", "warnings")

    sources: list[SourceResult]
    results: list[Result]
    changes: list[DocumentChange]
    warnings: list[str]

    def __init__(
        self,
        sources: list[SourceResult] | None = None,
        results: list[Result] | None = None,
        changes: list[DocumentChange] | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        self.sources = [] if sources is None else sources
        self.results = [] if results is None else results
        self.changes = [] if changes is None else changes
        self.warnings = [] if warnings is None else warnings

    @property
    def changed(self) -> bool:
        return any(s.changed for s in self.sources)


def _needs_parse(chunk: Chunk) -> bool:
    if not chunk.has_content():
        return False
    kind = chunk.kind_hint()
    if kind is None or kind == "List" or kind in POD_TEMPLATE_PATHS:
        return True
    # an unknown kind may still carry a pod template; it cannot without a containers key
    return "containers" in chunk.text


def _meta(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    name = meta.get("name") or meta.get("generateName") or "<unnamed>"
    namespace = meta.get("namespace") or "default"
    return str(obj.get("kind") or "<nokind>"), str(namespace), str(name)


class Processor:
    """Processes documents with one injector (built once per run: templates compiled once)."""

    def __init__(self, injector: Injector, operation: Operation, reinject: str = "strip") -> None:
        self.injector = injector
        self.operation = operation
        self.strip_first = reinject == "strip"
        self.keep_patches = True

    def _one_object(self, obj: Any, chunk: Chunk, results: list[Result]) -> Any:
        """Return the new object (or the same object when unchanged)."""
        if not isinstance(obj, dict):
            return obj
        path = pod_template_path(obj)
        kind, namespace, name = _meta(obj)
        if path is None:
            if looks_like_workload(obj):
                results.append(
                    Result(
                        kind,
                        namespace,
                        name,
                        "skipped",
                        "unknown_kind",
                        chunk.source,
                        chunk.index,
                        (
                            f"kind {kind} has a pod template but meshctl does not know it; "
                            "passed through unchanged",
                        ),
                    )
                )
            return obj
        check_pod_shape(obj, path)
        if self.operation is Operation.UNINJECT:
            new = self.injector.strip(obj, path)
            changed = new != obj
            results.append(
                Result(
                    kind,
                    namespace,
                    name,
                    "uninjected" if changed else "unchanged",
                    "uninjected" if changed else "not_injected",
                    chunk.source,
                    chunk.index,
                )
            )
            return new if changed else obj
        source_obj = obj
        if self.strip_first:
            # re-injection = exact uninject + injection: upgrades leave nothing stale behind
            source_obj = self.injector.strip(obj, path)
        outcome = self.injector.inject(source_obj, path)
        if outcome.action == "skipped" or outcome.obj is None:
            # the report line already says why; keep only warnings that add something
            # (host networking is a warning in istioctl and stays one here)
            warnings = tuple(
                w
                for w in outcome.warnings
                if outcome.reason == "host_network" or not w.startswith("Skipping injection")
            )
            results.append(
                Result(
                    kind,
                    namespace,
                    name,
                    "skipped",
                    outcome.reason,
                    chunk.source,
                    chunk.index,
                    warnings,
                )
            )
            return obj
        new = outcome.obj
        if new == obj:
            action, reason = "unchanged", "up_to_date"
        else:
            action, reason = "injected", "injected"
        results.append(
            Result(
                kind,
                namespace,
                name,
                action,
                reason,
                chunk.source,
                chunk.index,
                tuple(outcome.warnings),
            )
        )
        return new

    def _list_item(self, index: int, item: Any, chunk: Chunk, results: list[Result]) -> Any:
        try:
            return self._one_object(item, chunk, results)
        except MeshctlError as exc:
            raise exc.located(path=("items", index)) from None

    def process(self, chunk: Chunk) -> tuple[str, list[Result], DocumentChange | None]:
        results: list[Result] = []
        if not _needs_parse(chunk):
            return chunk.text, results, None
        try:
            doc = load_document(chunk.text)
        except YamlSyntaxError as exc:
            raise InputError(
                f"invalid YAML: {exc.problem}",
                source=chunk.source,
                document=chunk.index,
                line=chunk.start_line + exc.line - 1,
            ) from None
        data = doc.data
        try:
            if (
                isinstance(data, dict)
                and data.get("kind") == "List"
                and isinstance(data.get("items"), list)
            ):
                items = data["items"]
                new_items = [
                    self._list_item(i, item, chunk, results) for i, item in enumerate(items)
                ]
                if any(a is not b for a, b in zip(new_items, items, strict=True)):
                    new_data: Any = copy.copy(data)
                    new_data["items"] = new_items
                else:
                    new_data = data
            else:
                new_data = self._one_object(data, chunk, results)
        except MeshctlError as exc:
            line = None
            err_path = exc.path
            if err_path is not None:
                offset = _line_of_path(doc, err_path)
                if offset is not None:
                    line = chunk.line_of_offset(offset)
            raise exc.located(
                source=chunk.source,
                document=chunk.index,
                line=line if line is not None else _error_line(chunk, str(exc)),
            ) from None
        if new_data is data:
            return chunk.text, results, None
        ops = make_patch(data, new_data)
        if not ops:
            return chunk.text, results, None
        text = apply_patch_to_text(doc, ops)
        kind, namespace, name = _meta(data) if isinstance(data, dict) else ("", "", "")
        # the ops travel back from worker processes only when they are printed
        change = DocumentChange(
            chunk.source, chunk.index, kind, namespace, name, ops if self.keep_patches else []
        )
        return text, results, change


#: fields of a pod template that injection reads or writes, and the shape they must have
_POD_SHAPE: tuple[tuple[tuple[str, ...], type, str], ...] = (
    (("metadata",), dict, "a mapping"),
    (("metadata", "labels"), dict, "a mapping"),
    (("metadata", "annotations"), dict, "a mapping"),
    (("spec",), dict, "a mapping"),
    (("spec", "containers"), list, "a list"),
    (("spec", "initContainers"), list, "a list"),
    (("spec", "volumes"), list, "a list"),
    (("spec", "imagePullSecrets"), list, "a list"),
)
_TYPE_NAMES = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
               int: "a number", float: "a number"}  # fmt: skip


def check_pod_shape(obj: Mapping[str, Any], path: tuple[str, ...]) -> None:
    """Raise InputError when a field injection touches has the wrong type (Istio's typed
    decoding refuses such a pod too); the error's ``path`` attribute locates it."""
    template = get_path(obj, path) if path else obj
    if template is None or not isinstance(template, dict):
        return
    for rel, want, what in _POD_SHAPE:
        value = get_path(template, rel)
        if value is not None and not isinstance(value, want):
            full = (*path, *rel)
            raise InputError(
                f"{'.'.join(full)} must be {what}, not {_TYPE_NAMES.get(type(value), 'that')}",
                path=full,
            )
        if rel[-1] in ("containers", "initContainers") and isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, dict):
                    raise InputError(
                        f"{'.'.join((*path, *rel))}[{i}] must be a mapping", path=(*path, *rel, i)
                    )


def _line_of_path(doc: Any, path: tuple[Any, ...]) -> int | None:
    """0-based offset of the node at ``path`` in a SourceDoc (None when not found)."""
    node = doc.root
    for step in path:
        if isinstance(node, MapNode):
            found = None
            for key_node, value_node, key in node.entries:
                if key == step:
                    found = key_node if step == path[-1] else value_node
            if found is None:
                return None
            node = found
        elif isinstance(node, SeqNode) and isinstance(step, int) and step < len(node.items):
            node = node.items[step]
        else:
            return None
    return int(node.start)


_NAMED_ANNOTATION = re.compile(r"annotation '([^']+)'|annotation ([a-z0-9.-]+/[A-Za-z0-9._-]+)")


def _error_line(chunk: Chunk, message: str) -> int:
    """The line an injection error is about: the annotation it names, else the document start."""
    m = _NAMED_ANNOTATION.search(message)
    name = (m.group(1) or m.group(2)) if m else None
    if name is None and "requested template" in message:
        name = "inject.istio.io/templates"
    if name is not None:
        key = re.compile(r"^[ \t-]*[\"']?" + re.escape(name) + r"[\"']?[ \t]*:", re.M)
        found = key.search(chunk.text)
        if found:
            return chunk.line_of_offset(found.start())
    return _first_content_line(chunk)


def _first_content_line(chunk: Chunk) -> int:
    for offset, line in enumerate(chunk.text.splitlines()):
        s = line.strip()
        if s and not s.startswith("#") and s not in ("---",):
            return chunk.start_line + offset
    return chunk.start_line


InjectorFactory = Callable[[Options, int], "Injector"]


#: from this many documents to process on, templates are compiled to Python even when the
#: persistent cache is off (compiling costs ~40 ms; with the cache, only once)
COMPILED_TEMPLATES_MIN_DOCS = 32


def make_injector(opts: Options, documents: int = 0) -> Injector:
    """The injector for these options: the built-in profile, or the user's Istio config."""
    from meshctl.inject import Injector
    from meshctl.profile import settings_for

    settings = settings_for(opts)
    try:
        # compiles the templates: a syntax error is the config's
        compiled = documents >= COMPILED_TEMPLATES_MIN_DOCS or tplcache.cache_dir() is not None
        return Injector(settings, compiled_templates=compiled)
    except MeshctlError as exc:
        raise exc.located(source=opts.inject_config_file) from None


#: below this many documents to parse, one process is faster than starting workers
PARALLEL_MIN_DOCS = 150

# What a parallel run's workers work on, inherited through fork (set before the pool starts):
# workers get index ranges, not documents, so nothing but results is pickled.
_WORKER_STATE: tuple[Processor, list[Chunk]] | None = None


def _work(
    span: tuple[int, int],
) -> list[tuple[str, list[Result], DocumentChange | None]] | MeshctlError:
    """Process ``chunks[span[0]:span[1]]`` in a worker; a MeshctlError is returned, not raised."""
    assert _WORKER_STATE is not None
    processor, chunks = _WORKER_STATE
    try:
        return [processor.process(c) for c in chunks[span[0] : span[1]]]
    except MeshctlError as exc:
        return exc


def _jobs(opts: Options, n_docs: int) -> int:
    if opts.jobs:
        return max(1, opts.jobs)
    if n_docs < PARALLEL_MIN_DOCS or not hasattr(os, "fork"):
        return 1
    return min(os.cpu_count() or 1, 8)


def _process_all(
    processor: Processor, chunks: list[Chunk], jobs: int
) -> list[tuple[str, list[Result], DocumentChange | None]]:
    """Process chunks in order; with jobs > 1, in forked workers (order kept)."""
    if jobs <= 1 or len(chunks) < 2:
        return [processor.process(c) for c in chunks]
    import multiprocessing

    global _WORKER_STATE
    _WORKER_STATE = (processor, chunks)
    size = max(1, min(32, len(chunks) // (jobs * 8)))
    spans = [(i, min(i + size, len(chunks))) for i in range(0, len(chunks), size)]
    out: list[tuple[str, list[Result], DocumentChange | None]] = []
    ctx = multiprocessing.get_context("fork")
    try:
        with ctx.Pool(jobs) as pool:
            for batch in pool.imap(_work, spans):
                if isinstance(batch, MeshctlError):
                    raise batch
                out.extend(batch)
    finally:
        _WORKER_STATE = None
    return out


def run(
    opts: Options,
    *,
    stdin: Callable[[], bytes] | None = None,
    injector_factory: InjectorFactory = make_injector,
) -> RunResult:
    """Run the whole pipeline; raises MeshctlError on any problem, before emitting anything.

    Documents that need no parsing are copied right away; the others are processed in order,
    in parallel worker processes when there are many (both cores of a CI runner help on big
    rendered charts). Results are put back in input order either way.
    """
    if not opts.filenames:
        raise InputError("filename not specified (see --filename or -f)")
    sources = read_sources(opts.filenames, recursive=opts.recursive, stdin=stdin)
    todo = [c for src in sources for c in src.chunks if _needs_parse(c)]
    injector = injector_factory(opts, len(todo))
    processor = Processor(injector, opts.operation, opts.reinject_mode)
    processor.keep_patches = opts.mode is Mode.PATCH
    done = dict(
        zip(map(id, todo), _process_all(processor, todo, _jobs(opts, len(todo))), strict=True)
    )
    out = RunResult()
    for src in sources:
        parts: list[str] = []
        for chunk in src.chunks:
            item = done.get(id(chunk))
            if item is None:
                parts.append(chunk.text)
                continue
            text, results, change = item
            parts.append(text)
            out.results.extend(results)
            if change is not None:
                out.changes.append(change)
        out.sources.append(SourceResult(src, "".join(parts)))
    return out


def joined_output(result: RunResult) -> str:
    """All sources as one stream: YAML joined with ``---``, JSON values one after another."""
    texts: list[str] = []
    for i, s in enumerate(result.sources):
        text = s.new_text
        if s.source.bom and i == 0:
            text = "\ufeff" + text
        if i > 0 and texts:
            prev = texts[-1]
            if prev and not prev.endswith("\n"):
                texts[-1] = prev + "\n"
            if not (
                s.source.is_json and result.sources[i - 1].source.is_json
            ) and not text.startswith("---"):
                texts.append("---\n")
        texts.append(text)
    return "".join(texts)
