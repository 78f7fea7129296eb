"""The native runtime of templates compiled to Python: gotpl's behaviour for the common cases,
without importing gotpl.

:mod:`meshctl.gotemplate.compiler` turns a template into Python that calls a few helpers
(``_look``, ``_truth``, ``_fmt``, ``_range`` ...) and the template's functions. With gotpl's
runtime these come from gotpl, and loading gotpl costs about 100 ms per run, more than
injecting a small file. This module provides the same helpers and the functions meshctl's
built-in template and Istio's templates call (the Sprig subset and Go's built-ins; the
application's own function map is passed in, see :func:`function_table`), for the value types
of meshctl's data model.

The contract is exactness or nothing: each helper or function reproduces gotpl's result for
the inputs it accepts and raises :class:`Fallback` for anything else (another value type, a
non-ASCII string where Go counts bytes, a case where gotpl reports an error). The compiled
template then renders the pod again with gotpl (:class:`meshctl.gotemplate.fast.FastTemplate`),
so an input this module does not cover costs time, never a different output. Every function
is differential-tested against gotpl's own (``tests/gotemplate/test_native.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping

from meshctl.gotemplate.limits import check_output, check_size, iterate, start_render
from meshctl.gotemplate.types import GoDuration, GoEnum, GoMap, GoStruct, GoWrapper, ProtoView
from meshctl.gotemplate.values import NIL, NO_VALUE, go_eq, go_ne, index_or

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final
    Functions = Mapping[str, Callable[..., Any]]

__all__ = ["BUILTINS", "HELPERS", "Fallback", "function_table"]


class Fallback(Exception):  # noqa: N818 - a signal, not an error
    """This case is not reproduced natively: render the template with gotpl instead."""


_VIEWS: Final = frozenset({GoStruct, ProtoView, GoMap, GoEnum, GoWrapper, GoDuration})
#: values that are true in ``if`` whatever they hold (gotpl: any other object)
_ALWAYS_TRUE: Final = frozenset({GoStruct, ProtoView, GoWrapper, GoDuration})
#: what gotpl prints with ``str()`` (no type of its own in ``format_value``)
_STR_PRINTED: Final = frozenset({int, GoEnum, GoWrapper, GoDuration})
_NILS: Final = frozenset({type(None), type(NO_VALUE), type(NIL)})


# --------------------------------------------------------------------------------------------
# helpers of the generated code (the names tplcompile emits)


def _look(value: Any, name: str) -> Any:
    """A field or key: gotpl's ``ValueAdapter.lookup`` with ``missingkey=default``."""
    cls = value.__class__
    if cls is dict:
        return value.get(name, NO_VALUE)
    if cls in _VIEWS:
        try:
            return value.__gotemplate_lookup__(name)
        except (AttributeError, KeyError):
            return NO_VALUE
    if value is NO_VALUE or value is None:
        return NO_VALUE
    raise Fallback(f"field {name} of {cls.__name__}")


def _lookm(value: Any, name: str) -> Any:
    """A lookup whose result gotpl would call if it were a method (the data model has none)."""
    result = _look(value, name)
    if callable(result):
        raise Fallback("method value")
    return result


def _chain(value: Any, names: tuple[str, ...]) -> Any:
    for name in names:
        value = _lookm(value, name)
    return value


def _chain_raw(value: Any, names: tuple[str, ...]) -> Any:
    return _look(_chain(value, names[:-1]), names[-1])


def _truth(value: Any) -> bool:
    """gotpl's ``is_true``."""
    cls = value.__class__
    if cls is bool:
        return value  # type: ignore[no-any-return]
    if cls is str or cls is list or cls is dict or cls is GoMap or cls is tuple:
        return len(value) != 0
    if cls is int or cls is GoEnum or cls is float:
        return value != 0  # type: ignore[no-any-return]
    if cls in _NILS:
        return False
    if cls in _ALWAYS_TRUE:
        return True
    raise Fallback(f"truth of {cls.__name__}")


def _fmt(value: Any) -> str:
    """gotpl's ``format_value`` (``go`` mode) of an action's result."""
    cls = value.__class__
    if cls is str:
        return value  # type: ignore[no-any-return]
    if value is True:
        return "true"
    if value is False:
        return "false"
    if cls in _STR_PRINTED:
        return str(value)
    if value is NO_VALUE or value is None:
        return "<no value>"
    raise Fallback(f"printing {cls.__name__}")


def _sorted_keys(mapping: Mapping[Any, Any]) -> list[Any]:
    keys = list(mapping)
    if keys:
        first = type(keys[0])
        if first not in (bool, int, float, str) or any(type(k) is not first for k in keys):
            raise Fallback("map keys of mixed types")
    return sorted(keys)


