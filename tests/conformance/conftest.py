"""Counts conformance outcomes and prints ``N/M Istio golden cases pass`` per suite."""

from __future__ import annotations

from collections import defaultdict

import pytest

#: test function name -> label printed in the summary
SUITES = {
    "test_builtin_profile": "built-in profile (CLI), default settings + built-in templates",
    "test_istio_config": "Istio injector config (CLI), all kube-inject cases",
    "test_istioctl_command": "istioctl command cases (CLI)",
}
_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    func = report.nodeid.split("::")[-1].split("[")[0]
    if func in SUITES:
        c = _counts[func]
        c[1] += 1
        if report.outcome == "passed":
            c[0] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _counts:
        return
    terminalreporter.section("Istio conformance")
    for func, label in SUITES.items():
        if func in _counts:
            ok, total = _counts[func]
            terminalreporter.write_line(f"{ok}/{total} Istio golden cases pass: {label}")
