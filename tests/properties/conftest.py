"""Counts what the property and fuzz tests tried, and prints it after the run:
``N examples tried, F failures`` per test (CI's log shows the fuzz budget was spent)."""

from __future__ import annotations

import pytest

#: test name -> [examples tried, failures]
COUNTS: dict[str, list[int]] = {}


def record(test: str, failed: bool) -> None:
    counts = COUNTS.setdefault(test, [0, 0])
    counts[0] += 1
    counts[1] += int(failed)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not COUNTS:
        return
    terminalreporter.section("Property and fuzz runs")
    for test, (tried, failed) in COUNTS.items():
        terminalreporter.write_line(f"{test}: {tried} examples tried, {failed} failures")
