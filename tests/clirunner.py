"""Run meshctl's CLI in-process (fast) and return exit code, stdout and stderr."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from click.testing import CliRunner

from meshctl.cli.app import cli


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str


def run_cli(args: Sequence[str], stdin: str | bytes | None = None, cwd: str | None = None) -> Run:
    runner = CliRunner()
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        res = runner.invoke(cli, list(args), input=stdin, catch_exceptions=False)
    finally:
        os.chdir(old)
    return Run(res.exit_code, res.stdout, res.stderr)
