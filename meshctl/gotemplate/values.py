"""Go's nil, ``fmt.Sprint`` and comparison rules for template values; no template engine needed.

Two template runtimes hand values to meshctl's functions: gotpl's evaluator (with its sentinels
``INVALID``, "no value", and ``UNTYPED_NIL``) and the native runtime of templates compiled to
Python (:mod:`meshctl.gotemplate.native`, with :data:`NO_VALUE` and :data:`NIL`). Importing
gotpl costs about 100 ms, so this module does not: :mod:`meshctl.gotemplate.gotpl_adapter`
registers gotpl's sentinels here when gotpl is loaded (:func:`register_missing`), and
:func:`is_missing` knows both sets.
"""

from __future__ import annotations

from collections.abc import Mapping

from meshctl.gotemplate.goyaml import go_float
from meshctl.gotemplate.types import GoEnum, GoMap, GoStruct, GoWrapper, ProtoView, unwrap

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final

__all__ = ["NIL", "NO_VALUE", "go_eq", "go_ne", "go_sprint", "index_or", "is_missing",
           "register_missing"]


class _InvalidValue:
    """The native runtime's "no value": a missing field or map key.

    Named and printed as gotpl's ``INVALID`` (and :class:`_UntypedNil` as its ``UNTYPED_NIL``):
    a function that prints or encodes a value it does not know (``str()``, the type's name)
    sees the same thing under both runtimes.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "INVALID"

    def __reduce__(self) -> str:
        return "NO_VALUE"  # pickled by reference: the one object


class _UntypedNil:
    """The native runtime's untyped ``nil`` literal (gotpl's ``UNTYPED_NIL``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNTYPED_NIL"

    def __reduce__(self) -> str:
        return "NIL"


NO_VALUE: Final = _InvalidValue()
NIL: Final = _UntypedNil()

#: classes whose instances are a Go nil (both runtimes' sentinels once gotpl is loaded)
_MISSING_TYPES: set[type] = {_InvalidValue, _UntypedNil, type(None)}


def register_missing(*sentinels: object) -> None:
    """Make :func:`is_missing` recognise another runtime's nil sentinels."""
    _MISSING_TYPES.update(type(s) for s in sentinels)


def is_missing(value: Any) -> bool:
    """A Go nil: a missing map key, an unset pointer or interface."""
    return value.__class__ in _MISSING_TYPES


def go_sprint(value: Any) -> str:
    """``fmt.Sprint(value)`` for the values templates pass around."""
    if type(value) is str:
        return value
    if is_missing(value):
        return "<nil>"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, GoEnum):
        return value.name
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, GoWrapper):
        return str(value)
    if isinstance(value, (GoStruct, ProtoView)):
        value = unwrap(value)
    if isinstance(value, Mapping):
        items = " ".join(f"{go_sprint(k)}:{go_sprint(value[k])}" for k in sorted(value, key=str))
        return f"map[{items}]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(go_sprint(v) for v in value) + "]"
    return str(value)


def _comparable_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "other"


def _eq_pair(left: Any, right: Any) -> bool:
    if is_missing(left) or is_missing(right):
        return is_missing(left) and is_missing(right)
    lk, rk = _comparable_kind(left), _comparable_kind(right)
    if lk != rk:
        if {lk, rk} == {"int", "float"}:
            return bool(float(left) == float(right))
        raise TypeError("incompatible types for comparison")
    if lk == "other":
        raise TypeError("non-comparable type")
    return bool(left == right)


def go_eq(first: Any, *others: Any) -> bool:
    """Go's ``eq``: a nil operand compares unequal to a non-nil one instead of failing."""
    if not others:
        raise TypeError("missing argument for comparison")
    return any(_eq_pair(first, other) for other in others)


def go_ne(left: Any, right: Any) -> bool:
    """Go's ``ne`` (``not eq``), with the same nil rule."""
    return not _eq_pair(left, right)


def index_or(no_value: object, value: Any, keys: tuple[Any, ...]) -> Any:
    """Go's ``index`` of ``value`` by ``keys`` for a runtime whose "no value" is ``no_value``:
    a missing key of a typed map gives the map's zero value, of a plain map "no value"."""
    for key in keys:
        if isinstance(value, GoMap):
            value = value.get(key, value.zero)
        elif isinstance(value, (GoStruct, ProtoView)):
            value = value.__gotemplate_lookup__(str(key))
        elif isinstance(value, Mapping):
            value = value.get(key, no_value)
        elif isinstance(value, (list, tuple, str)):
            if not isinstance(key, int) or isinstance(key, bool):
                raise TypeError("cannot index slice/array with non-integer")
            if key < 0 or key >= len(value):
                raise IndexError(f"index out of range: {key}")
            value = value[key]
        elif is_missing(value):
            raise TypeError("index of untyped nil")
        else:
            raise TypeError(f"can't index item of type {type(value).__name__}")
    return value
