"""Style is checked like behaviour: ruff on the tree, mypy --strict on the core."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None,
                    reason="ruff is installed by the [test] extra")
def test_ruff_clean() -> None:
    # the environment's ruff (python -m), whatever PATH says
    res = _run(sys.executable, "-m", "ruff", "check", "--output-format", "concise",
               "meshctl", "tests", "bench", "docs")
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_strict_core() -> None:
    pytest.importorskip("mypy", reason="mypy is installed by the [test] extra")
    res = _run(sys.executable, "-m", "mypy", "meshctl")
    assert res.returncode == 0, res.stdout + res.stderr
