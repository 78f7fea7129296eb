"""The gotpl-free runtime (:mod:`meshctl.gotemplate.native`) never renders differently from gotpl.

Contract: for any input, a native helper or function returns exactly what gotpl (the reference:
``gotpl.Template(source, functions=TEMPLATE_FUNCTIONS)``) renders, or raises (``Fallback``, or
any error), and meshctl then renders with gotpl. So a native render that succeeds must equal
gotpl's successful render; a native failure is always allowed.

Differential, property-based: small templates exercising one native function or helper each
are rendered by gotpl and by their native compilation
(``compile_template(..., native=NATIVE_FUNCTIONS)``),
on data drawn from the value types templates meet (strings with quotes, escapes, control and
non-ASCII characters, ints of every size, bools, floats with NaN and infinities, nil, lists,
maps with mixed keys, and the Go views of :mod:`meshctl.gotemplate.types`). Missing keys (gotpl's
"no value") come from leaving keys out of the data. A second set of tests checks that the
native side is not vacuous: typical well-typed inputs must render natively, never fall back.

Mismatches found are pinned by ``REGRESSIONS``; one not yet fixed would be marked
``xfail(strict=True)`` there.
"""

from __future__ import annotations

import functools
import os
import re
import string
from collections.abc import Callable, Mapping
from typing import Any

import gotpl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshctl.gotemplate.compiler import Unsupported, compile_template
from meshctl.gotemplate.native import HELPERS
from meshctl.gotemplate.types import (
    GENERIC,
    GoDuration,
    GoEnum,
    GoMap,
    GoStruct,
    GoWrapper,
    ProtoView,
)
from meshctl.sidecar.funcs import NATIVE_FUNCTIONS, gotpl_functions
from meshctl.sidecar.kubetypes import CONTAINER, OBJECT_META

TEMPLATE_FUNCTIONS = gotpl_functions()

Strategy = st.SearchStrategy[Any]
#: examples per generated-data test (raise it for a longer hunt: GONATIVE_EXAMPLES=2000)
EXAMPLES = int(os.environ.get("GONATIVE_EXAMPLES", "40"))
WELL_TYPED_EXAMPLES = max(EXAMPLES * 5 // 6, 1)

# --------------------------------------------------------------------------------------------
# the two renderers


@functools.cache
def _pair(source: str) -> tuple[gotpl.Template, Any]:
    """gotpl's template and its native compilation (compiled once per source)."""
    template = gotpl.Template(source, name="t", functions=TEMPLATE_FUNCTIONS)
    try:
        native = compile_template(template, native=NATIVE_FUNCTIONS)
    except Unsupported as exc:  # every source here must have a native form
        pytest.fail(f"{source!r} has no native form: {exc}")
    return template, native


def _outcome(render: Callable[[Any], str], data: Any) -> tuple[str, str]:
    try:
        return ("ok", render(data))
    except Exception as exc:  # noqa: BLE001 - compared, not handled
        return ("error", f"{type(exc).__name__}: {exc}")


def check(source: str, data: Any) -> bool:
    """Render ``source`` both ways; fail when the native render succeeds with a different
    result than gotpl's (or where gotpl fails). True when the native render succeeded."""
    template, native = _pair(source)
    want = _outcome(template.render, data)  # gotpl first: views cache their lookups
    got = _outcome(native.render, data)
    if got[0] == "error":
        return False
    assert got == want, (
        f"native rendered where gotpl differs\n  template: {source!r}\n  data: {data!r}\n"
        f"  gotpl:  {want}\n  native: {got}\n{native.code}"
    )
    return True


# --------------------------------------------------------------------------------------------
# template values

#: names the templates look up, so that generated maps and structs often hold them
KEYS = ["a", "b", "c", "x", "k", "name", "Name", "a/b", "", "Value", "String", "annotations"]
#: pieces of strings that Go's %q, trunc, len, ... treat specially
SPECIAL = ['"', "\\", "\n", "\t", "\r", "\x00", "\x1b", "\x7f", "é", "日本", "\u2028",
           "\U0001f600", " ", "%", "'", "`", "<>&", "-", ",", "\xa0", "\ufffd"]

keys = st.sampled_from(KEYS)
plain_text = st.text(string.ascii_letters + string.digits + " -_./:,=", max_size=8)
strings = st.one_of(
    keys,
    plain_text,
    st.text(max_size=5),  # any code point (no surrogates)
    st.text(st.characters(codec="ascii"), max_size=6),  # control characters included
    st.lists(st.sampled_from(SPECIAL + KEYS), max_size=4).map("".join),
)
small_ints = st.integers(-3, 12)
#: no huge ints: ``range``, ``nindent`` and ``indent`` would loop or allocate that much
ints = st.one_of(small_ints, st.integers(-300, 300))
big_ints = st.one_of(ints, st.integers(), st.sampled_from([2**31, 2**63 - 1, -(2**63), 2**64]))
floats = st.one_of(st.floats(), st.sampled_from([0.0, -0.0, 1.5, 3.0, 1e21, 1e-7]))
enums = st.builds(GoEnum, st.integers(-1, 4), st.sampled_from(["A", "REDIRECT", "", "x y", "0"]))
wrappers = st.builds(GoWrapper, st.one_of(st.booleans(), small_ints, plain_text, st.none()))
durations = st.builds(GoDuration, st.integers(-5, 100), st.sampled_from([0, 5, 500_000_000]))


def _scalars(integers: Strategy) -> Strategy:
    return st.one_of(strings, integers, st.booleans(), floats, st.none(), enums, wrappers,
                     durations)


#: JSON keys of the structs (their Go field names are what templates look up)
json_keys = st.sampled_from(["name", "namespace", "annotations", "labels", "image", "ports",
                             "containerPort", "protocol", "value", "b", "c", "x"])
object_meta = st.fixed_dictionaries(
    {},
    optional={
        "name": strings,
        "namespace": plain_text,
        "annotations": st.dictionaries(st.one_of(keys, strings),
                                       st.one_of(strings, small_ints, st.booleans()), max_size=3),
        "labels": st.dictionaries(keys, strings, max_size=3),
    },
).map(lambda raw: GoStruct(raw, OBJECT_META))


def _containers(children: Strategy) -> Strategy:
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=2).map(tuple),
        st.dictionaries(st.one_of(keys, strings), children, max_size=4),
        st.dictionaries(st.one_of(small_ints, st.booleans(), floats), children, max_size=3),
        st.dictionaries(st.one_of(keys, small_ints), children, max_size=3),  # mixed key types
        st.builds(GoMap, st.dictionaries(st.one_of(keys, strings), strings, max_size=4)),
        st.builds(lambda d, z: GoMap(d, zero=z), st.dictionaries(keys, children, max_size=3),
                  st.sampled_from(["", 0, None, False])),
        st.builds(GoStruct, st.dictionaries(json_keys, children, max_size=4),
                  st.sampled_from([GENERIC, OBJECT_META, CONTAINER])),
        object_meta,
        st.builds(ProtoView, st.dictionaries(json_keys, children, max_size=3)),
    )


