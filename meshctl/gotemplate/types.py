"""Go-shaped, read-only views over plain dicts, for Istio's injection templates.

Istio renders its templates against Go structs (``corev1.PodSpec``, ``meshconfig.ProxyConfig``
...). A template says ``.Spec.Containers``, ``$c.Ports``, ``.ProxyConfig.InterceptionMode.String``
or ``.ProxyConfig.HoldApplicationUntilProxyStarts.GetValue``; our data are the JSON-shaped dicts
of the manifest and the mesh config. The views here bridge the two without copying:

* :class:`GoStruct` resolves a Go field name to its JSON key through a small schema (the Kubernetes
  types templates touch), and falls back to the usual Go->JSON name mapping for the rest. A field
  the object does not carry yields the Go zero value of its type (``""``, ``0``, an empty map,
  ``nil``), as a typed Go struct would.
* :class:`GoMap` is a ``map[string]string``: missing keys read as ``""`` and an empty map is
  false in ``if``, as in Go (gotpl treats a non-``dict`` mapping as always true).
* :class:`ProtoView` reads protobuf messages (mesh config, proxy config) stored in their JSON form;
  generated getters (``GetTracing``) and methods (``String``, ``GetValue``) are resolved as
  *fields* at lookup time, so gotpl never sees a bound method (it would not call one passed to
  ``and``/``or``; Go does).

:func:`unwrap` turns a view back into the plain data it reads, for the template functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from meshctl.records import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final

# --------------------------------------------------------------------------------------------
# Go name <-> JSON name


def lower_first(name: str) -> str:
    """``ProxyListenPort`` -> ``proxyListenPort`` (protobuf's Go/JSON naming)."""
    return name[:1].lower() + name[1:]


def lower_acronym(name: str) -> str:
    """``HTTPGet`` -> ``httpGet``, ``APIVersion`` -> ``apiVersion``, ``GRPC`` -> ``grpc``.

    Kubernetes' JSON tags lower a leading acronym; the last capital of a run that is followed by
    a lower-case letter starts the next word.
    """
    run = 0
    while run < len(name) and name[run].isupper():
        run += 1
    if run <= 1:
        return lower_first(name)
    if run == len(name):
        return name.lower()
    return name[: run - 1].lower() + name[run - 1 :]


def json_candidates(go_name: str) -> tuple[str, ...]:
    first = lower_first(go_name)
    second = lower_acronym(go_name)
    return (first,) if first == second else (first, second)


# --------------------------------------------------------------------------------------------
# Kubernetes struct schemas (the part templates read; everything else is resolved by name)

STR: Final = "str"
INT: Final = "int"
BOOL: Final = "bool"
PTR: Final = "ptr"  # pointer or interface: nil when absent
STRMAP: Final = "strmap"  # map[string]string
LIST: Final = "list"
STRUCT: Final = "struct"  # embedded struct: a zero struct when absent
PTRSTRUCT: Final = "ptrstruct"  # pointer to struct: nil when absent

_ZERO: Final[Mapping[str, Any]] = {STR: "", INT: 0, BOOL: False}


class Field(Frozen):
    """One field of a Go struct: its JSON key, its kind, the element struct of a list/struct."""

    __slots__ = ("json", "kind", "elem", "omitempty")
    DEFAULTS = {"elem": None, "omitempty": True}

    json: str
    kind: str
    elem: StructType | None
    omitempty: bool


class StructType:
    """A Go struct: fields in declaration order (which is also Go's JSON output order)."""

    __slots__ = ("name", "fields", "by_json")

    name: str
    fields: dict[str, Field]
    by_json: dict[str, str]

    def __init__(self, name: str, fields: dict[str, Field] | None = None,
                 by_json: dict[str, str] | None = None) -> None:
        self.name = name
        self.fields = {} if fields is None else fields
        self.by_json = {} if by_json is None else by_json

    def add(self, go: str, kind: str, elem: StructType | None = None, *, json: str | None = None,
            omitempty: bool = True) -> StructType:
        key = json if json is not None else lower_acronym(go)
        self.fields[go] = Field(key, kind, elem, omitempty)
        self.by_json[key] = go
        return self


def struct(name: str, *specs: tuple[Any, ...]) -> StructType:
    """A struct type from ``(GoName, kind[, elem struct][, {"json": ..., "omitempty": ...}])``
    specs, in declaration order."""
    st = StructType(name)
    for spec in specs:
        go, kind, *rest = spec
        elem = rest[0] if rest and isinstance(rest[0], StructType) else None
        opts = rest[-1] if rest and isinstance(rest[-1], dict) else {}
        st.add(go, kind, elem, **opts)
    return st


GENERIC = StructType("generic")



# --------------------------------------------------------------------------------------------
# Views


class GoMap(dict[str, "Any"]):
    """A Go ``map[string]V``: a missing key reads as the zero value; empty is false in ``if``."""

    __slots__ = ("zero",)

    def __init__(self, data: Mapping[str, Any] | Iterable[tuple[str, Any]] = (),
                 zero: Any = "") -> None:
        super().__init__(data)
        self.zero = zero

    def __gotemplate_lookup__(self, name: str) -> Any:
        return self.get(name, self.zero)


def str_map(raw: Any) -> GoMap:
    """A ``map[string]string`` view; non-string scalars read as YAML would have typed them."""
    if not isinstance(raw, Mapping) or not raw:
        return GoMap()
    if all(type(v) is str for v in raw.values()):
        return GoMap(raw)
    return GoMap((str(k), go_scalar_string(v)) for k, v in raw.items())


def go_scalar_string(value: Any) -> str:
    """How sigs.k8s.io/yaml decodes a YAML scalar into a Go string field."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


class _View:
    """A read-only view of JSON data for templates: each field is resolved once, then cached."""

    __slots__ = ("_raw", "_type", "_cache")

    _raw: Mapping[str, Any]
    _cache: dict[str, Any]

    @property
    def raw(self) -> Mapping[str, Any]:
        return self._raw

    def __gotemplate_lookup__(self, name: str) -> Any:
        try:
            return self._cache[name]
        except KeyError:
            pass
        value = self._resolve(name)
        self._cache[name] = value
        return value

    def _resolve(self, name: str) -> Any:
        raise NotImplementedError


class GoStruct(_View):
    """A Go struct read from its JSON form (no copy; values are wrapped on access)."""

    __slots__ = ()

    def __init__(self, raw: Mapping[str, Any] | None, type_: StructType = GENERIC) -> None:
        self._raw: Mapping[str, Any] = raw if raw is not None else {}
        self._type = type_
        self._cache: dict[str, Any] = {}

    @property
    def go_type(self) -> StructType:
        return self._type

    def __repr__(self) -> str:
        return f"GoStruct({self._type.name}, {dict(self._raw)!r})"

    def _resolve(self, name: str) -> Any:
        spec = self._type.fields.get(name)
        if spec is not None:
            return wrap_field(self._raw.get(spec.json), spec)
        for key in json_candidates(name):
            if key in self._raw:
                return wrap_any(self._raw[key])
        raise AttributeError(name)


def wrap_field(value: Any, spec: Field) -> Any:
    kind = spec.kind
    if value is None:
        if kind in _ZERO:
            return _ZERO[kind]
        if kind == STRMAP:
            return GoMap()
        if kind == LIST:
            return []
        if kind == STRUCT:
            return GoStruct({}, spec.elem or GENERIC)
        return None
    if kind == STR:
        return go_scalar_string(value)
    if kind == STRMAP:
        return str_map(value)
    if kind == LIST:
        if not isinstance(value, list):
            return wrap_any(value)
        if spec.elem is not None:
            return [GoStruct(v, spec.elem) if isinstance(v, Mapping) else v for v in value]
        return [wrap_any(v) for v in value]
    if kind in (STRUCT, PTRSTRUCT) and isinstance(value, Mapping):
        return GoStruct(value, spec.elem or GENERIC)
    return wrap_any(value)


def wrap_any(value: Any) -> Any:
    if isinstance(value, Mapping):
        return GoStruct(value)
    if isinstance(value, list):
        return [wrap_any(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------
# Protobuf messages in JSON form


class GoEnum(int):
    """A protobuf enum value: an int in comparisons and ``if``, its name when printed."""

    name: str

    def __new__(cls, number: int, name: str) -> GoEnum:
        obj = super().__new__(cls, number)
        obj.name = name
        return obj

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"GoEnum({int(self)}, {self.name!r})"

    def __gotemplate_lookup__(self, name: str) -> Any:
        if name == "String":
            return self.name
        if name == "Number":
            return int(self)
        raise AttributeError(name)

    def __go_format_value__(self, kind: str, mode: str, *, nested: bool) -> str:
        return self.name


class EnumType(Frozen):
    """A protobuf enum: value name -> number."""

    __slots__ = ("names",)

    names: Mapping[str, int]


    def make(self, value: Any) -> GoEnum:
        if isinstance(value, GoEnum):
            return value
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, int):
            for n, v in self.names.items():
                if v == value:
                    return GoEnum(v, n)
            return GoEnum(value, str(value))
        text = str(value)
        return GoEnum(self.names.get(text, 0), text)

    @property
    def zero(self) -> GoEnum:
        return self.make(0)


class GoWrapper:
    """A protobuf wrapper (``BoolValue``, ``Int32Value``): ``.Value`` and ``.GetValue``."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __gotemplate_lookup__(self, name: str) -> Any:
        if name in ("Value", "GetValue"):
            return self.value
        raise AttributeError(name)

    def __str__(self) -> str:
        return f"value:{go_scalar_string(self.value)}"


class GoDuration:
    """A ``google.protobuf.Duration`` (JSON form ``"1.5s"``)."""

    __slots__ = ("seconds", "nanos")

    def __init__(self, seconds: int, nanos: int = 0) -> None:
        self.seconds = seconds
        self.nanos = nanos

    def __gotemplate_lookup__(self, name: str) -> Any:
        if name in ("Seconds", "GetSeconds"):
            return self.seconds
        if name in ("Nanos", "GetNanos"):
            return self.nanos
        raise AttributeError(name)

    def __str__(self) -> str:
        return duration_json(self.seconds, self.nanos)


def parse_duration(value: Any) -> GoDuration | None:
    """Parse a protobuf JSON duration (``"23s"``, ``"0.5s"``) or a Go duration (``"1m30s"``)."""
    if isinstance(value, GoDuration):
        return value
    if isinstance(value, bool) or value is None:
        return None
    total_ns: int | None
    if isinstance(value, (int, float)):
        total_ns = round(float(value) * 1e9)
    else:
        total_ns = go_duration_ns(str(value).strip())
    if total_ns is None:
        return None
    seconds, nanos = divmod(abs(total_ns), 10**9)
    if total_ns < 0:
        return GoDuration(-seconds, -nanos)
    return GoDuration(seconds, nanos)


_UNITS: Final = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
                 "h": 3600 * 10**9}


