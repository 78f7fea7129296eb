"""The helpers that code compiled by :mod:`meshctl.gotemplate.compiler` calls when it runs on
gotpl's runtime pieces (gotpl's field lookup, truth, printing, ``range`` order and argument
checks), so that it differs from gotpl's evaluator in speed only. (The gotpl-free runtime has
its own helpers of the same names: :mod:`meshctl.gotemplate.native`.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from gotpl.runtime.awaitables import reject_awaitable
from gotpl.runtime.callables import (
    CallSpec,
    invoke_prepared_template_function,
    invoke_template_function,
)
from gotpl.runtime.results import unwrap_function_result
from gotpl.runtime.sync_vm import _range_entries, format_value
from gotpl.runtime.values import INVALID, UNTYPED_NIL, ValueAdapter, is_bound_method

from meshctl.gotemplate.limits import iterate
from meshctl.gotemplate.types import GoEnum, GoMap, GoStruct, GoWrapper, ProtoView

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final


class _RenderError(Exception):
    """Raised by compiled code where gotpl would fail; the caller re-renders with gotpl."""


_ADAPTER: Final = ValueAdapter("default")
_adapter_lookup: Final = _ADAPTER.lookup
_is_true: Final = _ADAPTER.is_true
#: result types that are neither awaitable nor a gotpl ``FunctionResult``
_PLAIN: Final = frozenset({str, bool, int, float, type(None), list, dict, tuple, GoMap})
#: data-model classes whose lookup is their ``__gotemplate_lookup__`` (what the adapter calls)
_VIEWS: Final = frozenset({GoStruct, ProtoView, GoMap, GoEnum, GoWrapper})


def _look(value: Any, name: str) -> Any:
    """``ValueAdapter.lookup``, with its plain-``dict`` and data-model cases inlined."""
    cls = value.__class__
    if cls is dict:
        return value.get(name, INVALID)
    if cls in _VIEWS:
        try:
            return value.__gotemplate_lookup__(name)
        except (AttributeError, KeyError):
            return INVALID
    return _adapter_lookup(value, name)


def _method(value: Any, name: str) -> Any:
    """gotpl calls a bound method found mid-chain or as an argument with no arguments."""
    result = invoke_template_function(name, value, [])
    return unwrap_function_result(reject_awaitable(result))


def _lookm(value: Any, name: str) -> Any:
    """A lookup whose bound-method result is called (intermediate fields, arguments)."""
    cls = value.__class__
    if cls is dict:
        result = value.get(name, INVALID)
    elif cls in _VIEWS:
        try:
            result = value.__gotemplate_lookup__(name)
        except (AttributeError, KeyError):
            return INVALID
    else:
        result = _adapter_lookup(value, name)
    if callable(result) and is_bound_method(result):
        return _method(result, name)
    return result


def _chain(value: Any, names: tuple[str, ...]) -> Any:
    """``_lookup_chain`` with every step's bound method called (arguments, a final value)."""
    for name in names:
        cls = value.__class__
        if cls is dict:
            value = value.get(name, INVALID)
        elif cls in _VIEWS:
            try:
                value = value.__gotemplate_lookup__(name)
            except (AttributeError, KeyError):
                value = INVALID
        else:
            value = _adapter_lookup(value, name)
        if callable(value) and is_bound_method(value):
            value = _method(value, name)
    return value


def _chain_raw(value: Any, names: tuple[str, ...]) -> Any:
    """``_lookup_chain`` as gotpl evaluates an operand: the last value is not called."""
    return _look(_chain(value, names[:-1]), names[-1])


def _truth(value: Any) -> bool:
    """``ValueAdapter.is_true`` with the common exact types first."""
    cls = value.__class__
    if cls is bool:
        return value  # type: ignore[no-any-return]
    if cls is str or cls is list or cls is dict:
        return len(value) != 0
    if cls is int:
        return value != 0  # type: ignore[no-any-return]
    if value is None:
        return False
    return _is_true(value)


def _arg(value: Any) -> Any:
    """``_invoke_argument_method``: an argument that is a bound method is called."""
    if callable(value) and is_bound_method(value):
        name = getattr(value, "__name__", "method")
        return _method(value, name if isinstance(name, str) else "method")
    return value


def _value_command(first: Any, args: list[Any]) -> Any:
    """A command whose first word is a value: a bound method is called with the rest."""
    if is_bound_method(first):
        name = getattr(first, "__name__", "method")
        return _method_args(first, name if isinstance(name, str) else "method", args)
    if args:
        raise _RenderError("non-callable command has arguments")
    return first


def _method_args(value: Any, name: str, args: list[Any]) -> Any:
    return unwrap_function_result(reject_awaitable(invoke_template_function(name, value, args)))


def _res(value: Any) -> Any:
    return unwrap_function_result(reject_awaitable(value))


def _checked(name: str, function: Callable[..., Any], spec: CallSpec, args: list[Any]) -> Any:
    return unwrap_function_result(reject_awaitable(
        invoke_prepared_template_function(name, function, args, spec)))


def _fmt(value: Any) -> str:
    if type(value) is str:
        return value
    return format_value(value, "go")


def _fail(message: str) -> Any:
    raise _RenderError(message)


def _range(value: Any, bindings: int) -> Iterator[tuple[Any, Any]]:
    if value.__class__ is int:
        iterate(max(value, 0))  # before gotpl builds the entries
        return iter(_range_entries(value, bindings))
    entries = list(_range_entries(value, bindings))
    iterate(len(entries))
    return iter(entries)


HELPERS: Final[dict[str, Any]] = {
    "INVALID": INVALID,
    "UNTYPED_NIL": UNTYPED_NIL,
    "_look": _look,
    "_lookm": _lookm,
    "_arg": _arg,
    "_value_command": _value_command,
    "_res": _res,
    "_checked": _checked,
    "_fmt": _fmt,
    "_fail": _fail,
    "_range": _range,
    "_truth": _truth,
    "_chain": _chain,
    "_chain_raw": _chain_raw,
    "_PLAIN": _PLAIN,
}