def _values(integers: Strategy) -> Strategy:
    return st.recursive(_scalars(integers), _containers, max_leaves=6)


values = _values(ints)
#: for functions that neither loop nor allocate by a number: every int size
any_values = _values(big_ints)


def typed(strategy: Strategy, fallback: Strategy = values) -> Strategy:
    """Often the type the function expects, otherwise anything."""
    return st.one_of(strategy, fallback)


#: printf formats: Go's verbs with and without flags, literals, a trailing ``%``
VERBS = ["%s", "%d", "%t", "%v", "%q", "%5d", "%%", "%x", "%-4s", "%!", "%+v", "%03d"]
LITERALS = ["x", "-", " ", "é", "\n", "=", "a b", '"']
formats = st.builds(
    lambda parts, trailing: "".join(parts) + ("%" if trailing else ""),
    st.lists(st.sampled_from(VERBS + LITERALS + ["%s", "%d", "%v", "%t"]), max_size=5),
    st.booleans(),
)
PRINTF = {"f": typed(formats), **{key: typed(st.one_of(strings, big_ints, st.booleans()),
                                             any_values) for key in "abc"}}

DEFAULT_SHAPE: dict[str, Strategy] = {"a": values, "b": values, "c": values}
#: values an action prints natively (the others make the native render fall back)
printable = st.one_of(strings, big_ints, st.booleans(), st.none(), enums)
#: few distinct scalars of each type: comparisons meet equal operands, truth meets zeros
close = st.one_of(st.integers(-2, 2), st.sampled_from(["", "a", "b", "é", "0"]), st.booleans(),
                  st.sampled_from([0.0, -0.0, 1.5, -1.5, float("nan"), float("inf")]),
                  st.builds(GoEnum, st.integers(-1, 2), st.just("E")), st.none())
CLOSE = {key: typed(close, any_values) for key in "abc"}
Shape = Mapping[str, Strategy] | Strategy


def template_data(shape: Shape) -> Strategy:
    """The template's dot: all keys of ``shape`` set, or any of them missing (gotpl's "no
    value"); or ``shape`` itself, a strategy of the whole dot."""
    if isinstance(shape, st.SearchStrategy):
        return shape
    return st.one_of(st.fixed_dictionaries(dict(shape)),
                     st.fixed_dictionaries({}, optional=dict(shape)))


SIMPLE_VERBS: list[tuple[str, Strategy]] = [
    ("%s", strings), ("%d", big_ints), ("%t", st.booleans()),
    ("%v", st.one_of(strings, big_ints, st.booleans())),
]
GLUE = ["", "x", " ", "=", "%%", "é", "\n", "%%%%"]


@st.composite
def printf_data(draw: st.DrawFn, count: int) -> dict[str, Any]:
    """Half the time a format whose verbs match its ``count`` arguments (``.a .b .c``), else
    any format and any arguments."""
    if draw(st.booleans()):
        return draw(template_data(PRINTF))  # type: ignore[no-any-return]
    parts: list[str] = []
    data: dict[str, Any] = {}
    for key in "abc"[:count]:
        verb, arg = draw(st.sampled_from(SIMPLE_VERBS))
        parts.append(draw(st.sampled_from(GLUE)) + verb)
        data[key] = draw(arg)
    data["f"] = "".join(parts) + draw(st.sampled_from(GLUE))
    return data


# --------------------------------------------------------------------------------------------
# the templates: one native function or helper each (shape: what the data keys hold)

ANY = {"a": any_values, "b": any_values, "c": any_values}
#: mostly values the action can print
PRINTABLE = {key: typed(printable, any_values) for key in "abc"}
LISTY = {"a": typed(st.lists(st.one_of(strings, small_ints, st.booleans(), st.none()),
                             max_size=4)), "b": typed(printable), "c": values}

