"""Run meshctl's CLI in-process (fast) and return exit code, stdout and stderr.

:func:`run_cli` runs a command line both ways a user's command can go, and checks that they
give the same bytes:

* through :func:`meshctl.cli.main.main`, what the ``meshctl`` script runs: the usual command
  lines are parsed and run without click (:mod:`meshctl.cli.spec`), the others fall back to
  click;
* through the click application itself (:data:`meshctl.cli.app.cli`, click's ``CliRunner``).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from click.testing import CliRunner

from meshctl.cli.app import cli
from meshctl.cli.main import main


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str


@contextmanager
def _cwd(cwd: str | None) -> Iterator[None]:
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        yield
    finally:
        os.chdir(old)


def _bytes(stdin: str | bytes | None) -> bytes:
    if stdin is None:
        return b""
    return stdin.encode("utf-8") if isinstance(stdin, str) else stdin


def run_click(args: Sequence[str], stdin: str | bytes | None = None,
              cwd: str | None = None) -> Run:
    """The click application, as click's test runner runs it."""
    with _cwd(cwd):
        res = CliRunner().invoke(cli, list(args), input=_bytes(stdin), catch_exceptions=False,
                                 prog_name="meshctl")
    # the bytes as written (res.stdout would turn CRLF into LF)
    return Run(res.exit_code, res.stdout_bytes.decode("utf-8"), res.stderr_bytes.decode("utf-8"))


def run_main(args: Sequence[str], stdin: str | bytes | None = None,
             cwd: str | None = None) -> Run:
    """``meshctl.cli.main.main``, what the console script runs (fast path first)."""
    out, err = io.BytesIO(), io.BytesIO()
    streams = (sys.stdin, sys.stdout, sys.stderr)
    wrappers = (io.TextIOWrapper(io.BytesIO(_bytes(stdin)), encoding="utf-8"),
                io.TextIOWrapper(out, encoding="utf-8", newline=""),
                io.TextIOWrapper(err, encoding="utf-8", newline=""))
    sys.stdin, sys.stdout, sys.stderr = wrappers
    try:
        with _cwd(cwd):
            rc = main(list(args))
        for wrapper in wrappers[1:]:
            wrapper.flush()
        result = Run(rc, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8"))
    finally:
        sys.stdin, sys.stdout, sys.stderr = streams
    return result


#: options that write files: such a command line runs once (the fast path), not twice; and
#: help, whose width click's runner fixes its own way (tests/cli/test_startup.py compares help
#: texts in real processes)
_ONCE = ("-o", "--output", "-i", "--in-place", "-h", "--help")


def run_cli(args: Sequence[str], stdin: str | bytes | None = None, cwd: str | None = None) -> Run:
    """Both ways in; they must agree byte for byte (the result of the fast path is returned).
    A command line that writes files, or asks for help, runs once, through the fast path."""
    fast = run_main(args, stdin, cwd)
    if any(a in _ONCE or a.startswith(("--output=", "-o=")) for a in args):
        return fast
    slow = run_click(args, stdin, cwd)
    assert (fast.rc, fast.stdout, fast.stderr) == (slow.rc, slow.stdout, slow.stderr), (
        f"meshctl {' '.join(args)}: the fast path and click disagree"
    )
    return fast


def run_in_pty(args: Sequence[str], env: dict[str, str] | None = None) -> tuple[bytes, int]:
    """``python -m meshctl ARGS`` on a pseudo-terminal (what a person sees: colours, progress),
    from the repository root; ``(everything it wrote, exit code)``."""
    import pty

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.chdir(root)
        os.environ.update(env or {})
        os.execv(sys.executable, [sys.executable, "-m", "meshctl", *args])
    out = b""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return out, os.waitstatus_to_exitcode(status)