def _range(value: Any, bindings: int) -> Iterator[tuple[Any, Any]]:
    """gotpl's ``range`` entries: (key, element) in Go's order."""
    cls = value.__class__
    if cls is list or cls is tuple:
        iterate(len(value))
        return enumerate(value)
    if cls is dict or cls is GoMap:
        iterate(len(value))
        return iter([(k, value[k]) for k in _sorted_keys(value)])
    if cls in _NILS:
        return iter(())
    if cls is int and bindings <= 1:
        iterate(max(value, 0))
        return ((i, i) for i in range(max(value, 0)))
    raise Fallback(f"range over {cls.__name__}")


def _arg(value: Any) -> Any:
    if callable(value):
        raise Fallback("method argument")
    return value


def _value_command(first: Any, args: list[Any]) -> Any:
    if callable(first) or args:
        raise Fallback("value command with arguments")
    return first


def _res(value: Any) -> Any:
    """Native functions return plain values (never awaitables or gotpl results)."""
    return value


def _fail(message: str) -> Any:
    raise Fallback(message)


#: the names the generated code refers to, for the native runtime
HELPERS: Final[dict[str, Any]] = {
    "INVALID": NO_VALUE,
    "UNTYPED_NIL": NIL,
    "_look": _look,
    "_lookm": _lookm,
    "_arg": _arg,
    "_value_command": _value_command,
    "_res": _res,
    "_fmt": _fmt,
    "_fail": _fail,
    "_range": _range,
    "_truth": _truth,
    "_chain": _chain,
    "_chain_raw": _chain_raw,
    "_PLAIN": frozenset({str, bool, int, float, type(None), list, dict, tuple, GoMap}),
}


# --------------------------------------------------------------------------------------------
# Sprig's and Go's functions (gotpl's implementations are the reference)

#: strings that Go's ``%q`` leaves as they are: printable ASCII without ``"`` and ``\\``
_PLAIN_ASCII: Final = re.compile(r"[ !#-\[\]-~]*").fullmatch


def _to_string(value: Any) -> str:
    """Sprig's ``strval`` (``fmt.Sprintf("%v")``) of a scalar."""
    cls = value.__class__
    if cls is str:
        return value  # type: ignore[no-any-return]
    if value is True:
        return "true"
    if value is False:
        return "false"
    if cls is int:
        return str(value)
    raise Fallback(f"string of {cls.__name__}")


def quote(*values: Any) -> str:
    """Sprig's ``quote``: each non-nil value as Go's ``%q`` of its string form."""
    out: list[str] = []
    for value in values:
        if value.__class__ in _NILS:
            continue
        text = _to_string(value)
        if _PLAIN_ASCII(text) is None:
            raise Fallback("quoting a string that needs escapes")
        out.append(f'"{text}"')
    return " ".join(out)


def _empty(value: Any) -> bool:
    """Sprig's ``empty``."""
    cls = value.__class__
    if cls in _NILS:
        return True
    if cls is bool:
        return not value
    if cls is str or cls is list or cls is dict or cls is GoMap or cls is tuple:
        return len(value) == 0
    if cls is int or cls is GoEnum or cls is float:
        return value == 0  # type: ignore[no-any-return]
    if cls in _ALWAYS_TRUE:
        return False
    raise Fallback(f"empty of {cls.__name__}")


def default(default_value: Any, *given: Any) -> Any:
    if not given or _empty(given[0]):
        return default_value
    return given[0]


def ternary(true_value: Any, false_value: Any, condition: Any) -> Any:
    if condition.__class__ is not bool:
        raise Fallback("ternary condition is not a bool")
    return true_value if condition else false_value


def _ascii(value: Any) -> str:
    """A string argument whose bytes are its characters (Go slices strings by byte)."""
    if value.__class__ is not str or not value.isascii():
        raise Fallback("not an ASCII string")
    return value


def _int(value: Any) -> int:
    if value.__class__ is not int:
        raise Fallback("not an int")
    return value


def trunc(count: Any, value: Any) -> str:
    count, text = _int(count), _ascii(value)
    if count < 0 and len(text) + count > 0:
        return text[len(text) + count:]
    if count >= 0 and len(text) > count:
        return text[:count]
    return text


def trim_all(cutset: Any, value: Any) -> str:
    if cutset.__class__ is not str or value.__class__ is not str:
        raise Fallback("trimAll of non-strings")
    return value.strip(cutset)