CASES: dict[str, list[tuple[str, Shape]]] = {
    # helpers: printing, lookups, truth, range
    "print": [
        ("{{ .a }}", PRINTABLE),
        ("{{ $x := .a }}{{ $x }}|{{ .b }}", PRINTABLE),
        ("{{ .a .b }}", ANY),  # a value command with arguments
        ("{{ .b | .a }}", PRINTABLE),  # the same, unless .b is missing
        ('{{ define "x" }}[{{ . }}|{{ $ }}]{{ end }}{{ template "x" .a }}{{ template "x" }}',
         PRINTABLE),
        ("{{ template \"nope\" }}", {}),
    ],
    "lookup": [
        ("{{ .a.b }}", DEFAULT_SHAPE),
        ("{{ .a.b.c }}", DEFAULT_SHAPE),
        ("{{ .a.Name }}|{{ .a.Annotations }}|{{ .a.Labels }}", DEFAULT_SHAPE),
        ("{{ .a.String }}|{{ .a.Number }}|{{ .a.name }}", {"a": typed(enums)}),
        ("{{ .a.Value }}|{{ .a.GetValue }}|{{ .a.Seconds }}|{{ .a.Nanos }}", DEFAULT_SHAPE),
        ("{{ .a.Image }}|{{ .a.Ports }}|{{ .a.x }}|{{ .a.X }}", DEFAULT_SHAPE),
        ("{{ (.a).b }}|{{ $.a.c }}|{{ with .a }}{{ .b }}{{ end }}", DEFAULT_SHAPE),
        ("{{ $v := .a }}{{ $v.b.c }}|{{ and .a.b .c }}", DEFAULT_SHAPE),
        ("{{ .a.b | quote }}", DEFAULT_SHAPE),
    ],
    "truth": [
        ("{{ if .a }}y{{ else }}n{{ end }}", ANY),
        ('{{ if .a }}y{{ else }}n{{ end }}|{{ not .a }}|{{ default "d" .a }}', CLOSE),
        ("{{ with .a }}[{{ . }}]{{ else }}n{{ end }}", PRINTABLE),
        ("{{ and .a .b }}|{{ or .a .b }}", PRINTABLE),
        ("{{ .b | and .a }}|{{ .b | or .a }}|{{ or .a .b .c }}", PRINTABLE),
        ("{{ if and .a .b }}y{{ else if .c }}c{{ end }}", ANY),
        ("{{ if $v := .a }}{{ $v }}{{ else }}[{{ $v }}]{{ end }}", PRINTABLE),
    ],
    "range": [
        ("{{ range $k, $v := .a }}{{ $k }}={{ $v }};{{ end }}", DEFAULT_SHAPE),
        ("{{ range .a }}[{{ . }}]{{ else }}empty{{ end }}", DEFAULT_SHAPE),
        ("{{ range $v := .a }}{{ $v }},{{ end }}", {"a": typed(st.one_of(
            st.lists(printable, max_size=4), st.dictionaries(keys, printable, max_size=4)))}),
        ("{{ range $i, $v := .a }}{{ if $i }},{{ end }}{{ $v | quote }}{{ end }}", DEFAULT_SHAPE),
        ("{{ range $k, $v := .a }}{{ range $v }}{{ $k }}{{ . }}{{ end }}{{ end }}", DEFAULT_SHAPE),
        ("{{ range .a }}{{ . }}{{ break }}{{ end }}|{{ range .a }}{{ continue }}x{{ end }}",
         DEFAULT_SHAPE),
        ("{{ $x := .b }}{{ range .a }}{{ $x = . }}{{ end }}{{ $x }}",
         {"a": values, "b": typed(printable)}),  # no huge ints to range over
    ],
    # Sprig
    "trunc": [
        ("{{ trunc .a .b }}", {"a": st.one_of(st.integers(-9, 9), big_ints, any_values),
                               "b": typed(st.one_of(plain_text, strings))}),
        ("{{ .b | trunc .a }}", {"a": typed(small_ints), "b": typed(strings)}),
        ("{{ trunc 3 .a }}|{{ trunc -2 .a }}|{{ trunc 0 .a }}", {"a": typed(strings)}),
    ],
    "quote": [
        ("{{ quote .a }}", {"a": typed(strings, any_values)}),
        ("{{ .a | quote }}", {"a": typed(strings, any_values)}),
        ("{{ quote .a .b }}", {"a": typed(strings, any_values), "b": any_values}),
        ("{{ quote .a .b .c }}", PRINTABLE),
        ("{{ quote }}|{{ quote nil }}|{{ quote .a nil }}", PRINTABLE),
    ],
    "default": [
        ("{{ default .a .b }}", PRINTABLE),
        ("{{ .b | default .a }}", PRINTABLE),
        ('{{ default "d" .a }}', ANY),
        ("{{ default .a }}", PRINTABLE),
        ("{{ default .a .b .c }}", PRINTABLE),
    ],
    "ternary": [
        ("{{ ternary .a .b .c }}", {**PRINTABLE, "c": typed(st.booleans())}),
        ("{{ .c | ternary .a .b }}", {**PRINTABLE, "c": typed(st.booleans())}),
        ('{{ ternary "y" "n" (eq .a .b) }}', DEFAULT_SHAPE),
    ],
    "trimAll": [
        ("{{ trimAll .c .a }}", {"c": typed(strings), "a": typed(strings)}),
        ('{{ trimAll "-" .a }}|{{ .a | trimAll " x" }}', {"a": typed(strings)}),
    ],
    "join": [
        ("{{ join .s .a }}", {"s": typed(strings), "a": typed(LISTY["a"])}),
        ('{{ join "," .a }}', {"a": typed(LISTY["a"], any_values)}),
        ("{{ join .s (list .a .b) }}", {"s": typed(strings), **PRINTABLE}),
    ],
    "nindent": [
        ("{{ nindent .n .a }}", {"n": typed(small_ints), "a": typed(strings)}),
        ("{{ .a | nindent 2 }}", {"a": typed(strings)}),
    ],
    "list": [
        ("{{ list .a .b | len }}", ANY),
        ("{{ range list .a .b }}{{ . }};{{ end }}", PRINTABLE),
        ("{{ list | len }}|{{ list .a | len }}", ANY),
        ("{{ list .a }}", PRINTABLE),  # printing a list: gotpl only
        ("{{ index (list .a .b) 1 }}|{{ first (list .a) }}", PRINTABLE),
    ],
    "append": [
        ("{{ append .a .b | len }}", LISTY),
        ("{{ range append .a .b }}{{ . }};{{ end }}", LISTY),
        ("{{ append .a .b | first }}", LISTY),
    ],
    "first": [
        ("{{ first .a }}", LISTY),
        ("{{ .a | first | quote }}", LISTY),
    ],
    # Go's built-ins
    "ge": [
        ("{{ ge .a .b }}", {"a": typed(big_ints, any_values), "b": typed(big_ints, any_values)}),
        ("{{ ge .a .b }}|{{ ge .b .a }}", CLOSE),
        ("{{ ge .a .b }}", {"a": typed(strings), "b": typed(strings)}),
        ("{{ ge .a .b }}", {"a": typed(floats), "b": typed(st.one_of(floats, enums))}),
        ("{{ ge .a 3 }}", {"a": typed(st.one_of(big_ints, enums), any_values)}),
        ('{{ ge .a "m" }}', {"a": typed(strings, any_values)}),
        ("{{ ge .a 1.5 }}", {"a": typed(floats, any_values)}),
        ("{{ if ge .a .b }}y{{ else }}n{{ end }}", {"a": typed(big_ints, any_values),
                                                   "b": typed(big_ints, any_values)}),
    ],
    "len": [
        ("{{ len .a }}", ANY),
        ("{{ .a | len }}", {"a": typed(strings)}),
        ("{{ len . }}", ANY),
    ],
    "not": [
        ("{{ not .a }}", ANY),
        ("{{ not .a .b }}", ANY),  # gotpl's arity error
        ("{{ if not .a }}y{{ end }}", ANY),
    ],
    "printf": [
        ("{{ printf .f }}", printf_data(0)),
        ("{{ printf .f .a }}", printf_data(1)),
        ("{{ printf .f .a .b }}", printf_data(2)),
        ("{{ printf .f .a .b .c }}", printf_data(3)),
        ("{{ .a | printf .f }}", printf_data(1)),
        ("{{ .b | printf .f .a }}", printf_data(2)),
        ('{{ printf "%s-%d" .a .b }}', {"a": typed(strings, any_values),
                                         "b": typed(big_ints, any_values)}),
        ('{{ printf "%v%%%t" .a .c }}', {"a": typed(printable, any_values),
                                          "c": typed(st.booleans(), any_values)}),
    ],
    "eq": [
        ("{{ eq .a .b }}", ANY),
        ("{{ eq .a .b }}|{{ ne .a .b }}|{{ eq .a .b .c }}", CLOSE),
        ("{{ eq .a .b .c }}", ANY),
        ('{{ eq .a "x" }}|{{ eq .a 1 }}|{{ eq .a nil }}|{{ eq .a true }}', ANY),
        ("{{ eq .a }}", ANY),
    ],
    "ne": [
        ("{{ ne .a .b }}", ANY),
        ("{{ if ne .a .b }}y{{ else }}n{{ end }}", ANY),
    ],
    "index": [
        ("{{ index .a .b }}", {"a": values, "b": typed(st.one_of(keys, small_ints))}),
        ("{{ index .a .b .c }}", {"a": typed(st.dictionaries(keys, st.dictionaries(
            keys, printable, max_size=3), max_size=3)), "b": typed(keys), "c": typed(keys)}),
        ("{{ index .a }}", PRINTABLE),
        ("{{ index .a 0 }}", {"a": typed(st.one_of(st.lists(printable, max_size=3),
                                                    st.dictionaries(small_ints, printable)))}),
        ('{{ index .a "x" }}', {"a": typed(st.one_of(
            st.dictionaries(keys, printable, max_size=4),
            st.builds(GoMap, st.dictionaries(keys, strings, max_size=4))))}),
        ("{{ (index .a .b).c }}", {"a": values, "b": typed(st.one_of(keys, small_ints))}),
    ],
    # Istio's function map
    "istio": [
        ("{{ annotation .a .b .c }}", {"a": typed(object_meta), "b": typed(keys), "c": values}),
        ("{{ valueOrDefault .a .b }}", PRINTABLE),
        ("{{ isset .a .b }}", {"a": values, "b": typed(keys)}),
        ("{{ toYaml .a }}", DEFAULT_SHAPE),
        ("{{ toJSON .a }}|{{ structToJSON .a }}|{{ protoToJSON .a }}", DEFAULT_SHAPE),
        ("{{ contains .b .a }}|{{ toLower .a }}|{{ directory .a }}", DEFAULT_SHAPE),
        ("{{ indent .n .a }}", {"n": typed(small_ints), "a": typed(strings)}),
        ("{{ excludeInboundPort .a .b }}", DEFAULT_SHAPE),
        ("{{ formatDuration .a }}", {"a": typed(st.one_of(durations, strings, ints))}),
        ("{{ fromJSON .a | toJSON }}", {"a": typed(st.sampled_from(['{"a":1}', "[1]", "x"]))}),
        ("{{ omit .a .b | toJSON }}|{{ strdict .a .b | toJSON }}", DEFAULT_SHAPE),
        ("{{ mergeMaps .a .b | toJSON }}|{{ toJsonMap .a .b }}|{{ omitNil .a | toJSON }}",
         DEFAULT_SHAPE),
        ("{{ kubevirtInterfaces .a }}|{{ excludeInterfaces .b }}", PRINTABLE),
        ("{{ applicationPorts .a }}|{{ includeInboundPorts .a }}", DEFAULT_SHAPE),
        ("{{ appendMultusNetwork .a .b }}", {"a": typed(strings), "b": typed(strings)}),
        ("{{ env .a .b }}", {"a": typed(st.just("MESHCTL_TEST_SURELY_UNSET")), "b": values}),
        ("{{ otelResourceAttributes .a .b .c .a .b }}", DEFAULT_SHAPE),
    ],
}

