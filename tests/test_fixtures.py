"""Golden tests of our own: one folder per case under tests/fixtures, discovered automatically.

A case folder holds:
  input.yaml | input.json   the manifest (the command gets ``-f <it>`` appended)
  args                      the rest of the command line, shell-quoted, e.g. ``kube-inject``
  expected.out              exact stdout
  expected.stderr           exact stderr (report lines, errors)
  expected.rc               exit code (file absent: 0)

``pytest --update-goldens`` rewrites the expected files from the current output; without it a
stale expected file fails the run. For every successful kube-inject case the output is also
checked to be a fixed point (kube-inject of the output gives the same bytes), to be undone by
kube-uninject byte for byte, and to keep every comment line of the input.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.clirunner import run_cli

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(p for p in FIXTURES.iterdir() if p.is_dir() and (p / "args").exists())


def _input(case: Path) -> Path | None:
    for name in ("input.yaml", "input.json"):
        if (case / name).exists():
            return case / name
    return None


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Path, update_goldens: bool) -> None:
    args = shlex.split((case / "args").read_text())
    inp = _input(case)
    if inp is not None:
        args += ["-f", inp.name]
    res = run_cli(args, cwd=str(case))
    expected = {
        "expected.out": res.stdout,
        "expected.stderr": res.stderr,
    }
    if update_goldens:
        for name, text in expected.items():
            (case / name).write_bytes(text.encode("utf-8"))
        rc_file = case / "expected.rc"
        if res.rc:
            rc_file.write_text(f"{res.rc}\n")
        elif rc_file.exists():
            rc_file.unlink()
        return
    rc_file = case / "expected.rc"
    want_rc = int(rc_file.read_text()) if rc_file.exists() else 0
    assert res.rc == want_rc, res.stderr
    for name, text in expected.items():
        path = case / name
        assert path.exists(), f"{path} missing: run pytest --update-goldens"
        want = path.read_bytes().decode("utf-8")  # exact bytes: CRLF stays CRLF
        assert text == want, f"{case.name}/{name} is stale (pytest --update-goldens)"
    if res.rc == 1 and "--diff" in args:
        return  # the diff of what would change (exit 1, as diff(1))
    if res.rc != 0:
        assert res.stdout == "", "nothing may reach stdout when a run fails"
        return
    if (
        args[0] == "kube-inject"
        and inp is not None
        and "--diff" not in args
        and "--check" not in args
        and "patch" not in args
    ):
        again = run_cli(args[:-2] + ["-f", "-"], stdin=res.stdout, cwd=str(case))
        assert again.rc == 0
        assert again.stdout == res.stdout, "kube-inject of its own output must be byte-identical"
        back = run_cli(["kube-uninject", "-q", "-f", "-"], stdin=res.stdout, cwd=str(case))
        assert back.rc == 0
        source = inp.read_bytes().decode("utf-8")  # exact bytes: CRLF stays CRLF
        if "sidecar.istio.io/status" in source:  # injected already: back to the original
            source = run_cli(["kube-uninject", "-q", "-f", inp.name], cwd=str(case)).stdout
        assert back.stdout == source, "kube-uninject must give back the input's bytes"
        out_lines = res.stdout.splitlines()
        for line in inp.read_text().splitlines():
            if line.lstrip().startswith("#"):
                assert line in out_lines, f"comment lost: {line!r}"
