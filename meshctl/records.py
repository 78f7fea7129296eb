"""A base for immutable records, without :mod:`dataclasses` (which imports :mod:`inspect`:
~10 ms of every start-up, see docs/performance.md)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any


def _rebuild(cls: type[Frozen], values: tuple[Any, ...]) -> Frozen:
    """Unpickle/copy a record: its fields set directly, whatever its ``__init__`` takes."""
    obj = object.__new__(cls)
    for name, value in zip(cls.__slots__, values, strict=True):
        object.__setattr__(obj, name, value)
    return obj


class Frozen:
    """A record whose fields (its ``__slots__``) are set once, by ``__init__`` through
    ``object.__setattr__``; assigning or deleting a field afterwards raises. Records pickle
    (they cross the process boundary of a parallel run) and copy field by field."""

    __slots__: tuple[str, ...] = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[object, ...]:
        cls = type(self)
        return (_rebuild, (cls, tuple(getattr(self, name) for name in cls.__slots__)))
