"""Every bad input is one error line: the corpus of tests/fixtures/bad, discovered automatically.

A case is a file ``NAME.yaml`` / ``NAME.json`` (the input: the command gets ``-f NAME.yaml``
appended), or a command line ``NAME.args`` (shell-quoted, used as it is; helper files live in
``_support/``), or both (the ``.args`` then names the command: ``kube-inject`` and flags). Next
to it:

  NAME.expected   the exact stderr: ONE line, ``meshctl: error: FILE: document N (line L): ...``
  NAME.rc         the exit code, when it is not 3

Every case must exit with that code, print nothing on stdout and exactly the expected line on
stderr, through both ways into the CLI (``tests.clirunner.run_cli``). A case whose input is a
file also runs with ``--in-place`` on a copy, which must stay byte-identical; and, unless it is
about injection only (:data:`INJECT_ONLY`), through ``kube-uninject`` with the same message:
reading and checking documents is the same pipeline for both.

``pytest --update-goldens tests/test_bad_inputs.py`` writes the ``.expected`` files (review them).
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest

from tests.clirunner import run_cli, run_main

BAD = Path(__file__).parent / "fixtures" / "bad"
_INPUT_SUFFIXES = (".yaml", ".json")


def _cases() -> list[str]:
    names = {p.stem for p in BAD.iterdir() if p.is_file() and p.suffix in (*_INPUT_SUFFIXES,
                                                                             ".args")}
    return sorted(names)


CASES = _cases()
#: cases about what injection does with a pod (its annotations, the templates): kube-uninject
#: reads the same documents without injecting, so they are no error there
INJECT_ONLY = frozenset({
    "annotation-boolean", "traffic-annotation-port", "traffic-annotation-cidr",
    "unknown-template", "explicit-key",
})


def _input(name: str) -> Path | None:
    for suffix in _INPUT_SUFFIXES:
        if (BAD / f"{name}{suffix}").exists():
            return BAD / f"{name}{suffix}"
    return None


def _args(name: str) -> list[str]:
    args_file = BAD / f"{name}.args"
    args = shlex.split(args_file.read_text()) if args_file.exists() else ["kube-inject"]
    inp = _input(name)
    if inp is not None:
        args += ["-f", inp.name]
    return args


def test_the_corpus_is_complete() -> None:
    assert len(CASES) >= 40
    for name in CASES:
        assert (BAD / f"{name}.expected").exists() or name, name


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_one_error_line(name: str, update_goldens: bool) -> None:
    args = _args(name)
    res = run_cli(args, cwd=str(BAD))
    expected = BAD / f"{name}.expected"
    rc_file = BAD / f"{name}.rc"
    if update_goldens:
        expected.write_text(res.stderr)
    want_rc = int(rc_file.read_text()) if rc_file.exists() else 3
    assert res.rc == want_rc, res.stderr
    assert res.stdout == "", "nothing may reach stdout when a run fails"
    assert res.stderr.startswith("meshctl: error: ")
    assert res.stderr.count("\n") == 1 and res.stderr.endswith("\n"), res.stderr
    assert expected.exists(), f"{expected} missing: run pytest --update-goldens"
    assert res.stderr == expected.read_text(), f"{name}.expected is stale"

    if name in INJECT_ONLY or (BAD / f"{name}.args").exists():
        return
    uninject = run_cli(["kube-uninject", *args[1:]], cwd=str(BAD))
    assert (uninject.rc, uninject.stdout, uninject.stderr) == (want_rc, "", res.stderr)


@pytest.mark.parametrize("name", [n for n in CASES if _input(n) is not None])
def test_no_file_is_touched(name: str, tmp_path: Path) -> None:
    inp = _input(name)
    assert inp is not None
    copy = tmp_path / inp.name
    shutil.copyfile(inp, copy)
    if (BAD / "_support").is_dir():
        shutil.copytree(BAD / "_support", tmp_path / "_support")
    before = copy.read_bytes()
    args = _args(name)
    res = run_main([*args[:-2], "--in-place", "-f", copy.name], cwd=str(tmp_path))
    assert res.rc != 0
    assert res.stdout == ""
    assert copy.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [copy.name, *(["_support"] if (BAD / "_support").is_dir() else [])])
