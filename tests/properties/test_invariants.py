"""The invariants of every run (tests/properties/invariants.py) on generated manifests
(tests/properties/manifests.py), valid and broken.

Runs are derandomized (the same examples every time: CI is deterministic) and use no example
database; ``MESHCTL_PROPERTY_EXAMPLES`` scales the number of examples for a longer local run.
Shapes known not to round-trip yet, and shapes known to break the contract, are strict xfails
named after the shape: each starts failing the day its shape is fixed, and then the shape
joins the main properties.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.properties import invariants as inv
from tests.properties.conftest import record
from tests.properties.manifests import (
    ROUND_TRIP_KNOWN,
    broken,
    json_with_c1,
    known_shape,
    manifests,
)

EXAMPLES = int(os.environ.get("MESHCTL_PROPERTY_EXAMPLES", "100"))
PROPERTY = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: a known shape fails at once: no shrinking needed (the smallest example is in the table)
KNOWN = settings(max_examples=20, derandomize=True, database=None, deadline=None,
                 phases=[Phase.explicit, Phase.generate],
                 suppress_health_check=[HealthCheck.too_slow])


def counted(name: str, check: Callable[[], Any]) -> None:
    """Run one example's checks, counting it (and its failure) for the summary."""
    try:
        check()
    except BaseException:
        record(name, failed=True)
        raise
    record(name, failed=False)


@PROPERTY
@given(manifests())
def test_valid_manifests(text: str) -> None:
    """Exit 0 with output, unchanged documents byte-identical, inject(inject(x)) == inject(x)."""

    def check() -> None:
        out = inv.injected(text)
        assert out is not None, "a valid manifest was refused"
        inv.check_unchanged_documents(text, out)
        inv.check_fixed_point(out)

    counted("valid manifests", check)


@PROPERTY
@given(manifests(exact=True))
def test_uninject_restores_the_input(text: str) -> None:
    """uninject(inject(x)) == x, byte for byte (shapes known not to, left out: below)."""

    def check() -> None:
        out = inv.injected(text)
        assert out is not None
        inv.check_round_trip(text, out)

    counted("uninject(inject(x)) == x", check)


@PROPERTY
@given(broken())
def test_broken_manifests(text: str) -> None:
    """Damaged text and wrong shapes: never a traceback; exit 0 with output, or one error
    line, exit 3 and nothing on stdout (and an accepted one is still a fixed point)."""

    def check() -> None:
        out = inv.injected(text)
        if out is not None:
            inv.check_fixed_point(out)

    counted("broken manifests", check)


@pytest.mark.parametrize("shape", [
    pytest.param(shape, marks=pytest.mark.xfail(strict=True, raises=AssertionError,
                                                   reason=f"known: {what}"))
    for shape, (what, _) in ROUND_TRIP_KNOWN.items()])
def test_known_round_trip_shapes(shape: str) -> None:
    @KNOWN
    @given(st.one_of(st.just(ROUND_TRIP_KNOWN[shape][1]), known_shape(shape)))
    def round_trip(text: str) -> None:
        out = inv.injected(text)
        assert out is not None
        inv.check_round_trip(text, out)

    round_trip()


def test_json_with_c1_control_characters_keeps_the_contract() -> None:
    """Valid JSON with a C1 control character in a string (YAML does not allow it): one error
    line, exit 3 (it used to be an internal error)."""
    example = ('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, '
               '"data": {"x": "\x93"}}\n')

    @KNOWN
    @given(st.one_of(st.just(example), json_with_c1()))
    def contract(text: str) -> None:
        inv.injected(text)

    contract()


def test_the_known_examples_are_valid() -> None:
    """Each known shape's example is a manifest meshctl injects, and a fixed point: only the
    round trip fails on it."""
    for what, example in ROUND_TRIP_KNOWN.values():
        out = inv.injected(example)
        assert out is not None, what
        inv.check_fixed_point(out)