def go_duration_ns(text: str) -> int | None:
    if not text:
        return None
    sign = 1
    if text[0] in "+-":
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if text == "0":
        return 0
    total = 0.0
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and (text[j].isdigit() or text[j] == "."):
            j += 1
        if j == i:
            return None
        number = float(text[i:j])
        k = j
        while k < len(text) and not (text[k].isdigit() or text[k] == "."):
            k += 1
        unit = text[j:k]
        if unit not in _UNITS:
            return None
        total += number * _UNITS[unit]
        i = k
    return sign * round(total)


def duration_json(seconds: int, nanos: int) -> str:
    """protojson's Duration text: ``"23s"``, ``"1.500s"``."""
    sign = "-" if seconds < 0 or nanos < 0 else ""
    seconds, nanos = abs(seconds), abs(nanos)
    if nanos == 0:
        return f"{sign}{seconds}s"
    frac = f"{nanos:09d}"
    if frac.endswith("000000"):
        frac = frac[:3]
    elif frac.endswith("000"):
        frac = frac[:6]
    return f"{sign}{seconds}.{frac}s"


def go_duration_string(d: GoDuration) -> str:
    """Go's ``time.Duration.String()``: ``23s``, ``1m30s``, ``1h0m0s``, ``1.5s``, ``500ms``."""
    total = d.seconds * 10**9 + d.nanos
    if total == 0:
        return "0s"
    sign = "-" if total < 0 else ""
    total = abs(total)
    if total < 10**9:
        for unit, size in (("ms", 10**6), ("µs", 10**3), ("ns", 1)):
            if total >= size:
                return sign + _frac(total, size) + unit
    hours, rest = divmod(total, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    secs = _frac(rest, 10**9) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}"
    if minutes:
        return f"{sign}{minutes}m{secs}"
    return sign + secs


