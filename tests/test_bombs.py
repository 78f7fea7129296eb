"""Resource bombs end quickly: a clear error (or, for a document passed through untouched, the
same bytes) within 5 s of CPU and 300 MB of memory.

Each case runs meshctl in a child process whose address space is limited to 300 MB
(``RLIMIT_AS``: a bomb that gets through fails with MemoryError, exit 4, instead of taking the
machine down), and checks its CPU time (``wait4``) and peak memory (``VmHWM``). CPU time, not
wall time, is what is compared, so a loaded CI machine does not make the test flaky; wall time
only has a generous bound that catches a hang.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import pytest

LIMIT_MB = 300
CPU_SECONDS = 5.0
WALL_SECONDS = 60.0
POD = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n"
       "  - name: app\n    image: app:1\n")


class Ran(NamedTuple):
    rc: int
    stdout: bytes
    stderr: str
    cpu: float
    rss_mb: float


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_MB * 2**20, LIMIT_MB * 2**20))


#: meshctl's CLI, then the peak resident memory of this process (VmHWM: ``ru_maxrss`` would
#: include what the child inherited from the big test process that forked it)
_RUN = """import os, sys
from meshctl.cli.main import main
code = main(sys.argv[1:])
sys.stdout.flush(); sys.stderr.flush()
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
with open(os.environ["MESHCTL_TEST_PEAK"], "w") as out:
    out.write(peak)
