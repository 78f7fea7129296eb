"""Shared test plumbing: where ../shared is, how to run the CLI, --update-goldens."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/fixtures/*/expected.* from the current output",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


def pytest_report_header(config: pytest.Config) -> str:
    return f"shared test data: {SHARED} ({'found' if SHARED.is_dir() else 'MISSING'})"
