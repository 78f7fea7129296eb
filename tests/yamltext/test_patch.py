"""make_patch: correct (jsonpatch agrees) and minimal (local ops only)."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshctl.yamltext.patch import escape, make_patch, parse_pointer, strict_equal, unescape


def check(old: Any, new: Any) -> list[dict[str, Any]]:
    before = copy.deepcopy(old)
    ops = make_patch(old, new)
    assert old == before  # inputs untouched
    got = jsonpatch.apply_patch(old, ops)
    assert strict_equal(got, new), (ops, got, new)
    return ops


def test_unchanged_gives_nothing() -> None:
    v = {"a": [1, {"b": "c"}], "d": None}
    assert make_patch(v, copy.deepcopy(v)) == []


def test_scalar_replace_add_remove() -> None:
    ops = check({"a": 1, "b": 2, "c": {"x": 1}}, {"a": 1, "b": 3, "c": {"x": 1, "y": 2}})
    assert ops == [
        {"op": "replace", "path": "/b", "value": 3},
        {"op": "add", "path": "/c/y", "value": 2},
    ]
    ops = check({"a": 1, "b": 2}, {"a": 1})
    assert ops == [{"op": "remove", "path": "/b"}]


def test_strict_types() -> None:
    assert check({"a": 1}, {"a": True}) == [{"op": "replace", "path": "/a", "value": True}]
    assert check({"a": 1}, {"a": 1.0}) == [{"op": "replace", "path": "/a", "value": 1.0}]
    assert check([1], [True]) == [{"op": "replace", "path": "/0", "value": True}]
    assert check({"a": {"b": 0}}, {"a": {"b": False}}) == [
        {"op": "replace", "path": "/a/b", "value": False}
    ]


def test_pointer_escaping() -> None:
    ops = check({"m": {}}, {"m": {"sidecar.istio.io/status": "x", "a~b": 1}})
    assert [o["path"] for o in ops] == ["/m/sidecar.istio.io~1status", "/m/a~0b"]
    assert escape("~/") == "~0~1"
    assert unescape("~01") == "~1"
    assert parse_pointer("/a~1b/~0/0") == ["a/b", "~", "0"]
    assert parse_pointer("") == []
    with pytest.raises(ValueError):
        parse_pointer("a")


def test_containers_by_name() -> None:
    old = {"containers": [{"name": "app", "image": "a"}, {"name": "b", "image": "b"}]}
    new = {
        "containers": [
            {"name": "app", "image": "a2"},
            {"name": "istio-proxy", "image": "p"},
            {"name": "b", "image": "b"},
        ]
    }
    ops = check(old, new)
    assert ops == [
        {"op": "replace", "path": "/containers/0/image", "value": "a2"},
        {"op": "add", "path": "/containers/1", "value": {"name": "istio-proxy", "image": "p"}},
    ]


def test_named_items_are_not_paired_across_names() -> None:
    old = {"v": [{"name": "a", "x": 1}]}
    new = {"v": [{"name": "b", "x": 1}]}
    ops = check(old, new)
    assert [o["op"] for o in ops] == ["remove", "add"]


def test_mount_path_identity_when_names_repeat() -> None:
    old = [{"name": "v", "mountPath": "/a"}, {"name": "v", "mountPath": "/b"}]
    new = [{"name": "v", "mountPath": "/b"}]
    assert check(old, new) == [{"op": "remove", "path": "/0"}]


def test_scalar_lists_by_lcs() -> None:
    assert check(["a", "b", "c"], ["a", "x", "b", "c"]) == [
        {"op": "add", "path": "/1", "value": "x"}
    ]
    assert check(["a", "b", "c"], ["a", "c"]) == [{"op": "remove", "path": "/1"}]
    assert check(["a", "b", "c"], ["a", "B", "c"]) == [
        {"op": "replace", "path": "/1", "value": "B"}
    ]
    assert check([1, 2, 3], [1, 2, 3, 4]) == [{"op": "add", "path": "/3", "value": 4}]


def test_unnamed_dicts_are_recursed_in_place() -> None:
    old = [{"a": 1, "b": 2}]
    new = [{"a": 1, "b": 3}]
    assert check(old, new) == [{"op": "replace", "path": "/0/b", "value": 3}]


def test_unmatched_runs_align_by_similarity() -> None:
    # a new item inserted before a modified one: add + recurse, not replace + add
    assert check([{"a": None}], ["new", {"a": None, "b": 1}]) == [
        {"op": "add", "path": "/0", "value": "new"},
        {"op": "add", "path": "/1/b", "value": 1},
    ]
    ops = check([{"x": 1, "y": 2}, {"z": 3}], [{"q": 0}, {"x": 1, "y": 5}, {"z": 3, "w": 1}])
    assert ops == [
        {"op": "add", "path": "/0", "value": {"q": 0}},
        {"op": "replace", "path": "/1/y", "value": 5},
        {"op": "add", "path": "/2/w", "value": 1},
    ]
    assert check([[1, 2], "s"], [[9], [1, 2, 3], "s"]) == [
        {"op": "add", "path": "/0", "value": [9]},
        {"op": "add", "path": "/1/2", "value": 3},
    ]


def test_type_changes_replace() -> None:
    assert check({"a": None}, {"a": {"x": 1}}) == [
        {"op": "replace", "path": "/a", "value": {"x": 1}}
    ]
    assert check({"a": [1]}, {"a": {"0": 1}}) == [
        {"op": "replace", "path": "/a", "value": {"0": 1}}
    ]
    assert check(1, [1]) == [{"op": "replace", "path": "", "value": [1]}]


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from([0.0, 1.0, 2.5]),
    st.sampled_from(["a", "b", "c", "a/b", "x~y", ""]),
)
keys = st.sampled_from(["a", "b", "c", "name", "mountPath", "a/b", "~", "x~1"])
trees = st.recursive(
    scalars,
    lambda ch: st.one_of(
        st.lists(ch, max_size=5),
        st.dictionaries(keys, ch, max_size=4),
        st.lists(
            st.fixed_dictionaries(
                {"name": st.sampled_from(["p", "q", "r", "s"])}, optional={"v": ch}
            ),
            max_size=4,
        ),
    ),
    max_leaves=25,
)


@given(trees, trees)
@settings(max_examples=500, deadline=None)
def test_patch_applies(old: Any, new: Any) -> None:
    check(old, new)


@given(trees)
@settings(max_examples=200, deadline=None)
def test_identity_patch_is_empty(v: Any) -> None:
    assert make_patch(v, copy.deepcopy(v)) == []
