"""The ``meshctl`` command's start-up: answer what needs no click before loading anything.

Why: the interpreter alone takes about half of ``kubectl version``; importing click takes about
as long again, a third of what injecting a small file takes. So :func:`main` dispatches a
command line through the first of these that answers it:

1. ``meshctl version [-s|--short]`` and ``meshctl --version``: printed from here;
2. ``meshctl [COMMAND] --help|-h``: click's own help text from the start-up cache
   (:mod:`meshctl.cache`), keyed by the stamps of the files it comes from, the terminal width
   and the locale variables; on a miss click renders it and the text is stored;
3. command lines that :func:`meshctl.cli.spec.parse` parses exactly as click would (the
   options are declared once, in :mod:`meshctl.cli.spec`): run by the command's runner
   (:mod:`meshctl.cli.run`, ``url``, ``create``) without importing click;
4. everything else (help that is not cached, errors, unusual spellings, shell completion):
   the click application, :mod:`meshctl.cli.app`.

Whichever path runs, Ctrl-C ends the run with one line and exit code 130
(:data:`meshctl.errors.EXIT_INTERRUPTED`): a KeyboardInterrupt on the click-free paths, and
:class:`Interrupted` while click runs (which click does not turn into its own "Aborted!", exit 1).
"""

from __future__ import annotations

import contextlib
import os
import sys

from meshctl.errors import EXIT_INTERNAL, EXIT_INTERRUPTED

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import NoReturn