#: keys a struct view resolves from the sentinels' names (``index`` looks up ``str(key)``)
SENTINEL_NAMES = ["invalid", "iNVALID", "nil", "untypeD_NIL", "uNTYPED_NIL", "nO_VALUE",
                  "no_value", "nIL"]
sentinel_structs = st.one_of(
    st.builds(GoStruct, st.dictionaries(st.sampled_from(SENTINEL_NAMES), plain_text)),
    st.builds(ProtoView, st.dictionaries(st.sampled_from(SENTINEL_NAMES), plain_text)),
)
#: gotpl's "no value" and untyped nil are handed to functions; the native runtime's own
#: sentinels must look the same to them (``str()``, encoders, struct lookups by name)
CASES["sentinels"] = [
    ("{{ list .a .b | toJSON }}", ANY),
    ("{{ toYaml (list .a) }}|{{ list nil .a | toYaml }}", ANY),
    ("{{ append .a .b | toJSON }}", {"a": typed(st.lists(values, max_size=2)), "b": values}),
    ("{{ structToJSON (list .a) }}|{{ list nil | toJSON }}|{{ omitNil (list .a) | toJSON }}",
     ANY),
    ("{{ index .a nil }}", {"a": typed(sentinel_structs)}),
    ("{{ index .a .b }}", {"a": typed(sentinel_structs)}),
    ("{{ directory .a }}|{{ formatDuration .a }}|{{ fromJSON .a | toJSON }}", {}),
]

