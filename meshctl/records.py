"""Immutable records: the one record style of meshctl.

The start-up rule, stated once: modules on the path of every run must not import
:mod:`dataclasses` (it imports :mod:`inspect`: ~10 ms of every start-up, see
docs/performance.md), :mod:`typing` at run time, or anything else heavy. Records are therefore
plain slotted classes built on :class:`Frozen`: declare the fields in ``__slots__`` (in
constructor order) with their annotations, give defaults of trailing fields in ``DEFAULTS``,
and the generic ``__init__`` below does the rest::

    class Result(Frozen):
        __slots__ = ("kind", "name", "warnings")
        DEFAULTS = {"warnings": ()}
        kind: str
        name: str
        warnings: tuple[str, ...]

Defaults must be immutable values (they are shared, not copied).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from collections.abc import Mapping
    from typing import Any, ClassVar


def _rebuild(cls: type[Frozen], values: tuple[Any, ...]) -> Frozen:
    """Unpickle/copy a record: its fields set directly, whatever its ``__init__`` takes."""
    obj = object.__new__(cls)
    for name, value in zip(cls.__slots__, values, strict=True):
        object.__setattr__(obj, name, value)
    return obj


class Frozen:
    """A record whose fields (its ``__slots__``) are set once, by ``__init__``; assigning or
    deleting a field afterwards raises. Records compare by identity, pickle (they cross the
    process boundary of a parallel run) and copy field by field."""

    __slots__: tuple[str, ...] = ()
    #: default values of trailing fields, by name
    DEFAULTS: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        names = cls.__slots__
        if len(args) > len(names):
            raise TypeError(f"{cls.__name__}() takes {len(names)} arguments, got {len(args)}")
        setter = object.__setattr__
        for name, value in zip(names, args, strict=False):
            setter(self, name, value)
        defaults = cls.DEFAULTS
        for name in names[len(args) :]:
            if name in kwargs:
                setter(self, name, kwargs.pop(name))
            elif name in defaults:
                setter(self, name, defaults[name])
            else:
                raise TypeError(f"{cls.__name__}() missing argument {name!r}")
        if kwargs:
            raise TypeError(f"{cls.__name__}() got unexpected arguments {sorted(kwargs)}")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in type(self).__slots__)

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in type(self).__slots__)
        return f"{type(self).__name__}({fields})"

    def replace(self, **changes: Any) -> Any:
        """A copy with some fields changed (``dataclasses.replace``)."""
        values = {name: getattr(self, name) for name in type(self).__slots__}
        values.update(changes)
        return type(self)(**values)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self._values()))
