"""The fragment emitter: every value it writes must read back as the same value under YAML 1.2
(our ruamel-based loader) AND YAML 1.1 (PyYAML, close to go-yaml v2 that Kubernetes uses)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from meshctl.yamltext.emitter import (
    BlockStyle,
    dump_block,
    dump_flow,
    dump_json,
    dump_scalar,
    entry_lines,
    item_lines,
    literal_ok,
    plain_ok,
)
from meshctl.yamltext.source import load_document

TRICKY = [
    "",
    " ",
    "a ",
    " a",
    "yes",
    "Yes",
    "NO",
    "no",
    "on",
    "Off",
    "y",
    "Y",
    "n",
    "N",
    "true",
    "True",
    "FALSE",
    "null",
    "Null",
    "~",
    "0755",
    "0o755",
    "0x1F",
    "0b101",
    "1_000",
    "1e3",
    "1E3",
    "1.0",
    ".5",
    "1.",
    ".inf",
    "-.Inf",
    ".NaN",
    "+inf",
    "-Infinity",
    "nan",
    "2001-12-14",
    "2001-12-14T21:59:43.10-05:00",
    "190:20:30",
    "10:30",
    "<<",
    "=",
    "-",
    "- a",
    "-a",
    "--domain",
    "?x",
    ":x",
    "x:",
    "a: b",
    "a:b",
    "a #b",
    "a#b",
    "#x",
    "&x",
    "*x",
    "!x",
    "|x",
    ">x",
    "'x",
    '"x',
    "%x",
    "@x",
    "`x",
    "[x]",
    "{x}",
    "a,b",
    "a]",
    "---",
    "...",
    "--- x",
    "a\nb",
    "a\n",
    "\n",
    "\na",
    "a\n\n",
    " a\nb",
    "\ta",
    "a\tb",
    "x\x7fy",
    "x\x85y",
    "x\u2028y",
    "\ufeffx",
    "é",
    "15020",
    "100m",
    "1Gi",
    "1.2.3",
    "v1",
    "+1",
    "-0",
    "0",
    "$(POD_NAMESPACE).svc",
    "15090,15021,15020",
    "*",
    "a'b",
    'a"b',
    "a\\b",
    "\x00",
    "\x1b[0m",
]

#: Text without surrogates (they cannot be encoded, so no document can contain them).
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


def read_both(doc: str) -> tuple[Any, Any]:
    return load_document(doc).data, yaml.safe_load(doc)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("s", TRICKY)
def test_tricky_strings_round_trip_in_block_and_flow(s: str) -> None:
    for doc in (f"k: {dump_scalar(s)}\n", f"- {dump_scalar(s)}\n"):
        ours, pyyaml = read_both(doc)
        got = ours["k"] if isinstance(ours, dict) else ours[0]
        got11 = pyyaml["k"] if isinstance(pyyaml, dict) else pyyaml[0]
        assert got == s, doc
        assert got11 == s, doc
    doc = f"k: [{dump_scalar(s, True)}, {{{dump_scalar(s, True)}: x}}]\n"
    ours, pyyaml = read_both(doc)
    assert ours["k"] == [s, {s: "x"}], doc
    assert pyyaml["k"] == [s, {s: "x"}], doc


@pytest.mark.parametrize("s", ["yes", "on", "y", "0755", "1e3", "2001-12-14", "", "~", "10:30"])
def test_ambiguous_strings_are_quoted(s: str) -> None:
    assert dump_scalar(s)[0] in "'\""


@pytest.mark.parametrize(
    "s",
    [
        "hello",
        "-p",
        "--log_output_level=default:info",
        "100m",
        "1.2.3",
        "$(POD_NAMESPACE).svc.cluster.local",
        "fake.io/a:1.0",
        "a/b",
    ],
)
def test_safe_strings_stay_plain(s: str) -> None:
    assert dump_scalar(s) == s


def test_quote_preference_single_then_double() -> None:
    assert dump_scalar("yes") == "'yes'"
    assert dump_scalar("it's") == "it's"
    assert dump_scalar("'x") == "'''x'"
    assert dump_scalar("a\nb") == '"a\\nb"'
    assert dump_scalar("x\x7f") == '"x\\u007f"'


def test_non_string_scalars() -> None:
    assert dump_scalar(None) == "null"
    assert dump_scalar(True) == "true"
    assert dump_scalar(7) == "7"
    assert dump_scalar(1e20) == "1.0e+20"  # YAML 1.1 needs the dot
    assert dump_scalar(float("inf")) == ".inf"
    with pytest.raises(TypeError):
        dump_scalar(object())


@given(texts)
@settings(max_examples=400, deadline=None)
def test_any_string_round_trips(s: str) -> None:
    for flow in (False, True):
        doc = f"k: {dump_scalar(s, flow)}\n"
        ours, pyyaml = read_both(doc)
        assert ours == {"k": s}, doc
        assert pyyaml == {"k": s}, doc


@given(st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.none()))
def test_any_scalar_round_trips(v: Any) -> None:
    ours, pyyaml = read_both(f"k: {dump_scalar(v)}\n")
    assert same(ours["k"], v)
    assert same(pyyaml["k"], v)


multiline = st.lists(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=6), min_size=2, max_size=5
).map("\n".join)


@given(multiline)
@settings(max_examples=300, deadline=None)
def test_multiline_strings_round_trip_in_block(s: str) -> None:
    for indent, off in ((2, 2), (4, 2), (3, 4)):
        style = BlockStyle(indent, 0, off)
        as_entry: list[str] = []
        entry_lines("k", s, 2, style, as_entry)
        as_item: list[str] = []
        item_lines(s, 2, style, as_item)
        for lines, expect in (
            (as_entry, {"top": {"k": s}, "after": 1}),
            (as_item, {"top": [s], "after": 1}),
        ):
            doc = "top:\n" + "\n".join(lines) + "\nafter: 1\n"
            ours, pyyaml = read_both(doc)
            assert ours == expect, doc
            assert pyyaml == expect, doc


def test_literal_block_is_used_for_readable_multiline() -> None:
    out: list[str] = []
    entry_lines("value", '[\n    {"name":"http"}\n]', 4, BlockStyle(), out)
    assert out == ["    value: |-", "      [", '          {"name":"http"}', "      ]"]
    out = []
    entry_lines("value", "{}\n", 0, BlockStyle(), out)
    assert out == ["value: |", "  {}"]
    out = []
    entry_lines("value", " lead\nx\n", 0, BlockStyle(), out)
    assert out[0] == "value: |2"
    out = []  # a keep scalar would swallow the blank lines after it: quoted instead
    entry_lines("value", "x\n\n", 0, BlockStyle(), out)
    assert out == ['value: "x\\n\\n"']
    assert not literal_ok("trailing \nspace")
    assert not literal_ok("\n\n")


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**9), 10**9),
        st.floats(allow_nan=False, allow_infinity=False),
        texts,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(texts, children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values, st.sampled_from([(2, 0, 2), (2, 2, 2), (4, 4, 2), (4, 0, 4), (3, 1, 2)]))
@settings(max_examples=300, deadline=None)
def test_block_dump_round_trips(v: Any, style: tuple[int, int, int]) -> None:
    indent, seq_indent, off = style
    text = dump_block({"root": v}, indent, seq_indent, 0, off) + "\n"
    ours, pyyaml = read_both(text)
    assert ours == {"root": v}, text
    assert pyyaml == {"root": v}, text
    # nested at a column, under a parent key
    text = "p:\n" + dump_block({"root": v, "z": [v]}, indent, seq_indent, 2, off) + "\n"
    assert load_document(text).data == {"p": {"root": v, "z": [v]}}, text


@given(json_values)
@settings(max_examples=300, deadline=None)
def test_flow_and_json_dumps_round_trip(v: Any) -> None:
    flow = dump_flow(v)
    assert read_both("k: " + flow + "\n") == ({"k": v}, {"k": v}), flow
    for text in (dump_json(v), dump_json(v, 2), dump_json(v, 4, 4, ",", ":")):
        # JSON keeps JSON number syntax (5e-324), which YAML 1.1 would read as a string
        assert load_document("k: " + text + "\n").data == {"k": v}, text
    assert json.loads(dump_json(v)) == v
    assert json.loads(dump_json(v, 2, 0)) == v


def test_dump_block_shapes() -> None:
    v = {"containers": [{"name": "a", "args": ["x", "z"], "env": []}], "labels": {}}
    assert dump_block(v, 2, 0) == (
        "containers:\n- name: a\n  args:\n  - x\n  - z\n  env: []\nlabels: {}"
    )
    assert dump_block(v, 4, 4, 0, 4) == (
        "containers:\n    -   name: a\n        args:\n            - x\n            - z\n"
        "        env: []\nlabels: {}"
    )
    assert dump_block([[1, 2], [3]], 2, 2) == "- - 1\n  - 2\n- - 3"
    assert dump_block({}, 2, 2) == "{}"
    assert dump_block("x", 2, 2) == "x"


def test_key_order_follows_the_dict() -> None:
    assert dump_block({"b": 1, "a": 2}) == "b: 1\na: 2"
    assert dump_flow({"b": 1, "a": 2}) == "{b: 1, a: 2}"


def test_json_pretty_with_base_column() -> None:
    assert dump_json({"a": [1]}, 2, 4) == '{\n      "a": [\n        1\n      ]\n    }'
    assert dump_json({"a": "x\u2028"}) == '{"a": "x\\u2028"}'


def test_plain_ok_context() -> None:
    assert plain_ok("a,b")
    assert not plain_ok("a,b", flow=True)
    assert not plain_ok("http://x", flow=True)
    assert plain_ok("http://x")