#: where the native runtime once rendered differently from gotpl (its sentinels were named
#: NO_VALUE and NIL, gotpl's INVALID and UNTYPED_NIL), with the outputs it then rendered
REGRESSIONS: list[tuple[str, dict[str, Any]]] = [
    ("{{ list .a .b | toJSON }}", {}),  # gotpl '["INVALID","INVALID"]'
    ("{{ toYaml (list .a) }}", {}),  # gotpl '- INVALID\n', native '- NO_VALUE\n'
    ("{{ append .a .b | toJSON }}", {"a": []}),
    ("{{ structToJSON (list .a) }}", {}),
    ("{{ list nil | toJSON }}", {}),  # gotpl '["UNTYPED_NIL"]', native '["NIL"]'
    ("{{ list nil | toYaml }}", {}),
    # index looks a struct field up by str(key): native looked up "NIL"/"NO_VALUE" and
    # rendered "found", gotpl looks up "UNTYPED_NIL"/"INVALID" and fails
    ("{{ index .a nil }}", {"a": GoStruct({"nil": "found"})}),
    ("{{ index .a .b }}", {"a": GoStruct({"nO_VALUE": "found"})}),
    ("{{ index .a .b }}", {"a": ProtoView({"nO_VALUE": "found"})}),
]


def _params(cases: list[tuple[str, Shape]]) -> list[Any]:
    return [pytest.param(source, shape, id=source) for source, shape in cases]


ALL_SOURCES = [source for cases in CASES.values() for source, _ in cases]


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def _agrees(source: str, shape: Shape, data: st.DataObject) -> None:
    check(source, data.draw(template_data(shape), label="data"))


def _property_test(family: str) -> Callable[..., None]:
    @pytest.mark.parametrize(("source", "shape"), _params(CASES[family]))
    def test(source: str, shape: Shape) -> None:
        _agrees(source, shape)

    test.__name__ = f"test_native_agrees_{family}"
    test.__doc__ = f"{family}: the native render is gotpl's, for any data."
    return test


for _family in CASES:
    globals()[f"test_native_agrees_{_family}"] = _property_test(_family)


