"""The ``meshctl`` command's start-up: answer what needs no click before loading anything.

Why: the interpreter alone takes about half of ``kubectl version``; importing click takes about
as long again. So ``main`` first looks at the arguments:

* ``meshctl version [-s|--short]`` and ``meshctl --version`` are printed from here;
* ``meshctl [COMMAND] --help|-h`` prints click's own help text from the start-up cache
  (:mod:`meshctl.tplcache`). The text is keyed by the stamps of the files it comes from (this
  module, :mod:`meshctl.cli.commands`, click's sources), the terminal width and the locale
  variables; on a miss click renders it as usual and the text is stored;
* ``kube-inject``/``kube-uninject`` command lines that :func:`meshctl.cli.spec.parse` parses
  exactly as click would (the options are declared once, in :mod:`meshctl.cli.spec`) run
  without click (:func:`meshctl.cli.run.run`): importing click costs ~15 ms, a third of what
  injecting a small file takes;
* everything else (help that is not cached, errors, unusual spellings, and any of the above
  while shell completion runs) goes to the click application in :mod:`meshctl.cli.commands`,
  which imports the YAML and template stack only inside the commands that need it.

The names of :mod:`meshctl.cli.commands` (``cli``, the commands) are importable from here too.
"""

from __future__ import annotations

import os
import sys

from meshctl import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any

#: The Istio release the built-in profile reproduces (docs/builtin-profile.md).
BUILTIN_ISTIO = "1.29.0"
#: ``meshctl --version`` (click's ``version_option`` message)
VERSION_MESSAGE = "%(prog)s %(version)s"

_HELP_FLAGS = ("--help", "-h")
_VERSION_COMMANDS = {("version",): False, ("version", "-s"): True, ("version", "--short"): True}
#: What click's help text depends on besides the sources: width (shutil.get_terminal_size reads
#: COLUMNS/LINES, else the terminal) and gettext's language.
_HELP_ENV = ("COLUMNS", "LINES", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def version_text(short: bool) -> str:
    """What ``meshctl version`` prints (also used by the click command)."""
    if short:
        return f"{__version__}\n"
    return (
        f"meshctl version {__version__}\n"
        f"built-in profile: Istio {BUILTIN_ISTIO} sidecar (docker.io/istio, tag {BUILTIN_ISTIO})\n"
    )


def _completing() -> bool:
    return bool(os.environ.get("_MESHCTL_COMPLETE"))


def _direct_output(argv: list[str]) -> str | None:
    """The output of a command answered without click, or None."""
    args = tuple(argv)
    if args == ("--version",):
        return VERSION_MESSAGE % {"prog": "meshctl", "version": __version__} + "\n"
    short = _VERSION_COMMANDS.get(args)
    if short is not None:
        return version_text(short)
    return None


def _is_help_request(argv: list[str]) -> bool:
    if len(argv) == 1:
        return argv[0] in _HELP_FLAGS
    return len(argv) == 2 and argv[1] in _HELP_FLAGS and not argv[0].startswith("-")


def _click_dir() -> str | None:
    from importlib.machinery import PathFinder

    spec = PathFinder.find_spec("click")
    locations = spec.submodule_search_locations if spec is not None else None
    return list(locations)[0] if locations else None


def _help_key(argv: list[str]) -> str | None:
    """The cache key of this help text, or None when it cannot be keyed safely."""
    from meshctl import tplcache

    click_dir = _click_dir()
    stdout = sys.stdout
    if click_dir is None or stdout is None or not getattr(stdout, "encoding", None):
        return None
    try:
        size: object = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        size = None
    here = os.path.dirname(os.path.abspath(__file__))
    click_files = sorted(e.path for e in os.scandir(click_dir) if e.name.endswith(".py"))
    return tplcache.digest(
        tplcache.FORMAT, "help", sys.version, __version__, *argv,
        tplcache.file_stamp(os.path.join(here, "main.py")),
        tplcache.file_stamp(os.path.join(here, "commands.py")),
        *(tplcache.file_stamp(path) for path in click_files),
        *(f"{name}={os.environ.get(name)!r}" for name in _HELP_ENV),
        f"terminal={size!r}", f"encoding={stdout.encoding}:{stdout.errors}",
    )


def _help(argv: list[str]) -> None:
    """Print a help text from the cache, or render it with click and store it; exits."""
    from meshctl import tplcache

    cache = tplcache.default_cache()
    key = _help_key(argv) if cache.directory is not None else None
    if key is None:
        _click()
        return
    text = cache.get("help", key)
    if text is not None:
        sys.stdout.write(text.decode("utf-8"))
        sys.stdout.flush()
        sys.exit(0)
    import io

    real = sys.stdout
    raw = io.BytesIO()
    capture = io.TextIOWrapper(raw, encoding=real.encoding, errors=real.errors, newline="")
    sys.stdout = capture
    code: str | int | None = 0
    try:
        _click()
    except SystemExit as exc:
        code = exc.code
    finally:  # whatever click printed reaches stdout, even if it failed
        sys.stdout = real
        capture.flush()
        output = raw.getvalue().decode(real.encoding, real.errors or "strict")
        real.write(output)
        real.flush()
    if code in (0, None) and output and "\x1b" not in output:
        cache.put("help", key, output.encode("utf-8"))
    sys.exit(code)


def _click() -> None:
    from meshctl.cli.commands import cli

    cli.main(prog_name="meshctl", standalone_mode=True)


def _exit_fast(exc: SystemExit) -> None:
    """End the process now, skipping the interpreter's teardown, when that is safe.

    Why: tearing down the template engine's and the YAML stack's objects costs about as much as
    a small run (like mypy's fast exit). Everything a command writes is flushed or closed by
    then; ``atexit`` handlers are skipped, so this is not done under coverage, a tracer or a
    profiler, nor when flushing fails (the usual exit then reports as Python does).
    """
    code = exc.code
    if code is not None and type(code) is not int:
        return
    if "coverage" in sys.modules or sys.gettrace() is not None or sys.getprofile() is not None:
        return
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except Exception:
        return
    os._exit(code or 0)


def _run_parsed(argv: list[str]) -> None:
    """Run a ``kube-inject``/``kube-uninject`` command line that :mod:`meshctl.cli.spec` parses
    exactly as click would, without importing click; exits. Returns when click must handle the
    command line (options that do not go together: click reports the usage error)."""
    from meshctl.cli.spec import parse

    parsed = parse(argv)
    if parsed is None:
        return
    from meshctl.cli.run import UsageProblem, run

    try:
        run(*parsed)
    except UsageProblem:
        return
    # what click's standalone mode does with these
    except OSError as exc:
        import errno

        if exc.errno != errno.EPIPE:
            raise
        # the reader went away (``| head``): no traceback, nothing more written, exit 1
        devnull = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.stdout, sys.stderr):
            os.dup2(devnull, stream.fileno())
        sys.exit(1)
    except (EOFError, KeyboardInterrupt):
        sys.stderr.write("\nAborted!\n")
        sys.exit(1)


def main() -> None:
    argv = sys.argv[1:]
    completing = _completing()
    if not completing:
        text = _direct_output(argv)
        if text is not None:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        if _is_help_request(argv):
            _help(argv)
            return
    try:
        if not completing:
            _run_parsed(argv)
        _click()
    except SystemExit as exc:
        _exit_fast(exc)
        raise


def __getattr__(name: str) -> Any:
    """``cli`` and the commands, from :mod:`meshctl.cli.commands` (imported on first use)."""
    if name.startswith("__"):
        raise AttributeError(name)
    from meshctl.cli import commands

    try:
        return getattr(commands, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
