"""Sprig's (and Go's) template functions whose result can be far bigger than their arguments,
refusing such calls before they allocate (:mod:`meshctl.gotemplate.limits` says why), and
gotpl's execution budget with meshctl's limits. Used where gotpl is
(:mod:`meshctl.gotemplate.gotpl_adapter`).

Module-level functions with the originals' signatures: gotpl converts arguments by them, and the
persistent cache keeps compiled templates' functions by reference.
"""

from __future__ import annotations

import re

from meshctl.gotemplate.limits import (
    MAX_FUNCTION_CALLS,
    MAX_ITERATIONS,
    MAX_OUTPUT_CHARS,
    MAX_TEMPLATE_DEPTH,
    check_size,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from collections.abc import Callable, Mapping
    from typing import Any, Final


def gotpl_budget() -> Any:
    """gotpl's ``ExecutionBudget`` with meshctl's limits (imports gotpl)."""
    from gotpl.runtime.policy import ExecutionBudget

    return ExecutionBudget(max_output_chars=MAX_OUTPUT_CHARS, max_iterations=MAX_ITERATIONS,
                           max_template_depth=MAX_TEMPLATE_DEPTH,
                           max_function_calls=MAX_FUNCTION_CALLS)


def _n(value: Any) -> int:
    try:
        return abs(int(value))
    except (TypeError, ValueError, OverflowError):
        return 0  # not a number: the function itself reports it


def _i(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 0


def repeat(count: int, value: str) -> str:
    from gotpl.funcs.sprig import strings

    check_size("repeat", _n(count) * max(len(str(value)), 1))
    return strings.repeat(count, value)


def until(count: int) -> list[int]:
    from gotpl.funcs.sprig import numeric

    check_size("until", _n(count))
    return numeric.until(count)


def until_step(start: int, stop: int, step: int) -> list[int]:
    from gotpl.funcs.sprig import numeric

    check_size("untilStep", abs(_n(stop) - _n(start)) // (_n(step) or 1))
    return numeric.until_step(start, stop, step)


def seq(*parameters: int) -> str:
    from gotpl.funcs.sprig import numeric

    p = [_i(v) for v in parameters]
    start, step, end = ((1, 1, p[0]) if len(p) == 1 else (p[0], 1, p[1]) if len(p) == 2
                        else (p[0], p[1], p[2]) if len(p) == 3 else (0, 1, 0))
    items = abs(end - start) // (abs(step) or 1) + 1
    check_size("seq", items * (len(str(max(abs(start), abs(end)))) + 1))
    return numeric.seq(*parameters)


def indent(spaces: int, value: str) -> str:
    from gotpl.funcs.sprig import strings

    check_size("indent", _n(spaces) * (str(value).count("\n") + 1) + len(str(value)))
    return strings.indent(spaces, value)


def nindent(spaces: int, value: str) -> str:
    from gotpl.funcs.sprig import strings

    check_size("nindent", _n(spaces) * (str(value).count("\n") + 1) + len(str(value)))
    return strings.nindent(spaces, value)


def rand_alpha(count: int) -> str:
    from gotpl.funcs.sprig import randoms

    check_size("randAlpha", _n(count))
    return randoms.rand_alpha(count)


def rand_alpha_numeric(count: int) -> str:
    from gotpl.funcs.sprig import randoms

    check_size("randAlphaNum", _n(count))
    return randoms.rand_alpha_numeric(count)


def rand_ascii(count: int) -> str:
    from gotpl.funcs.sprig import randoms

    check_size("randAscii", _n(count))
    return randoms.rand_ascii(count)


def rand_numeric(count: int) -> str:
    from gotpl.funcs.sprig import randoms

    check_size("randNumeric", _n(count))
    return randoms.rand_numeric(count)


def rand_bytes(count: int) -> Any:
    from gotpl.funcs.sprig import randoms

    check_size("randBytes", _n(count) * 2)
    return randoms.rand_bytes_result(count)


_WIDTH: Final = r"%[-+# 0]*(\d+|\*)?(?:\.(\d+|\*))?"


def printf(format_string: object, *values: object) -> str:
    """Go's ``printf`` (gotpl's), refusing widths and precisions that would make the result
    huge (``%0999999999d``) or come from an argument (``%*d``)."""
    from gotpl.runtime.sync_vm import _printf

    for width, precision in re.findall(_WIDTH, str(format_string)):
        for part in (width, precision):
            size = MAX_OUTPUT_CHARS + 1 if part == "*" or len(part) > 9 else int(part or 0)
            check_size("printf", size)
    return str(_printf(format_string, *values, format_mode="go"))


#: template function name -> the guarded version (gotpl's function map)
GUARDED: Final[Mapping[str, Callable[..., Any]]] = {
    "repeat": repeat,
    "until": until,
    "untilStep": until_step,
    "seq": seq,
    "indent": indent,
    "nindent": nindent,
    "randAlpha": rand_alpha,
    "randAlphaNum": rand_alpha_numeric,
    "randAscii": rand_ascii,
    "randNumeric": rand_numeric,
    "randBytes": rand_bytes,
    "printf": printf,
}