@pytest.mark.parametrize("source", ALL_SOURCES)
def test_native_agrees_all_missing_or_nil(source: str) -> None:
    """Every key missing, then every key nil (the Go zero value of an interface)."""
    check(source, {})
    check(source, dict.fromkeys("abcfns"))


@pytest.mark.parametrize(("source", "data"),
                         [pytest.param(s, d, id=f"{s} {d!r}") for s, d in REGRESSIONS])
def test_regressions(source: str, data: dict[str, Any]) -> None:
    check(source, data)


# --------------------------------------------------------------------------------------------
# the native side is not vacuous: typical inputs render without gotpl

META = GoStruct({"name": "pod", "namespace": "ns", "annotations": {"a/b": "c", "n": 7},
                 "labels": {"app": "web"}}, OBJECT_META)
CONTAINERS = [GoStruct({"name": "app", "ports": [{"containerPort": 80}, {"containerPort": 53,
                                                                          "protocol": "UDP"}]},
                       CONTAINER),
              GoStruct({"name": "istio-proxy", "ports": [{"containerPort": 15090}]}, CONTAINER)]

TYPICAL: list[tuple[str, dict[str, Any]]] = [
    ("{{ .a }}|{{ .b }}|{{ .c }}|{{ .missing }}", {"a": "text", "b": -4, "c": True}),
    ("{{ .a }}|{{ .b }}|{{ .c }}", {"a": GoEnum(1, "REDIRECT"), "b": None, "c": False}),
    ("{{ .a.b.c }}|{{ .a.x.y }}", {"a": {"b": {"c": "deep"}}}),
    ("{{ .a.Name }}|{{ .a.Namespace }}|{{ .a.UID }}|{{ .a.Labels.app }}", {"a": META}),
    ("{{ .a.String }}|{{ .b.GetValue }}|{{ .c.Seconds }}",
     {"a": GoEnum(2, "TPROXY"), "b": GoWrapper(True), "c": GoDuration(5)}),
    ("{{ if .a }}y{{ else }}n{{ end }}", {"a": []}),
    ("{{ if .a }}y{{ else }}n{{ end }}", {"a": GoMap()}),
    ("{{ if .a }}y{{ else }}n{{ end }}", {"a": "x"}),
    ("{{ if .a }}y{{ else }}n{{ end }}", {"a": META}),
    ("{{ with .a }}{{ .b }}{{ end }}|{{ and .a .c }}|{{ or .c .a.b }}",
     {"a": {"b": "in"}, "c": 0}),
    ("{{ range $k, $v := .a }}{{ $k }}={{ $v }};{{ end }}", {"a": {"b": "2", "a": "1"}}),
    ("{{ range $k, $v := .a }}{{ $k }}={{ $v }};{{ end }}", {"a": GoMap({"z": "2", "y": "1"})}),
    ("{{ range $k, $v := .a }}{{ $k }}={{ $v }};{{ end }}", {"a": {3: "c", 1: "a"}}),
    ("{{ range $i, $v := .a }}{{ $i }}={{ $v }};{{ end }}", {"a": ["x", "y"]}),
    ("{{ range .a }}{{ . }}{{ else }}none{{ end }}", {"a": []}),
    ("{{ range .a }}{{ . }}{{ end }}", {"a": 4}),
    ("{{ trunc .a .b }}|{{ trunc .c .b }}|{{ trunc 99 .b }}", {"a": 3, "b": "abcdef", "c": -2}),
    ("{{ quote .a }}|{{ .b | quote }}|{{ quote .a .b .c }}", {"a": "plain text", "b": 5,
                                                             "c": True}),
    ("{{ quote .a .missing }}|{{ .missing | quote }}", {"a": "x"}),
    ("{{ printf .f .a .b }}", {"f": "%s=%d", "a": "k", "b": 3}),
    ("{{ printf .f .a .b }}", {"f": "%v %t %%", "a": "k", "b": True}),
    ('{{ printf "%s:%v" .a .b }}|{{ .a | printf "<%s>" }}', {"a": "x", "b": 8}),
    ("{{ default .a .b }}|{{ default .a .c }}|{{ .missing | default .a }}",
     {"a": "d", "b": "", "c": "given"}),
    ("{{ default .a .b }}|{{ default .a .c | len }}", {"a": "d", "b": 0, "c": ["x"]}),
    ("{{ ternary .a .b .c }}|{{ ternary .a .b true }}", {"a": "y", "b": "n", "c": False}),
    ("{{ trimAll .c .a }}|{{ trimAll \"\" .a }}", {"c": "-", "a": "--x-y--"}),
    ("{{ join .s .a }}|{{ join .s .b }}", {"s": ", ", "a": ["x", "y", 3, True], "b": "one"}),
    ("{{ nindent .n .a }}|{{ .a | nindent 0 }}", {"n": 2, "a": "x\ny"}),
    ("{{ list .a .b | len }}|{{ range list .a .b }}{{ . }};{{ end }}", {"a": "x", "b": 2}),
    ("{{ append .a .b | len }}|{{ range append .a .b }}{{ . }},{{ end }}",
     {"a": ["x"], "b": "y"}),
    ("{{ first .a }}|{{ first .b }}", {"a": ["x", "y"], "b": []}),
    ("{{ ge .a .b }}|{{ ge .b .a }}|{{ ge .c .d }}|{{ ge .e .a }}",
     {"a": 3, "b": 2, "c": "a", "d": "b", "e": GoEnum(3, "E")}),
    ("{{ len .a }}|{{ len .b }}|{{ len .c }}|{{ len .d }}",
     {"a": "abc", "b": ["x"], "c": {"k": 1, "l": 2}, "d": GoMap({"k": "v"})}),
    ("{{ not .a }}|{{ not .b }}|{{ not .c }}", {"a": True, "b": "", "c": [1]}),
    ("{{ eq .a .b }}|{{ eq .a .c }}|{{ ne .a .c }}|{{ eq .a .c .b }}|{{ eq .missing nil }}",
     {"a": "x", "b": "x", "c": "y"}),
    ("{{ eq .a 1 }}|{{ eq .a 1.0 }}|{{ ne .missing \"x\" }}", {"a": 1}),
    ("{{ index .a .b }}|{{ index .c 1 }}|{{ index .d .b }}|{{ index .d \"none\" }}",
     {"a": {"k": "v"}, "b": "k", "c": ["x", "y"], "d": GoMap({"k": "w"})}),
    ("{{ index .a \"a/b\" }}|{{ index .a \"zz\" }}", {"a": META.__gotemplate_lookup__(
        "Annotations")}),
    ('{{ annotation .a "a/b" "d" }}|{{ annotation .a "n" "d" }}|{{ annotation .a "x" 7 }}',
     {"a": META}),
    ('{{ valueOrDefault .a "v" }}|{{ valueOrDefault .b "v" }}|{{ valueOrDefault .m "v" }}',
     {"a": "", "b": "set"}),
    ('{{ isset .a "k" }}|{{ isset .a "z" }}|{{ isset .b "k" }}', {"a": {"k": 1}, "b": "s"}),
    ("{{ toYaml .a }}|{{ toJSON .a }}|{{ structToJSON .b }}",
     {"a": {"k": ["v", 1, True, None]}, "b": META}),
    ('{{ contains "b" .a }}|{{ toLower .a }}|{{ directory .c }}|{{ indent 2 .b }}',
     {"a": "ABC", "b": "x\ny", "c": "/etc/istio/proxy"}),
    ('{{ excludeInboundPort .a .b }}|{{ formatDuration .c }}|{{ fromJSON .d | toJSON }}',
     {"a": 15020, "b": "80,81", "c": GoDuration(90), "d": '{"x":[1,2]}'}),
    ('{{ omit .a "k" | toJSON }}|{{ strdict "a" 1 "b" | toJSON }}|{{ toJsonMap .a .b }}',
     {"a": {"k": "v", "l": "w"}, "b": GoMap({"m": "n"})}),
    ("{{ mergeMaps .a .b | toJSON }}|{{ omitNil .c | toJSON }}",
     {"a": {"k": "v"}, "b": {"k": "w"}, "c": {"x": None, "y": [None, 1]}}),
    ("{{ applicationPorts .a }}|{{ includeInboundPorts .a }}|{{ kubevirtInterfaces .b }}|"
     "{{ excludeInterfaces .b }}", {"a": CONTAINERS, "b": "eth1"}),
    ('{{ appendMultusNetwork .a "ns/net" }}|{{ appendMultusNetwork .b "net" }}|{{ env .c .d }}',
     {"a": '[{"name": "x"}]', "b": "a, b", "c": "MESHCTL_TEST_SURELY_UNSET", "d": "dflt"}),
    ("{{ otelResourceAttributes .a .b .c .d .e }}|{{ protoToJSON .f }}",
     {"a": {}, "b": {}, "c": {}, "d": "ns", "e": CONTAINERS, "f": {"k": 1}}),
    ('{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" .a }}{{ $.a }}', {"a": "t"}),
]

