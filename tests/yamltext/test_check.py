"""The event-level checks (meshctl.yamltext.check) against the composer, which builds the data.

The walk checks documents passed through untouched; the composer the documents injection
builds. Both must refuse the same documents for the same reasons: a property test compares
them on generated YAML, some with a key line duplicated.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from meshctl.yamltext.check import MAX_DEPTH, check_events, may_be_deep
from meshctl.yamltext.source import StructureError, YamlSyntaxError, load_document


@pytest.mark.parametrize(("text", "line"), [
    ("a: 1\nb: 2\na: 3\n", 3),
    ("m:\n  x: 1\n  'x': 2\n", 3),
    ("1: a\n'1': b\n", 2),
    ("true: a\nTrue: b\n", 2),
    ("- {a: 1, b: 2, a: 3}\n", 1),
    ("a: &k x\n*k : 1\nx: 2\n", 3),
    ("l:\n- name: a\n  image: x\n  image: y\n", 4),
])
def test_duplicate_keys(text: str, line: int) -> None:
    with pytest.raises(StructureError, match="duplicate key") as err:
        check_events(text)
    assert err.value.line == line
    with pytest.raises(StructureError, match="duplicate key"):
        load_document(text)


@pytest.mark.parametrize("text", [
    "a: [1, {x: 1}, {x: 2}]\nb:\n- x: 1\n- x: 2\n",
    "<<: {a: 1}\nb: 1\n",
    "m: {a: 1}\nn: {a: 1}\n",
    "k: {a: &s x, *s : 1}\n",
])
def test_no_duplicate(text: str) -> None:
    check_events(text)
    load_document(text)


def test_what_the_document_is() -> None:
    assert check_events("a: 1\n") == "mapping"
    assert check_events("- a\n") == "sequence"
    assert check_events("'x'\n") == "string"
    assert check_events("42\n") == "scalar"
    assert check_events("~\n") == "null"
    assert check_events("# only a comment\n") is None


def test_depth_and_aliases() -> None:
    deep = "x: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n"
    assert may_be_deep(deep)
    with pytest.raises(StructureError, match=f"nesting deeper than {MAX_DEPTH} levels"):
        check_events(deep)
    ok = "x: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    check_events(ok)
    bomb = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcde", "bcdef",
                                                                    strict=True))
    with pytest.raises(StructureError, match="aliases expand to more than"):
        check_events(bomb)
    with pytest.raises(StructureError, match="aliases expand to more than"):
        load_document(bomb)
    check_events("a: &a [1, 2]\nb: *a\nc: *a\n")


def test_syntax_errors_and_binary_data() -> None:
    with pytest.raises(YamlSyntaxError) as err:
        check_events("a: [1\nb: 2\n")
    assert not isinstance(err.value, StructureError)
    with pytest.raises(YamlSyntaxError, match="U\\+0000 is not allowed"):
        check_events("a: \x00\n")


# --- the walk and the composer agree ---------------------------------------------------------

keys = st.sampled_from(["a", "b", "name", "1", "true", "~", "x y", "c"])
scalars = st.one_of(st.integers(-5, 5), st.sampled_from(["v", "1", "yes", "", "a: b", None]))
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(keys, inner, max_size=4)),
    max_leaves=25,
)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _outcome(fn: Any, text: str) -> str:
    try:
        fn(text)
    except StructureError as exc:
        return exc.problem.split(" (")[0].split("'")[0]
    except YamlSyntaxError:
        return "syntax"
    return "ok"


@settings(max_examples=300, deadline=None)
@given(trees, st.booleans(), st.integers(0, 2**32))
def test_the_walk_refuses_what_the_composer_refuses(tree: Any, flow: bool, seed: int) -> None:
    text = yaml.safe_dump(tree, default_flow_style=flow, sort_keys=False)
    lines = text.splitlines(keepends=True)
    rnd = random.Random(seed)
    if lines and rnd.random() < 0.5:  # duplicate a line: often a duplicate key, or broken YAML
        i = rnd.randrange(len(lines))
        lines.insert(i, lines[i])
    text = "".join(lines)
    assert _outcome(check_events, text) == _outcome(load_document, text), text
    if not may_be_deep(text):
        assert _depth(tree) <= MAX_DEPTH