def join(separator: Any, value: Any) -> str:
    if separator.__class__ is not str:
        raise Fallback("join separator is not a string")
    cls = value.__class__
    if cls in _NILS:
        return ""
    if cls is list or cls is tuple:
        return separator.join(
            [_to_string(item) for item in value if item.__class__ not in _NILS])
    return _to_string(value)


def nindent(spaces: Any, value: Any) -> str:
    spaces = _int(spaces)
    if spaces < 0 or value.__class__ is not str:
        raise Fallback("nindent arguments")
    check_size("nindent", spaces * (value.count("\n") + 1) + len(value))
    pad = " " * spaces
    return "\n" + pad + value.replace("\n", "\n" + pad)  # type: ignore[no-any-return]


def make_list(*values: Any) -> list[Any]:
    return list(values)


def append(value: Any, item: Any) -> list[Any]:
    if value.__class__ is not list and value.__class__ is not tuple:
        raise Fallback("append to a non-list")
    return [*value, item]


def first(value: Any) -> Any:
    if value.__class__ is not list and value.__class__ is not tuple:
        raise Fallback("first of a non-list")
    return value[0] if value else None


def not_(value: Any) -> bool:
    return not _truth(value)


def length(value: Any) -> int:
    cls = value.__class__
    if cls is str:
        return len(value.encode())
    if cls is list or cls is tuple or cls is dict or cls is GoMap:
        return len(value)
    raise Fallback(f"len of {cls.__name__}")


def _order_kind(value: Any) -> type:
    cls = value.__class__
    if cls is GoEnum:
        return int
    if cls is int or cls is float or cls is str:
        return cls
    raise Fallback(f"ordering {cls.__name__}")


def ge(left: Any, right: Any) -> bool:
    if _order_kind(left) is not _order_kind(right):
        raise Fallback("incompatible types for comparison")
    return left >= right  # type: ignore[no-any-return]


_VERB: Final = re.compile(r"%(.)", re.DOTALL)
_SIMPLE_FORMAT: Final = re.compile(r"(?:[^%]|%[sdtv%])*", re.DOTALL).fullmatch


def printf(format_string: Any, *values: Any) -> str:
    """Go's ``fmt.Sprintf`` for the verbs ``%s %d %t %v %%`` without flags, one value each."""
    if format_string.__class__ is not str or _SIMPLE_FORMAT(format_string) is None:
        raise Fallback("printf format with flags or other verbs")
    args = iter(values)
    used = 0

    def verb(match: re.Match[str]) -> str:
        nonlocal used
        letter = match.group(1)
        if letter == "%":
            return "%"
        value: Any = next(args, NIL)
        used += 1
        cls = value.__class__
        if letter == "s" and cls is str:
            return value  # type: ignore[no-any-return]
        if letter == "d" and cls is int:
            return str(value)
        if letter == "t" and cls is bool:
            return "true" if value else "false"
        if letter == "v" and cls in (str, bool, int):
            return _to_string(value)
        raise Fallback(f"printf %{letter} of {cls.__name__}")

    text = _VERB.sub(verb, format_string)
    if used != len(values):
        raise Fallback("printf with extra arguments")
    return text


def native_index(value: Any, *keys: Any) -> Any:
    """Go's ``index`` (see :func:`meshctl.gotemplate.values.index_or`)."""
    return index_or(NO_VALUE, value, keys)


#: Go's built-ins and the Sprig functions Istio's and meshctl's templates use
BUILTINS: Final[Mapping[str, Callable[..., Any]]] = {
    "append": append,
    "default": default,
    "first": first,
    "join": join,
    "list": make_list,
    "nindent": nindent,
    "quote": quote,
    "ternary": ternary,
    "trimAll": trim_all,
    "trunc": trunc,
    "ge": ge,
    "len": length,
    "not": not_,
    "printf": printf,
}

#: built-ins whose Go behaviour wins over any function of the same name
_GO_FIXES: Final[Mapping[str, Callable[..., Any]]] = {
    "eq": go_eq,
    "ne": go_ne,
    "index": native_index,
}


