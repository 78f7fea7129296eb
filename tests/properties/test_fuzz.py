"""The fuzz run: a fixed budget of generated inputs, every invariant on each, failures
collected rather than stopped at, and the count printed after the run (``fuzz: N examples
tried, 0 failures``).

Deterministic: derandomized hypothesis, no example database: every run of the whole suite (what
CI runs) tries the same inputs. (Hypothesis also draws constants from the project's modules
loaded so far, so running a subset of the suite may try other inputs.)
``MESHCTL_FUZZ_EXAMPLES`` changes the budget for a longer local run. Each input must also finish
within ``DEADLINE`` seconds.
"""

from __future__ import annotations

import os
import time

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.properties import invariants as inv
from tests.properties.conftest import record
from tests.properties.manifests import broken, manifests

BUDGET = int(os.environ.get("MESHCTL_FUZZ_EXAMPLES", "400"))
#: seconds one input may take (meshctl runs three times on a valid one)
DEADLINE = 5.0

#: (kind, text): ``valid`` gets every check (the round trip too), ``broken`` the contract (and
#: the fixed point when meshctl accepts it)
INPUTS = st.one_of(
    st.tuples(st.just("valid"), manifests()),
    st.tuples(st.just("broken"), broken()),
)


def _check(kind: str, text: str) -> None:
    out = inv.injected(text)
    if kind != "broken":
        assert out is not None, "a valid manifest was refused"
        inv.check_unchanged_documents(text, out)
    if out is not None:
        inv.check_fixed_point(out)
    if kind == "valid":
        assert out is not None
        inv.check_round_trip(text, out)


def test_fuzz() -> None:
    failures: list[tuple[str, str, str]] = []

    @settings(max_examples=BUDGET, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(INPUTS)
    def one(case: tuple[str, str]) -> None:
        kind, text = case
        start = time.monotonic()
        problem = None
        try:
            _check(kind, text)
        except AssertionError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        took = time.monotonic() - start
        if problem is None and took > DEADLINE:
            problem = f"took {took:.1f} s (deadline {DEADLINE} s)"
        record("fuzz", failed=problem is not None)
        if problem is not None:
            failures.append((kind, text, problem))

    one()
    shown = "\n\n".join(f"[{kind}] {problem}\n{text[:2000]!r}"
                        for kind, text, problem in failures[:3])
    assert not failures, f"{len(failures)} fuzz failures; the first ones:\n{shown}"
