"""Documents processed in forked worker processes, results in input order.

Big inputs are worth it: both cores of a CI runner help on big rendered charts, and each worker
inherits the parsed options and compiled templates through fork. Below
:data:`PARALLEL_MIN_DOCS` documents one process is faster.
"""

from __future__ import annotations

import contextlib
import os

from meshctl.errors import MeshctlError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from collections.abc import Callable
    from typing import Any, Protocol

    from meshctl.manifests.read import Chunk

    #: ``progress(documents done, documents in all)``
    Progress = Callable[[int, int], None]

    class Processor(Protocol):
        """What processes one document (:class:`meshctl.commands.pipeline.DocumentProcessor`);
        its results must pickle."""

        def process(self, chunk: Chunk) -> Any: ...


#: below this many documents to parse, one process is faster than starting workers
PARALLEL_MIN_DOCS = 150

def jobs_for(requested: int, n_docs: int) -> int:
    """Worker processes for ``n_docs`` documents to parse (``requested`` 0: decide here)."""
    if requested:
        return max(1, requested)
    if n_docs < PARALLEL_MIN_DOCS or not hasattr(os, "fork"):
        return 1
    return min(os.cpu_count() or 1, 8)


def process_all(processor: Processor, chunks: list[Chunk], jobs: int,
                progress: Progress | None = None) -> list[Any]:
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
        done: list[Any] = []
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
        out: list[Any] = []
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


def _work(processor: Processor, chunks: list[Chunk]) -> tuple[str, Any]:
    """A worker's results for some chunks: ``("ok", results)``, ``("error", MeshctlError)``
    or ``("bug", description)``."""
    try:
        return "ok", [processor.process(c) for c in chunks]
    except MeshctlError as exc:
        return "error", exc
    except Exception as exc:  # noqa: BLE001 - reported by the parent as an internal error
        return "bug", f"{type(exc).__name__}: {exc}"