def _frac(value: int, unit: int) -> str:
    whole, rest = divmod(value, unit)
    if not rest:
        return str(whole)
    digits = f"{rest:0{len(str(unit)) - 1}d}".rstrip("0")
    return f"{whole}.{digits}"


# Message field kinds: how a JSON value is presented and what an absent field reads as.
K_SCALAR_STR: Final = "s"
K_SCALAR_INT: Final = "i"
K_SCALAR_BOOL: Final = "b"
K_DURATION: Final = "d"
K_WRAPPER: Final = "w"
K_MAP: Final = "m"
K_LIST: Final = "l"
K_MESSAGE: Final = "msg"


class MessageType(Frozen):
    """A protobuf message: JSON field name -> (field number, kind, enum or message type)."""

    __slots__ = ("name", "fields")

    name: str
    fields: Mapping[str, tuple[int, str, Any]]


class ProtoView(_View):
    """A protobuf message read from its JSON form, with Go's generated names and getters."""

    __slots__ = ()

    def __init__(self, raw: Mapping[str, Any] | None, type_: MessageType | None = None) -> None:
        self._raw: Mapping[str, Any] = raw if raw is not None else {}
        self._type = type_
        self._cache: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"ProtoView({dict(self._raw)!r})"

    def _resolve(self, name: str) -> Any:
        if name.startswith("Get") and len(name) > 3 and name[3].isupper():
            name = name[3:]
        key = lower_first(name)
        spec = self._type.fields.get(key) if self._type is not None else None
        value = self._raw.get(key)
        if spec is None:
            if value is None:
                raise AttributeError(name)
            return wrap_proto_any(value)
        _, kind, sub = spec
        return wrap_proto_field(value, kind, sub)


