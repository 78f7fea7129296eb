"""The invariants every run keeps, as functions that raise AssertionError (shared by the
property tests and the fuzz run).

1. The contract of a run: never a traceback; either exit 0 with the manifests on stdout, or
   exactly one line ``meshctl: error: ...`` on stderr, exit 3 and nothing on stdout.
2. A document meshctl does not change comes out byte-identical.
3. ``inject(inject(x)) == inject(x)``, byte for byte.
4. ``uninject(inject(x)) == x``, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

from meshctl.manifests.read import parse_source
from tests.clirunner import Run, run_main


@dataclass
class Outcome:
    text: str
    run: Run


def kube(command: str, text: str, *args: str) -> Run:
    return run_main([command, "-f", "-", *args], stdin=text.encode("utf-8", "surrogatepass"))


def check_contract(text: str, run: Run) -> None:
    assert "Traceback" not in run.stderr, run.stderr
    assert run.rc in (0, 3), f"exit {run.rc}: {run.stderr}"
    if run.rc == 3:
        assert run.stdout == "", "a failed run printed manifests"
        lines = run.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("meshctl: error: "), run.stderr
        assert run.stderr.endswith("\n")
    else:
        assert run.stdout or not text.strip(), "exit 0 without output"
        for line in run.stderr.splitlines():
            assert not line.startswith("meshctl: error"), run.stderr


def check_unchanged_documents(text: str, out: str) -> None:
    """Every document whose data injection does not change keeps its bytes: the output's
    documents are the input's, in order, and each differs only if it was changed."""
    old = [c.text for c in parse_source("in", text).chunks]
    new = [c.text for c in parse_source("out", out).chunks]
    assert len(old) == len(new), "documents were added or lost"
    for before, after in zip(old, new, strict=True):
        if before != after:
            import yaml

            assert yaml.safe_load(before) != yaml.safe_load(after), (
                f"a document changed bytes without changing data:\n{before!r}\n{after!r}")


def injected(text: str, *args: str) -> str | None:
    """The output of kube-inject, checked against the contract; None when it refused."""
    run = kube("kube-inject", text, *args)
    check_contract(text, run)
    return run.stdout if run.rc == 0 else None


def check_fixed_point(out: str, *args: str) -> None:
    again = kube("kube-inject", out, *args)
    assert again.rc == 0, again.stderr
    assert again.stdout == out, "inject(inject(x)) != inject(x)"


def check_round_trip(text: str, out: str) -> None:
    back = kube("kube-uninject", out)
    assert back.rc == 0, back.stderr
    assert back.stdout == text, "uninject(inject(x)) != x"