#: a few results pinned by hand (Go's text/template with Sprig renders these)
PINNED = {
    "{{ trunc .a .b }}|{{ trunc .c .b }}|{{ trunc 99 .b }}": "abc|ef|abcdef",
    "{{ quote .a }}|{{ .b | quote }}|{{ quote .a .b .c }}":
        '"plain text"|"5"|"plain text" "5" "true"',
    "{{ nindent .n .a }}|{{ .a | nindent 0 }}": "\n  x\n  y|\nx\ny",
    "{{ len .a }}|{{ len .b }}|{{ len .c }}|{{ len .d }}": "3|1|2|1",
    "{{ default .a .b }}|{{ default .a .c }}|{{ .missing | default .a }}": "d|given|d",
}


@pytest.mark.parametrize(("source", "data"), [pytest.param(s, d, id=s) for s, d in TYPICAL])
def test_typical_inputs_render_natively(source: str, data: dict[str, Any]) -> None:
    """Well-typed inputs of the kind real templates see: the native runtime renders them
    itself (no fallback) and exactly as gotpl does."""
    template, native = _pair(source)
    want = template.render(data)
    assert native.render(data) == want, native.code
    pinned = PINNED.get(source)
    if pinned is not None:
        assert want == pinned


def test_typical_inputs_cover_every_native_function() -> None:
    called = {name for name in NATIVE_FUNCTIONS
              if any(re.search(rf"\b{re.escape(name)}\b", s) for s, _ in TYPICAL)}
    assert called == set(NATIVE_FUNCTIONS), set(NATIVE_FUNCTIONS) - called


# well-typed generated data: the native runtime renders every example

simple_format = st.lists(st.sampled_from(["", "x", " ", "=", "%%", "é"]), min_size=2, max_size=2)