def wrap_proto_field(value: Any, kind: str, sub: Any) -> Any:
    if isinstance(sub, EnumType):
        return sub.zero if value is None else sub.make(value)
    if value is None:
        if kind == K_SCALAR_STR:
            return ""
        if kind == K_SCALAR_INT:
            return 0
        if kind == K_SCALAR_BOOL:
            return False
        if kind == K_MAP:
            return GoMap()
        if kind == K_LIST:
            return []
        return None
    if kind == K_WRAPPER:
        return GoWrapper(value)
    if kind == K_DURATION:
        return parse_duration(value)
    if kind == K_MAP:
        return str_map(value) if isinstance(value, Mapping) else value
    if kind == K_LIST:
        if isinstance(sub, MessageType):
            return [ProtoView(v, sub) if isinstance(v, Mapping) else v for v in value]
        return [wrap_proto_any(v) for v in value] if isinstance(value, list) else value
    if kind == K_MESSAGE and isinstance(value, Mapping):
        return ProtoView(value, sub if isinstance(sub, MessageType) else None)
    return wrap_proto_any(value)


def wrap_proto_any(value: Any) -> Any:
    if isinstance(value, Mapping):
        return ProtoView(value)
    if isinstance(value, list):
        return [wrap_proto_any(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------
# Back to plain data


def unwrap(value: Any) -> Any:
    """The plain JSON-shaped data behind a view (views inside lists and maps included)."""
    if isinstance(value, (GoStruct, ProtoView)):
        return value.raw
    if isinstance(value, GoWrapper):
        return value.value
    if isinstance(value, GoEnum):
        return value.name
    if isinstance(value, GoDuration):
        return str(value)
    if isinstance(value, GoMap):
        return dict(value)
    if isinstance(value, list):
        if any(isinstance(v, (GoStruct, ProtoView, GoMap, GoWrapper, GoEnum, GoDuration, list))
               for v in value):
            return [unwrap(v) for v in value]
        return value
    return value


def _is_zero(v: Any) -> bool:
    return v is False or v == "" or (isinstance(v, int) and v == 0) or (
        isinstance(v, (list, Mapping)) and not v)


def go_struct_json(value: Any, type_: StructType | None = None) -> Any:
    """The value Go's ``json.Marshal`` would write for a typed struct: Go field order, zero
    ``omitempty`` fields left out. Unknown types keep their own key order."""
    if isinstance(value, GoStruct):
        type_ = value.go_type
        value = value.raw
    if not isinstance(value, Mapping) or type_ is None or not type_.fields:
        return unwrap(value)
    out: dict[str, Any] = {}
    for spec in type_.fields.values():
        if spec.json not in value:
            if spec.kind == STRUCT:
                out[spec.json] = {}  # Go writes a struct field even when it is empty
            elif not spec.omitempty:
                out[spec.json] = _ZERO.get(spec.kind)
            continue
        v = value[spec.json]
        if v is None or (spec.omitempty and spec.kind not in (STRUCT, PTRSTRUCT, PTR)
                         and _is_zero(v)):
            continue
        if spec.kind == STRMAP and isinstance(v, Mapping):
            v = {k: v[k] for k in sorted(v)}
        elif spec.elem is not None:
            if isinstance(v, list):
                v = [go_struct_json(i, spec.elem) for i in v]
            elif isinstance(v, Mapping):
                v = go_struct_json(v, spec.elem)
        out[spec.json] = v
    return out

