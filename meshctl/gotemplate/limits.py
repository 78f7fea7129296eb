"""What one render of a template may cost: a template that loops or recurses without end, or
builds a gigabyte string, ends with an error instead of running until killed.

gotpl has an execution budget (``gotpl.runtime.policy.ExecutionBudget``); every template is
compiled with these limits (:func:`meshctl.gotemplate.guards.gotpl_budget`). The compiled forms
of a template (:mod:`meshctl.gotemplate.native`, :mod:`meshctl.gotemplate.gotpl_runtime`) keep
the same limits where they can cost anything: ``range`` counts its iterations (:func:`iterate`),
the output is measured (:func:`check_output`), and recursion ends in Python's own limit.
Whenever a compiled form stops, gotpl renders the pod again with its budget and reports the
error in its words. Functions that build a result many times larger than their arguments
check the size first (:func:`check_size`; Sprig's in :mod:`meshctl.gotemplate.guards`).

The limits are far above what an injection template needs (Istio's sidecar template renders a
pod with a few hundred iterations and function calls, and some 20 KB of output).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Final

MAX_OUTPUT_CHARS: Final = 1_000_000
MAX_ITERATIONS: Final = 100_000
MAX_TEMPLATE_DEPTH: Final = 1_000
MAX_FUNCTION_CALLS: Final = 100_000

#: iterations of the compiled render in progress (one render at a time per process)
_iterations = [0]


class BudgetExceeded(Exception):  # noqa: N818 - reads as the event it is
    """A render went past a limit of this module."""


def start_render() -> None:
    """A compiled render begins: its iteration count starts at zero."""
    _iterations[0] = 0


def iterate(count: int) -> None:
    """``range`` is about to run ``count`` iterations."""
    total = _iterations[0] = _iterations[0] + count
    if total > MAX_ITERATIONS:
        raise BudgetExceeded(f"iteration budget exceeded: limit {MAX_ITERATIONS}")


def check_output(text: str) -> str:
    """The output of a compiled render (the loops that could make it huge are counted)."""
    if len(text) > MAX_OUTPUT_CHARS:
        raise BudgetExceeded(f"output character budget exceeded: limit {MAX_OUTPUT_CHARS}")
    return text


def check_size(function: str, size: int) -> None:
    """Refuse a call of ``function`` whose result would have ``size`` characters or items."""
    if size > MAX_OUTPUT_CHARS:
        raise BudgetExceeded(f"{function}: the result would have {size} characters or items, "
                             f"more than a template may produce ({MAX_OUTPUT_CHARS})")
