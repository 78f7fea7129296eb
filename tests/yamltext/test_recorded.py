"""The editor's way back: recorded forms of nodes, verbatim values, and what an inverse patch
would not give back (``Changes``).

The property at the end is the contract the pipeline relies on: patch a document, record the
forms of the nodes ``Changes.lossy`` names (where ``Changes.kept`` still has their slot), then
the inverse patch with those texts as verbatim values gives back the original bytes.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from meshctl.yamltext.edit import Changes, Verbatim, apply_patch_to_text
from meshctl.yamltext.patch import escape, make_patch
from meshctl.yamltext.recorded import differing_paths, node_paths, recorded_text, verbatim_data
from meshctl.yamltext.slots import reindent
from meshctl.yamltext.source import load_document

DOC = """\
a:
  b: "x"  # quoted
  c: {d: 1, e: [1, 2]}
  f:
    # about g
    g: 1
    h: |
      text
  list:
  - name: one
    v: 1
  -   name: two
  empty: {}
  null1:
  null2: ~  # none
  alias: &anchor [1]
  other: *anchor
"""


@pytest.mark.parametrize(("path", "form", "data"), [
    (("a", "b"), ': "x"  # quoted', "x"),
    (("a", "c"), ": {d: 1, e: [1, 2]}", {"d": 1, "e": [1, 2]}),
    (("a", "c", "d"), "=1", 1),
    (("a", "c", "e", 1), "=2", 2),
    (("a", "f"), ":\n  # about g\n  g: 1\n  h: |\n    text", {"g": 1, "h": "text\n"}),
    (("a", "list", 0), "- name: one\n  v: 1", {"name": "one", "v": 1}),
    (("a", "list", "1"), "-   name: two", {"name": "two"}),  # JSON Pointer tokens too
    (("a", "empty"), ": {}", {}),
    (("a", "null1"), ":", None),
    (("a", "null2"), ": ~  # none", None),
    (("a", "alias"), ": &anchor [1]", [1]),
])
def test_recorded_form_and_its_data(path: tuple[Any, ...], form: str, data: Any) -> None:
    doc = load_document(DOC)
    assert recorded_text(doc, path) == form
    assert verbatim_data(form) == (True, data)


@pytest.mark.parametrize("path", [(), ("a", "nope"), ("a", "list", 5), ("a", "other", 0),
                                  ("a", "b", "c")])
def test_no_recorded_form(path: tuple[Any, ...]) -> None:
    """The root, a path that leads nowhere, or through an alias (whose text is elsewhere)."""
    assert recorded_text(load_document(DOC), path) is None


def test_an_alias_is_recorded_but_does_not_read_alone() -> None:
    form = recorded_text(load_document(DOC), ("a", "other"))
    assert form == ": *anchor"
    assert verbatim_data(form) == (False, None)


def test_reindent() -> None:
    assert reindent(":\n  a: 1\n\n  b: 2", 4) == ":\n      a: 1\n\n      b: 2"
    assert reindent(": x", 9) == ": x"


def _pointer(path: tuple[Any, ...]) -> str:
    return "".join("/" + escape(str(t)) for t in path)


def test_a_verbatim_value_is_written_as_it_is() -> None:
    src = "a:\n  b: 1\n  c: 2\n"
    doc = load_document(src)
    out = apply_patch_to_text(doc, [{"op": "replace", "path": "/a/b",
                                     "value": Verbatim(": 0x1  # hex", 1)}])
    assert out == "a:\n  b: 0x1  # hex\n  c: 2\n"
    # a block value re-indented for its slot
    out = apply_patch_to_text(doc, [{"op": "replace", "path": "/a/c",
                                     "value": Verbatim(":\n  # kept\n  - 1", [1])}])
    assert out == "a:\n  b: 1\n  c:\n    # kept\n    - 1\n"


def test_a_verbatim_value_of_another_slot_kind_writes_its_data() -> None:
    src = "a: {b: 1}\n"
    out = apply_patch_to_text(load_document(src), [
        {"op": "replace", "path": "/a/b", "value": Verbatim(": 2  # block form", 2)}])
    assert out == "a: {b: 2}\n"


def test_a_verbatim_value_inside_new_content_is_data() -> None:
    src = "a: 1\n"
    out = apply_patch_to_text(load_document(src), [
        {"op": "add", "path": "/b", "value": {"c": 1}},
        {"op": "replace", "path": "/b/c", "value": Verbatim(": 0x2", 2)},
        {"op": "add", "path": "/d", "value": Verbatim(": 0x3", 3)},
    ])
    assert load_document(out).data == {"a": 1, "b": {"c": 2}, "d": 3}
    assert "0x" not in out


@pytest.mark.parametrize(("src", "change", "lossy"), [
    ("a:\n  b: 1\n", lambda d: d["a"].update(c=2), []),  # an added entry: removed line for line
    ("a:\n  b: 'x'\n", lambda d: d["a"].update(b="y"), []),  # quoting survives both ways
    ('a:\n  b: "http"\n', lambda d: d["a"].update(b=15020), [("a", "b")]),  # it does not
    ("a:\n  b: 1\n  c: 2\n", lambda d: d["a"].pop("b"), [("a",)]),  # it would come back last
    ("a: {}\n", lambda d: d["a"].update(b=1), [("a",)]),  # {} becomes a block
    ("a:\nb: 1\n", lambda d: d.update(a={"c": 1}), [("a",)]),  # so does a null
    ("a:\n  b: {c: 1}\n", lambda d: d["a"].update(b={"d": 1}), [("a", "b")]),
    ("a: &x {b: 1}\nc: *x\n", lambda d: d["a"].update(e=1), [("c",)]),  # alias expanded
])
def test_changes_name_what_the_inverse_would_not_give_back(
        src: str, change: Any, lossy: list[tuple[Any, ...]]) -> None:
    doc = load_document(src)
    new = copy.deepcopy(doc.data)
    change(new)
    changes = Changes()
    out = apply_patch_to_text(doc, make_patch(doc.data, new), changes)
    assert node_paths(doc, changes.lossy) == lossy
    if not lossy:  # and indeed: the inverse gives the bytes back
        assert apply_patch_to_text(load_document(out), make_patch(new, doc.data)) == src


def test_changes_say_which_slots_are_gone() -> None:
    src = "p:\n  tcp:\n    port: 1\n  period: 5\n"
    doc = load_document(src)
    changes = Changes()
    apply_patch_to_text(doc, make_patch(doc.data, {"p": {"period": 5, "http": {"port": 2}}}),
                        changes)
    kept = changes.kept(doc)
    assert kept(("p",)) and kept(("p", "period"))
    assert not kept(("p", "tcp")) and not kept(("p", "tcp", "port"))


def test_removing_last_lines_keeps_a_missing_final_line_break() -> None:
    src = "a:\n  b: 1"
    doc = load_document(src)
    out = apply_patch_to_text(doc, make_patch(doc.data, {"a": {"b": 1, "c": [1]}}))
    assert out == "a:\n  b: 1\n  c:\n    - 1"
    assert apply_patch_to_text(load_document(out), make_patch(load_document(out).data,
                                                              doc.data)) == src
    keep = "a: |+\n  x\n\nb: 1"  # a kept final break of a block scalar is content: left alone
    doc = load_document(keep)
    out = apply_patch_to_text(doc, make_patch(doc.data, {"a": "x\n\n"}))
    assert load_document(out).data == {"a": "x\n\n"}


def test_differing_paths() -> None:
    a = load_document("x:\n  a: 1\n  b: {c: 2}\n")
    b = load_document("x:\n  a: 1\n  b:\n    c: 2\n")
    assert differing_paths(a, b) == [("x", "b")]
    c = load_document("x:\n  a: 1  # one\n  b: {c: 2}\n")
    assert differing_paths(a, c) == [("x", "a")]
    assert differing_paths(a, a) == []
    assert differing_paths(a, load_document("# top\nx:\n  a: 1\n  b: {c: 2}\n")) is None


# --- the contract, on generated documents ------------------------------------------------

keys = st.sampled_from(["a", "b", "c", "d"])
scalars = st.one_of(st.integers(-3, 3), st.sampled_from(["x", "y z", "on", "1", ""]),
                    st.none(), st.booleans())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.dictionaries(keys, inner, max_size=3), st.lists(inner, max_size=3)), max_leaves=8)


def _write(value: dict[str, Any], ind: int, draw: Any) -> list[str]:
    """Block mapping lines in varied styles: quoting, flow children, comments."""
    pad = " " * ind
    lines: list[str] = []

    def scalar(v: Any) -> str:
        if v is None:
            return str(draw(st.sampled_from(["", "~", "null"])))
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        quote = draw(st.sampled_from(["", "'", '"']))
        if not quote and v in ("x", "y z"):
            return str(v)
        return f"{quote or chr(34)}{v}{quote or chr(34)}"

    for k, v in value.items():
        comment = draw(st.sampled_from(["", "  # c"]))
        if isinstance(v, dict) and v and draw(st.booleans()):
            lines.append(f"{pad}{k}:{comment}")
            lines.extend(_write(v, ind + 2, draw))
        elif isinstance(v, (dict, list)):
            lines.append(f"{pad}{k}: {json.dumps(v)}{comment}")
        else:
            lines.append(f"{pad}{k}: {scalar(v)}".rstrip() + comment)
    return lines


@settings(max_examples=300, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_recorded_forms_make_the_inverse_exact(data: st.DataObject) -> None:
    old = data.draw(st.dictionaries(keys, values, min_size=1, max_size=4))
    src = "\n".join(_write(old, 0, data.draw)) + "\n"
    doc = load_document(src)
    old = doc.data
    new = data.draw(st.dictionaries(keys, values, min_size=1, max_size=4))
    changes = Changes()
    out = apply_patch_to_text(doc, make_patch(old, new), changes)
    kept = changes.kept(doc)
    texts: dict[tuple[Any, ...], str] = {}
    for path in node_paths(doc, changes.lossy):
        while path:
            form = recorded_text(doc, path) if kept(path) else None
            if form is not None:
                texts[path] = form
                break
            path = path[:-1]
        assume(path != ())  # the root itself was written over: nothing records it
    injected = load_document(out)
    extra = []
    for path in texts:
        if any(path[:len(q)] == q and path != q for q in texts):
            continue  # inside another recorded node
        ok, value = verbatim_data(texts[path])
        assert ok
        extra.append({"op": "replace", "path": _pointer(path),
                      "value": Verbatim(texts[path], value)})
    assert apply_patch_to_text(injected, [*make_patch(injected.data, old), *extra]) == src
