"""``meshctl url``: its runner (the command is declared in :mod:`meshctl.cli.spec`).

The answer goes to stdout (``--format url|env|json``), notes (which port was chosen...) to
stderr. ``--wait`` shows a spinner on stderr when stderr is a terminal (rich, imported only
then); on a pipe it prints nothing while waiting. ``--port-forward`` prints the local URL as
soon as kubectl forwards, then keeps forwarding until Ctrl-C (or SIGTERM), which stops kubectl
and exits 130.
"""

from __future__ import annotations

import sys

from meshctl.errors import EXIT_INTERRUPTED, MeshctlError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from collections.abc import Callable, Iterator
    from contextlib import AbstractContextManager
    from typing import Any

    from meshctl.commands.url import UrlOptions


def _options(kw: dict[str, Any]) -> UrlOptions:
    from meshctl.commands.url import UrlOptions, parse_duration

    wait = kw.pop("wait")
    return UrlOptions(**kw, wait=None if wait is None else parse_duration(wait))


def run_url(kw: dict[str, Any]) -> int:
    """Print the URL (or run the port-forward); the exit code."""
    from meshctl.cli.output import fail

    try:
        options = _options(dict(kw))
        with _progress() as progress:
            if options.port_forward:
                return _forward(options, progress)
            from meshctl.commands.url import run
            from meshctl.kube.urls import render

            endpoint = run(options, progress)
    except MeshctlError as exc:
        return fail(str(exc), exc.exit_code)
    sys.stdout.write(render(endpoint, options.format))
    sys.stdout.flush()
    for note in endpoint.notes:
        sys.stderr.write(f"note: {note}\n")
    if options.open:
        _open(endpoint.url)
    return 0


def _forward(options: UrlOptions, progress: Callable[[str, float], None] | None) -> int:
    import signal

    from meshctl.commands.url import start_port_forward
    from meshctl.kube.urls import render

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        with start_port_forward(options, progress) as forwarding:
            sys.stdout.write(render(forwarding.endpoint, options.format))
            sys.stdout.flush()
            for note in forwarding.endpoint.notes:
                sys.stderr.write(f"note: {note}\n")
            sys.stderr.write(f"forwarding {forwarding.url} ({' '.join(forwarding.command)}); "
                             "Ctrl-C stops\n")
            sys.stderr.flush()
            if options.open:
                _open(forwarding.url)
            try:
                forwarding.wait()
            except KeyboardInterrupt:
                return EXIT_INTERRUPTED
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def _open(url: str) -> None:
    import webbrowser

    if not webbrowser.open(url):
        sys.stderr.write(f"note: no browser to open; the URL is {url}\n")


class _Quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _progress() -> AbstractContextManager[Callable[[str, float], None] | None]:
    """A spinner on stderr while waiting, only when stderr is a terminal."""
    stream = sys.stderr
    if stream is None or not stream.isatty():
        return _Quiet()
    return _spinner()


def _spinner() -> AbstractContextManager[Callable[[str, float], None]]:
    from contextlib import contextmanager

    @contextmanager
    def spin() -> Iterator[Callable[[str, float], None]]:
        from rich.console import Console

        console = Console(stderr=True)
        status = console.status("")
        started = False

        def show(message: str, seconds_left: float) -> None:
            nonlocal started
            status.update(f"waiting: {message} ({seconds_left:.0f}s left)")
            if not started:
                status.start()
                started = True

        try:
            yield show
        finally:
            if started:
                status.stop()

    return spin()