def function_table(extra: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """What a template compiled for the native runtime may call: :data:`BUILTINS`, then
    ``extra`` (an application's function map, e.g. Istio's), then the Go fixes; the same
    layering as :func:`meshctl.gotemplate.gotpl_adapter.function_map`."""
    return {**BUILTINS, **extra, **_GO_FIXES}


# --------------------------------------------------------------------------------------------
# compiled templates in the persistent cache (stored by tplcompile, loaded without gotpl)

#: gotpl's files whose code shapes the generated Python (parse tree, literals, arity checks,
#: the built-ins' registry), stamped by path: finding them does not import gotpl
_GOTPL_FILES: Final = ("__init__.py", "parse/lexer.py", "parse/parser.py", "parse/nodes.py",
                       "runtime/callables.py", "runtime/values.py", "runtime/sync_vm.py",
                       "funcs/sprig/registry.py")
_OWN_FILES: Final = ("compiler.py", "gotpl_adapter.py")



#: (source, name, id of the function table) -> (the table, kept alive so its id stays its own;
#: the key)
_KEYS: dict[tuple[str, str, int], tuple[Mapping[str, Any], str]] = {}



def native_key(source: str, name: str, functions: Functions) -> str:
    """The cache key of ``source`` compiled for this runtime with ``functions`` (see
    :mod:`meshctl.cache`); computed once per process (it stats a dozen files)."""
    memo = (source, name, id(functions))
    known = _KEYS.get(memo)
    if known is None:
        known = _KEYS[memo] = (functions, _native_key(source, name, functions))
    return known[1]


def _native_key(source: str, name: str, functions: Functions) -> str:
    import importlib.util
    import os

    from meshctl import cache as diskcache

    spec = importlib.util.find_spec("gotpl")
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    gotpl_dir = locations[0] if locations else ""
    here = os.path.dirname(__file__)
    engine = [
        "native-2",
        *(diskcache.file_stamp(os.path.join(gotpl_dir, f) if gotpl_dir else None)
          for f in _GOTPL_FILES),
        *(diskcache.file_stamp(os.path.join(here, f)) for f in _OWN_FILES),
    ]
    return diskcache.template_key(source, name, functions, engine)


class NativeTemplate:
    """A template compiled for the native runtime; :meth:`render` raises :class:`Fallback`
    (or any error) where gotpl must render it."""

    __slots__ = ("name", "_entry")

    def __init__(self, name: str, entry: Callable[[Any, list[str]], None]) -> None:
        self.name = name
        self._entry = entry

    def render(self, data: Any) -> str:
        out: list[str] = []
        start_render()
        self._entry(data, out)
        return check_output("".join(out))


def has_native(source: str, name: str, functions: Functions) -> bool:
    """Whether the cache holds ``source`` compiled for this runtime (it parsed then)."""
    from meshctl import cache as diskcache

    return diskcache.default_cache().has("native", native_key(source, name, functions))


#: constants stored by value (marshal writes them exactly); functions are stored by name
_SCALARS: Final = (str, int, float, complex, bool, type(None))


def _encode_constants(constants: Mapping[str, Any]) -> tuple[tuple[str, str, Any, Any], ...]:
    """The generated code's constants as marshal-able data: a value, or a function's module
    and name (``pickle`` is not needed: loading it costs ~1.5 ms of every start-up)."""
    out: list[tuple[str, str, Any, Any]] = []
    for slot, value in constants.items():
        if type(value) in _SCALARS:
            out.append((slot, "value", value, None))
            continue
        module, name = getattr(value, "__module__", None), getattr(value, "__qualname__", "")
        if not isinstance(module, str) or not name or "<" in name:
            raise ValueError(f"constant {slot} cannot be stored")
        out.append((slot, "ref", module, name))
    return tuple(out)


def _decode_constants(encoded: Any) -> dict[str, Any]:
    import importlib

    constants: dict[str, Any] = {}
    for slot, kind, first, second in encoded:
        if kind == "value":
            constants[slot] = first
        else:
            obj: Any = importlib.import_module(first)
            for part in second.split("."):
                obj = getattr(obj, part)
            constants[slot] = obj
    return constants


def load_native(source: str, name: str, functions: Functions) -> NativeTemplate | None:
    """``source`` compiled for this runtime from the persistent cache, or None."""
    import marshal

    from meshctl import cache as diskcache

    data = diskcache.default_cache().get("native", native_key(source, name, functions))
    if data is None:
        return None
    try:
        bytecode, constants, entry = marshal.loads(data)
        namespace: dict[str, Any] = {**HELPERS, **_decode_constants(constants)}
        exec(bytecode, namespace)  # noqa: S102 - our own generated code
        return NativeTemplate(name, namespace[entry])
    except Exception:  # noqa: BLE001 - an outdated or corrupt entry: compile again
        return None


def store_native(source: str, name: str, functions: Functions, bytecode: Any,
                 constants: Mapping[str, Any], entry: str) -> None:
    """Keep what :func:`load_native` needs (nothing is stored when that is not possible)."""
    import marshal

    from meshctl import cache as diskcache

    try:
        payload = marshal.dumps((bytecode, _encode_constants(constants), entry))
    except ValueError:  # a constant that cannot be stored: no cache
        return
    diskcache.default_cache().put("native", native_key(source, name, functions), payload)