_HELP_FLAGS = ("--help", "-h")
_VERSION_COMMANDS = {("version",): False, ("version", "-s"): True, ("version", "--short"): True}
#: What click's help text depends on besides the sources: width (shutil.get_terminal_size reads
#: COLUMNS/LINES, else the terminal) and gettext's language.
_HELP_ENV = ("COLUMNS", "LINES", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


class Interrupted(BaseException):  # noqa: N818 - a signal, like KeyboardInterrupt
    """SIGINT (Ctrl-C). Not a KeyboardInterrupt, so that no library reports it its own way."""


def _on_sigint(signum: int, frame: object) -> None:
    raise Interrupted


def _completing(prog_name: str) -> bool:
    """Whether a shell asks for completions (click's variable, ``_MESHCTL_COMPLETE``)."""
    name = prog_name.replace("-", "_").replace(".", "_")
    return bool(os.environ.get(f"_{name}_COMPLETE".upper()))


def _direct_output(argv: list[str]) -> str | None:
    """The output of a command answered without click, or None."""
    args = tuple(argv)
    if args == ("--version",) or args in _VERSION_COMMANDS:
        from meshctl.cli.version import option_text, version_text

        short = _VERSION_COMMANDS.get(args)
        return option_text() if short is None else version_text(short)
    return None


def _is_help_request(argv: list[str]) -> bool:
    """``meshctl [WORD [WORD]] --help``: the group's or a command's help."""
    return (0 < len(argv) <= 3 and argv[-1] in _HELP_FLAGS
            and not any(a.startswith("-") for a in argv[:-1]))


def _click_dir() -> str | None:
    from importlib.machinery import PathFinder

    spec = PathFinder.find_spec("click")
    locations = spec.submodule_search_locations if spec is not None else None
    return list(locations)[0] if locations else None


def _help_key(argv: list[str], prog_name: str) -> str | None:
    """The cache key of this help text, or None when it cannot be keyed safely."""
    from meshctl import __version__
    from meshctl import cache as diskcache

    click_dir = _click_dir()
    stdout = sys.stdout
    if click_dir is None or stdout is None or not getattr(stdout, "encoding", None):
        return None
    try:
        size: object = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        size = None
    here = os.path.dirname(os.path.abspath(__file__))
    own = sorted(e.path for e in os.scandir(here) if e.name.endswith(".py"))
    package = os.path.dirname(here)  # what help texts print besides the cli's own words
    own += [os.path.join(package, "errors.py"), os.path.join(package, "sidecar", "config",
                                                             "__init__.py")]
    click_files = sorted(e.path for e in os.scandir(click_dir) if e.name.endswith(".py"))
    return diskcache.digest(
        diskcache.FORMAT, "help", sys.version, __version__, prog_name, *argv,
        *(diskcache.file_stamp(path) for path in own),
        *(diskcache.file_stamp(path) for path in click_files),
        *(f"{name}={os.environ.get(name)!r}" for name in _HELP_ENV),
        f"terminal={size!r}", f"encoding={stdout.encoding}:{stdout.errors}",
    )  # fmt: skip


def _help(argv: list[str], prog_name: str) -> int:
    """Print a help text from the cache, or render it with click and store it."""
    from meshctl import cache as diskcache

    store = diskcache.default_cache()
    key = _help_key(argv, prog_name) if store.directory is not None else None
    if key is None:
        return _click(argv, prog_name)
    text = store.get("help", key)
    if text is not None:
        sys.stdout.write(text.decode("utf-8"))
        return 0
    import io

    real = sys.stdout
    raw = io.BytesIO()
    capture = io.TextIOWrapper(raw, encoding=real.encoding, errors=real.errors, newline="")
    sys.stdout = capture
    try:
        code = _click(argv, prog_name)
    finally:  # whatever click printed reaches stdout, even if it failed
        sys.stdout = real
        capture.flush()
        output = raw.getvalue().decode(real.encoding, real.errors or "strict")
        real.write(output)
    if code == 0 and output and "\x1b" not in output:
        store.put("help", key, output.encode("utf-8"))
    return code


def _click(argv: list[str], prog_name: str) -> int:
    """Run the click application; its exit code.

    SIGINT raises :class:`Interrupted` meanwhile: click would report a KeyboardInterrupt as
    "Aborted!" with exit code 1."""
    import signal

    from meshctl.cli.app import cli

    previous = None
    with contextlib.suppress(ValueError):  # not the main thread: Python's own handler stays
        previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        cli.main(args=argv, prog_name=prog_name, standalone_mode=True)
    except SystemExit as exc:
        return _code(exc)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return 0


def _code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 1


def _dispatch(argv: list[str], prog_name: str) -> int:
    if not _completing(prog_name):
        text = _direct_output(argv)
        if text is not None:
            sys.stdout.write(text)
            return 0
        if _is_help_request(argv):
            return _help(argv, prog_name)
        from meshctl.cli.spec import parse

        parsed = parse(argv)
        if parsed is not None:
            import importlib

            command, kw = parsed
            module, function = command.runner.split(":")
            code: int = getattr(importlib.import_module(module), function)(kw)
            return code
    return _click(argv, prog_name)


def main(argv: list[str] | None = None, *, prog_name: str = "meshctl") -> int:
    """Run ``meshctl`` with ``argv`` (default: the process's arguments); the exit code.

    ``prog_name`` is what usage lines and help call the program (``kubectl mesh`` when kubectl
    runs meshctl as its plugin). Prints on stdout/stderr; never ends the process (see
    :func:`entry`)."""
    args = sys.argv[1:] if argv is None else argv
    try:
        code = _dispatch(args, prog_name)
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        return code
    except (Interrupted, KeyboardInterrupt):
        return _interrupted()
    except BrokenPipeError:
        return _reader_gone()
    except SystemExit as exc:
        return _code(exc)
    except Exception as exc:  # a bug: one line, never a traceback (unless debugging)
        if os.environ.get("MESHCTL_DEBUG"):
            raise
        from meshctl.cli.output import fail

        return fail(f"internal error: {type(exc).__name__}: {exc} "
                    "(set MESHCTL_DEBUG=1 for details)", EXIT_INTERNAL)


def _reader_gone() -> int:
    """The reader of stdout went away (``| head``): no traceback, nothing more written, exit 1
    (what click does)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):  # not a file (tests)
            os.dup2(devnull, stream.fileno())
    return 1


def _interrupted() -> int:
    try:
        sys.stderr.write("\nmeshctl: error: interrupted\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return EXIT_INTERRUPTED


def entry() -> NoReturn:
    """The ``meshctl`` console script: :func:`main`, then end the process (:func:`finish`)."""
    finish(main())


def finish(code: int) -> NoReturn:
    """End the process of a console script with exit code ``code``.

    The process ends with ``os._exit`` when that is safe, skipping the interpreter's teardown:
    tearing down the template engine's and the YAML stack's objects costs about as much as a
    small run (mypy exits the same way). Everything a command writes is flushed by then;
    ``atexit`` handlers are skipped, so this is not done under coverage, a tracer or a profiler,
    nor when flushing fails (the usual exit then reports as Python does).
    """
    if "coverage" in sys.modules or sys.gettrace() is not None or sys.getprofile() is not None:
        sys.exit(code)
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except Exception:  # noqa: BLE001 - let Python report it
        sys.exit(code)
    os._exit(code)