os._exit(code)
"""


def run_limited(args: list[str], cwd: Path, stdin: Path | None = None,
                env: dict[str, str] | None = None) -> Ran:
    """meshctl in a child limited to LIMIT_MB of address space; its own CPU time (``wait4``)
    and peak memory."""
    peak_file = cwd / "peak.kb"
    peak_file.unlink(missing_ok=True)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            open(stdin or os.devnull, "rb") as inp:
        proc = subprocess.Popen(
            [sys.executable, "-c", _RUN, *args], cwd=cwd, stdin=inp, stdout=out,
            stderr=err, preexec_fn=_limit,
            env={**os.environ, **(env or {}), "MESHCTL_TEST_PEAK": str(peak_file)},
        )
        deadline = time.monotonic() + WALL_SECONDS
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                pytest.fail(f"meshctl {' '.join(args)} still running after {WALL_SECONDS} s")
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        peak = int(peak_file.read_text()) / 1024 if peak_file.exists() else float("inf")
        return Ran(proc.returncode, out.read(), err.read().decode(errors="replace"),
                   usage.ru_utime + usage.ru_stime, peak)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _laughs(indent: str) -> str:
    lines = [f'{indent}a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{indent}{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    return "\n".join(lines) + "\n"


DEEP = 200_000


def _cases(tmp: Path) -> dict[str, tuple[list[str], Path | None, str | None]]:
    """name -> (args, stdin file, the error expected on stderr; None: success expected)."""
    bracket = "[" * DEEP + "]" * DEEP
    big = 9 * 2**20
    cases: dict[str, tuple[list[str], Path | None, str | None]] = {
        "alias bomb in a workload": (
            ["-f", str(_write(tmp / "lol-pod.yaml", POD + "lol:\n" + _laughs("  ")))], None,
            "aliases expand to more than 100000 nodes"),
        "alias bomb in a document passed through": (
            ["-f", str(_write(tmp / "lol-cm.yaml", "apiVersion: v1\nkind: ConfigMap\n"
                              "metadata: {name: lol}\ndata:\n" + _laughs("  ")))], None,
            "aliases expand to more than 100000 nodes"),
        "200,000 nested brackets in a ConfigMap": (
            ["-f", str(_write(tmp / "deep-cm.yaml", "apiVersion: v1\nkind: ConfigMap\n"
                              f"metadata: {{name: deep}}\ndata:\n  x: {bracket}\n"))], None,
            "nesting deeper than 256 levels"),
        "200,000 nested brackets in a Pod": (
            ["-f", str(_write(tmp / "deep-pod.yaml", POD + f"deep: {bracket}\n"))], None,
            "nesting deeper than 256 levels"),
        "200,000 nested block sequences": (
            ["-f", str(_write(tmp / "deep-block.yaml", "- " * DEEP + "x\n"))], None,
            "nesting deeper than 256 levels"),
        "200,000 nested JSON arrays": (
            ["-f", str(_write(tmp / "deep.json", '{"kind": "Pod", "x": ' + bracket + "}"))],
            None, "nested too deeply"),
        "200,000 nested brackets in a values file": (
            ["-f", str(_write(tmp / "pod.yaml", POD)), "--valuesFile",
             str(_write(tmp / "deep-values.yaml", f"global:\n  x: {bracket}\n"))], None,
            "nesting deeper than 256 levels"),
        "alias bomb in a values file": (
            ["-f", str(_write(tmp / "pod.yaml", POD)), "--valuesFile",
             str(_write(tmp / "lol-values.yaml", "global:\n" + _laughs("  ")))], None,
            "aliases expand to more than 100000 nodes"),
        "a 9 MiB document": (
            ["-f", str(_write(tmp / "huge.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: "
                              "{name: huge}\ndata:\n  blob: |\n" + ("    " + "x" * 95 + "\n")
                              * (big // 100)))], None,
            "document larger than 8 MiB"),
        "a 7 MiB document passed through": (
            ["-f", str(_write(tmp / "big.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: "
                              "{name: big}\ndata:\n  blob: |\n" + ("    " + "x" * 95 + "\n")
                              * (7 * 2**20 // 100)))], None, None),
        "a 1 GiB file": (["-f", str(_sparse(tmp / "sparse.yaml", 2**30))], None,
                         "larger than 64 MiB"),
        "65 MiB on stdin": (["-f", "-"], _sparse(tmp / "stdin.yaml", 65 * 2**20),
                            "larger than 64 MiB"),
    }
    template_pod = str(_write(tmp / "pod.yaml", POD))
    for name, body in {
        # no output: only the iteration budget can stop these
        "a template that loops": "{{ range until 100000 }}{{ range until 100000 }}{{ end }}"
                                 "{{ end }}",
        "a template that loops over a number": "{{ range 100000000 }}{{ end }}",
        "a template that recurses": '{{ define "r" }}{{ template "r" . }}{{ end }}'
                                    '{{ template "r" . }}',
        "a template that builds a huge string": '{{ repeat 1000000000 "x" }}',
        "a template that prints a huge number": '{{ printf "%0999999999d" 1 }}',
    }.items():
        tpl = _write(tmp / f"{len(cases)}.tpl", f'metadata:\n  annotations:\n    x: "{body}"\n')
        cases[name] = (["-f", template_pod, "--injectConfigFile", str(tpl)], None,
                       "budget exceeded" if "loops" in name or "recurses" in name
                       else "more than a template may produce")
    return cases


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[
        list[str], Path | None, str | None]]]:
    tmp = tmp_path_factory.mktemp("bombs")
    return tmp, _cases(tmp)


NAMES = [
    "alias bomb in a workload", "alias bomb in a document passed through",
    "200,000 nested brackets in a ConfigMap", "200,000 nested brackets in a Pod",
    "200,000 nested block sequences", "200,000 nested JSON arrays",
    "200,000 nested brackets in a values file", "alias bomb in a values file",
    "a 9 MiB document", "a 7 MiB document passed through", "a 1 GiB file", "65 MiB on stdin",
    "a template that loops", "a template that loops over a number", "a template that recurses",
    "a template that builds a huge string", "a template that prints a huge number",
]


#: (case, template runtime): templates run both ways (gotpl with its budget, the compiled form
#: with meshctl.gotemplate.limits)
RUNS = [(n, r) for n in NAMES for r in (("gotpl", "compiled") if "template" in n else ("-",))]


@pytest.mark.parametrize(("name", "runtime"), RUNS, ids=[f"{n} ({r})" for n, r in RUNS])
def test_bomb_is_defused(name: str, runtime: str, bombs: tuple[Path, dict[str, tuple[
        list[str], Path | None, str | None]]]) -> None:
    tmp, cases = bombs
    args, stdin, error = cases[name]
    env = {"MESHCTL_COMPILED_TEMPLATES": "1" if runtime == "compiled" else "0"}
    res = run_limited(["kube-inject", "-q", *args], tmp, stdin, env)
    print(f"{name} ({runtime}): {res.cpu:.2f} s CPU, {res.rss_mb:.0f} MB")
    assert res.cpu < CPU_SECONDS, f"{name}: {res.cpu:.1f} s of CPU"
    assert res.rss_mb < LIMIT_MB, f"{name}: {res.rss_mb:.0f} MB"
    if error is None:
        assert res.rc == 0, res.stderr
        source = Path(args[args.index("-f") + 1])
        assert res.stdout == source.read_bytes()
        return
    assert res.rc == 3, res.stderr
    assert res.stdout == b""
    assert res.stderr.startswith("meshctl: error: ") and res.stderr.count("\n") == 1
    assert error in res.stderr, res.stderr