def _printf_case(draw: st.DrawFn) -> dict[str, Any]:
    verbs: list[str] = []
    args: list[Any] = []
    for _ in range(2):
        verb, arg = draw(st.sampled_from([
            ("%s", plain_text), ("%d", big_ints), ("%t", st.booleans()),
            ("%v", st.one_of(plain_text, big_ints, st.booleans())),
        ]))
        verbs.append(verb)
        args.append(draw(arg))
    glue = draw(simple_format)
    return {"f": glue[0] + verbs[0] + glue[1] + verbs[1], "a": args[0], "b": args[1]}


str_lists = st.lists(plain_text, max_size=4)
str_dicts = st.dictionaries(plain_text, plain_text, max_size=4)
nested = st.dictionaries(keys, st.dictionaries(keys, plain_text, max_size=3), max_size=3)

WELL_TYPED: list[tuple[str, Strategy]] = [
    ("{{ .a }}|{{ .b }}|{{ .c }}", st.fixed_dictionaries(
        {"a": plain_text, "b": big_ints, "c": st.booleans()})),
    ("{{ .a.b.c }}|{{ .a.x.Name }}|{{ .missing.b.c }}", st.fixed_dictionaries({"a": nested})),
    ("{{ if .a }}y{{ else }}n{{ end }}{{ if .b }}y{{ end }}{{ if .c }}y{{ end }}",
     st.fixed_dictionaries({"a": plain_text, "b": str_lists, "c": st.one_of(ints, str_dicts)})),
    ("{{ range $k, $v := .a }}{{ $k }}={{ $v }};{{ end }}",
     st.fixed_dictionaries({"a": st.one_of(str_dicts, str_lists,
                                           st.builds(GoMap, str_dicts))})),
    ("{{ trunc .a .b }}", st.fixed_dictionaries({"a": big_ints, "b": plain_text})),
    ("{{ quote .a .b }}", st.fixed_dictionaries({"a": plain_text, "b": st.one_of(
        plain_text, big_ints, st.booleans(), st.none())})),
    ("{{ printf .f .a .b }}", st.composite(_printf_case)()),
    ("{{ default .a .b }}|{{ default .c .d | len }}", st.fixed_dictionaries(
        {"a": plain_text, "b": st.one_of(plain_text, big_ints, st.booleans(), st.none()),
         "c": str_lists, "d": st.one_of(str_lists, st.none())})),
    ("{{ ternary .a .b .c }}", st.fixed_dictionaries(
        {"a": plain_text, "b": plain_text, "c": st.booleans()})),
    ("{{ trimAll .c .a }}", st.fixed_dictionaries({"c": plain_text, "a": plain_text})),
    ("{{ join .s .a }}", st.fixed_dictionaries({"s": plain_text, "a": str_lists})),
    ("{{ nindent .n .a }}", st.fixed_dictionaries({"n": st.integers(0, 12), "a": plain_text})),
    ("{{ list .a .b | len }}|{{ append .a .b | len }}|{{ first .a }}",
     st.fixed_dictionaries({"a": str_lists, "b": plain_text})),
    ("{{ ge .a .b }}|{{ ge .c .d }}", st.fixed_dictionaries(
        {"a": big_ints, "b": big_ints, "c": plain_text, "d": plain_text})),
    ("{{ len .a }}|{{ len .b }}|{{ len .c }}|{{ not .a }}",
     st.fixed_dictionaries({"a": plain_text, "b": str_lists, "c": str_dicts})),
    ("{{ eq .a .b }}|{{ ne .a .b }}|{{ eq .c .d }}", st.fixed_dictionaries(
        {"a": keys, "b": keys, "c": big_ints, "d": big_ints})),
    ("{{ index .a .b }}", st.fixed_dictionaries({"a": st.dictionaries(keys, plain_text),
                                                 "b": keys})),
    ("{{ annotation .a .b .c }}|{{ valueOrDefault .b .c }}|{{ isset .d .b }}",
     st.fixed_dictionaries({"a": object_meta, "b": keys, "c": plain_text, "d": str_dicts})),
    ("{{ toYaml .a }}|{{ toJSON .a }}", st.fixed_dictionaries({"a": nested})),
]


@pytest.mark.parametrize(("source", "strategy"),
                         [pytest.param(s, d, id=s) for s, d in WELL_TYPED])
def test_well_typed_data_render_natively(source: str, strategy: Strategy) -> None:
    """Generated well-typed data: the native render never falls back, and agrees."""

    @settings(max_examples=WELL_TYPED_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(data=strategy)
    def run(data: dict[str, Any]) -> None:
        assert check(source, data), f"native fell back for {source!r} on {data!r}"

    run()


# --------------------------------------------------------------------------------------------
# the tests reach everything the native runtime provides


def test_every_native_function_is_exercised() -> None:
    missing = {name for name in NATIVE_FUNCTIONS
               if not any(re.search(rf"\b{re.escape(name)}\b", s) for s in ALL_SOURCES)}
    assert not missing, missing


def test_every_helper_is_exercised() -> None:
    """Each name the generated native code may call appears in some compiled test template."""
    code = "\n".join(_pair(source)[1].code for source in ALL_SOURCES)
    unused = {name for name in HELPERS if not re.search(rf"\b{re.escape(name)}\b", code)}
    assert not unused, unused
