"""The invariants of every run (tests/properties/invariants.py) on generated manifests
(tests/properties/manifests.py), valid and broken.

Runs are derandomized (the same examples every time: CI is deterministic) and use no example
database; ``MESHCTL_PROPERTY_EXAMPLES`` scales the number of examples for a longer local run.
The shapes that round-trip only through meshctl's record (``ROUND_TRIP_SHAPES``) have a
property each besides the main one.
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
    ROUND_TRIP_SHAPES,
    broken,
    json_with_c1,
    manifests,
    round_trip_shape,
)

EXAMPLES = int(os.environ.get("MESHCTL_PROPERTY_EXAMPLES", "100"))
PROPERTY = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: a known shape fails at once: no shrinking needed (the smallest example is in the table)
KNOWN = settings(max_examples=20, derandomize=True, database=None, deadline=None,
                 phases=[Phase.explicit, Phase.generate],
                 suppress_health_check=[HealthCheck.too_slow])
SHAPES = settings(max_examples=max(20, EXAMPLES // 2), derandomize=True, database=None,
                  deadline=None, suppress_health_check=[HealthCheck.too_slow])


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
@given(manifests())
def test_uninject_restores_the_input(text: str) -> None:
    """uninject(inject(x)) == x, byte for byte."""

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


@pytest.mark.parametrize("shape", sorted(ROUND_TRIP_SHAPES))
def test_round_trip_shapes(shape: str) -> None:
    """uninject(inject(x)) == x on the shapes kube-uninject gives back only through the texts
    meshctl records (and a fixed point: the record survives re-injection)."""
    example = ROUND_TRIP_SHAPES[shape][1]

    @SHAPES
    @example_first(example)
    @given(round_trip_shape(shape))
    def round_trip(text: str) -> None:
        def check() -> None:
            out = inv.injected(text)
            assert out is not None
            inv.check_fixed_point(out)
            inv.check_round_trip(text, out)

        counted(f"round trip: {shape}", check)

    round_trip()


def example_first(text: str) -> Callable[[Any], Any]:
    from hypothesis import example

    return example(text)


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


def _recorded_undo(out: str) -> list[Any]:
    import json

    import yaml

    texts: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            undo = node.get("meshctl.dev/undo")
            if isinstance(undo, str):
                texts.extend(json.loads(undo))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for doc in yaml.safe_load_all(out):
        walk(doc)
    return texts


def test_the_shapes_need_the_record() -> None:
    """Each shape's example is one the record is for: its injection records what to undo (which
    a round trip without it would not give back)."""
    for what, example in ROUND_TRIP_SHAPES.values():
        out = inv.injected(example)
        assert out is not None, what
        assert _recorded_undo(out), what
