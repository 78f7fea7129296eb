"""Ctrl-C ends every run the same way: one line on stderr, nothing on stdout, exit code 130,
whether the command line runs without click (the fast path) or through click, and whether
meshctl is waiting for input or working."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from meshctl.errors import EXIT_INTERRUPTED
from tests.conftest import ROOT

#: a fast-path command line, one click parses (combined short flags), and a busy one
COMMANDS = {
    "fast path": ["kube-inject", "-f", "-"],
    "click": ["kube-inject", "-qf", "-"],
    "uninject": ["kube-uninject", "-f", "-"],
}


def _start(args: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MESHCTL_NO_CACHE": "1"}
    return subprocess.Popen([sys.executable, "-m", "meshctl", *args], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def _interrupt(proc: subprocess.Popen[bytes], after: float) -> tuple[int, bytes, bytes]:
    time.sleep(after)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


@pytest.mark.parametrize("args", COMMANDS.values(), ids=COMMANDS.keys())
def test_ctrl_c_while_reading_stdin(args: list[str]) -> None:
    """stdin stays open: meshctl is blocked reading it when the signal comes."""
    proc = _start(args)
    rc, out, err = _interrupt(proc, 1.5)
    assert (rc, out) == (EXIT_INTERRUPTED, b""), err
    assert err.decode().strip() == "meshctl: error: interrupted"


def test_ctrl_c_while_working(tmp_path: Path) -> None:
    """A big input is being injected (in worker processes) when the signal comes."""
    doc = (ROOT / "examples/bookinfo/bookinfo.yaml").read_bytes()
    big = tmp_path / "big.yaml"
    big.write_bytes(b"\n---\n".join([doc] * 300))
    proc = _start(["kube-inject", "-f", str(big), "-j", "2"])
    rc, out, err = _interrupt(proc, 1.0)
    if rc == 0:
        pytest.skip("the run finished before the signal (a very fast machine)")
    assert (rc, out) == (EXIT_INTERRUPTED, b""), err
    assert err.decode().strip() == "meshctl: error: interrupted", err
    time.sleep(0.5)
    assert _processes_naming(str(big)) == [], "worker processes were left running"


def _processes_naming(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(f"{entry.name}: {cmdline}")
    return found
