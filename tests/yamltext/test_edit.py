"""apply_patch_to_text: the result means the patched data, and keeps every other byte.

Unit tests pin each rule with an exact expected text; property tests generate random trees,
write them in several styles (block with 2/3/4-space indent, indented and non-indented
sequences, flow sub-collections, comments, CRLF; JSON pretty and minified; YAML flow), mutate
them, and check (1) the result parses to the new data, (2) every original line that does not
belong to a removed/replaced node is still there, in order, byte for byte, (3) added block
content follows the document's indentation, (4) adding then removing restores the bytes.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import re
import time
from pathlib import Path
from typing import Any, NamedTuple

import jsonpatch
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshctl.yamltext.edit import PatchError, apply_patch_to_text
from meshctl.yamltext.patch import make_patch, parse_pointer
from meshctl.yamltext.source import MapNode, Node, SeqNode, load_document

GOLDEN = Path(__file__).resolve().parents[3] / "shared" / "istio-golden"


def edit(src: str, new: Any) -> str:
    """Patch ``src`` to ``new`` and check the result means ``new``."""
    doc = load_document(src)
    ops = make_patch(doc.data, new)
    assert jsonpatch.apply_patch(doc.data, ops) == new
    out = apply_patch_to_text(doc, ops)
    assert load_document(out).data == new, out
    return out


def change(src: str, fn: Any) -> str:
    new = copy.deepcopy(load_document(src).data)
    fn(new)
    return edit(src, new)


def ops_text(src: str, ops: list[dict[str, Any]]) -> str:
    doc = load_document(src)
    out = apply_patch_to_text(doc, ops)
    assert load_document(out).data == jsonpatch.apply_patch(doc.data, ops), out
    return out


def is_subsequence(needles: list[str], hay: list[str]) -> bool:
    it = iter(hay)
    return all(any(n == h for h in it) for n in needles)


# --- basics --------------------------------------------------------------------------------


def test_empty_ops_return_the_same_string() -> None:
    text = "a: 1 # c\n"
    doc = load_document(text)
    assert apply_patch_to_text(doc, []) is text


def test_replace_scalar_keeps_everything_else() -> None:
    src = "# top\na: 1   # one\nb:   'two'  # two\n\nc: [x]\n"
    assert change(src, lambda d: d.update(a=2, b="deux")) == (
        "# top\na: 2   # one\nb:   'deux'  # two\n\nc: [x]\n"
    )


def test_quoting_style_is_kept_where_possible() -> None:
    src = "a: 'x'\nb: \"y\"\nc: z\nd: 80\ne: 'p'\n"
    out = change(src, lambda d: d.update(a="new", b="n", c="yes", d="80", e="it's\nx"))
    assert out == "a: 'new'\nb: \"n\"\nc: 'yes'\nd: '80'\ne: |-\n  it's\n  x\n"
    out = change('a: "x"\n', lambda d: d.update(a="two\nlines"))
    assert out == 'a: "two\\nlines"\n'


def test_added_keys_go_after_the_glued_tail_comments() -> None:
    src = "metadata:\n  labels:\n    app: x\n    # tier: y\n  # about name\n  name: foo\n\n# end\n"
    out = change(src, lambda d: d["metadata"]["labels"].update(a="1", b="2"))
    assert out == (
        "metadata:\n  labels:\n    app: x\n    # tier: y\n    a: '1'\n    b: '2'\n"
        "  # about name\n  name: foo\n\n# end\n"
    )
    out = change(src, lambda d: d["metadata"].update(ns="nn"))
    assert out == (
        "metadata:\n  labels:\n    app: x\n    # tier: y\n  # about name\n  name: foo\n"
        "  ns: nn\n\n# end\n"
    )


def test_blank_line_separates_the_tail() -> None:
    src = "a:\n  b: 1\n\n  # later\nc: 2\n"
    assert change(src, lambda d: d["a"].update(x=1)) == "a:\n  b: 1\n  x: 1\n\n  # later\nc: 2\n"


def test_null_values_become_blocks() -> None:
    assert change(
        "m:\n  annotations:\n  name: x\n", lambda d: d["m"].update(annotations={"a/b": "c"})
    ) == ("m:\n  annotations:\n    a/b: c\n  name: x\n")
    assert change(
        "m:\n  annotations: ~ # none\n", lambda d: d["m"].update(annotations={"a": "b"})
    ) == ("m:\n  annotations: # none\n    a: b\n")
    assert change("l:\n- ~\n", lambda d: d.update(l=[["x"]])) == "l:\n- - x\n"


def test_empty_flow_in_block_context_becomes_block() -> None:
    src = "metadata:\n  labels: {}\nspec:\n  containers: []\n"
    out = change(
        src,
        lambda d: (
            d["metadata"]["labels"].update(a="b"),
            d["spec"]["containers"].append({"name": "c", "image": "i"}),
        ),
    )
    assert out == (
        "metadata:\n  labels:\n    a: b\nspec:\n  containers:\n    - name: c\n      image: i\n"
    )
    # and back: a block that loses all entries becomes {} / []
    assert edit(out, load_document(src).data) == src


def test_flow_collections_get_flow_additions() -> None:
    src = "metadata:\n  labels: {app: x}  # l\n  args: [a, b]\n"
    out = change(
        src,
        lambda d: (d["metadata"]["labels"].update(k="v w"), d["metadata"]["args"].insert(1, "z")),
    )
    assert out == "metadata:\n  labels: {app: x, k: v w}  # l\n  args: [a, z, b]\n"
    out = change(src, lambda d: d["metadata"]["args"].extend([{"x": [1, "a,b"]}, "y"]))
    assert out == "metadata:\n  labels: {app: x}  # l\n  args: [a, b, {x: [1, 'a,b']}, 'y']\n"


def test_multiline_flow_collection_gets_new_lines() -> None:
    src = "args: [\n  a,\n  b\n]\nm: {\n  k: v\n}\n"
    out = change(src, lambda d: (d["args"].append("c"), d["m"].update(j="w")))
    assert out == "args: [\n  a,\n  b,\n  c\n]\nm: {\n  k: v,\n  j: w\n}\n"


def test_removing_keys_and_items_removes_their_lines() -> None:
    src = (
        "spec:\n  containers:\n  # first\n  - name: a\n    image: x\n    # deep, belongs to a\n"
        "  # about b\n  - name: b\n  - name: c\n  other: 1 # c\n  last: 2\n"
    )
    out = change(src, lambda d: (d["spec"]["containers"].pop(0), d["spec"].pop("other")))
    assert (
        out == "spec:\n  containers:\n  # first\n  # about b\n  - name: b\n  - name: c\n  last: 2\n"
    )
    # a comment at the mapping's own column is the mapping's, not the removed entry's
    out = change(src, lambda d: d["spec"]["containers"][0].pop("image"))
    assert out == (
        "spec:\n  containers:\n  # first\n  - name: a\n    # deep, belongs to a\n"
        "  # about b\n  - name: b\n  - name: c\n  other: 1 # c\n  last: 2\n"
    )


def test_removing_the_compact_first_entry_keeps_the_dash() -> None:
    out = change("items:\n- a: 1\n  b: 2\n- a: 3\n", lambda d: d["items"][0].pop("a"))
    assert out == "items:\n-\n  b: 2\n- a: 3\n"
    # a compact nested sequence pulls its next item up (mirror of inserting before it)
    out = change("x:\n- - a\n  - b\n", lambda d: d["x"][0].pop(0))
    assert out == "x:\n- - b\n"
    out = change("x:\n- - a\n  # c\n  - b\n", lambda d: d["x"][0].pop(0))
    assert out == "x:\n-\n  # c\n  - b\n"
    out = change("x:\n- - a\n  - b\n", lambda d: d["x"][0].insert(0, "z"))
    assert out == "x:\n- - z\n  - a\n  - b\n"


def test_new_items_go_at_their_index_before_leading_comments() -> None:
    src = "c:\n# first\n- name: a\n# second\n- name: b\n"
    out = change(src, lambda d: d["c"].insert(1, {"name": "new", "x": [1, 2]}))
    assert out == "c:\n# first\n- name: a\n- name: new\n  x:\n  - 1\n  - 2\n# second\n- name: b\n"
    out = change(src, lambda d: d["c"].insert(0, {"name": "zero"}))
    assert out == "c:\n- name: zero\n# first\n- name: a\n# second\n- name: b\n"
    out = change(src + "# tail\n", lambda d: d["c"].append({"name": "z"}))
    assert out == src + "# tail\n- name: z\n"


@pytest.mark.parametrize(
    ("src", "expect"),
    [
        (  # 2 spaces, indented sequences
            "spec:\n  containers:\n    - name: a\n",
            "spec:\n  containers:\n    - name: a\n      env:\n        - name: E\n"
            "  volumes:\n    - name: v\n      emptyDir:\n        medium: Memory\n",
        ),
        (  # 2 spaces, sequences not indented
            "spec:\n  containers:\n  - name: a\n",
            "spec:\n  containers:\n  - name: a\n    env:\n    - name: E\n"
            "  volumes:\n  - name: v\n    emptyDir:\n      medium: Memory\n",
        ),
        (  # 4 spaces, "-   " items
            "spec:\n    containers:\n    -   name: a\n",
            "spec:\n    containers:\n    -   name: a\n        env:\n        -   name: E\n"
            "    volumes:\n    -   name: v\n        emptyDir:\n            medium: Memory\n",
        ),
    ],
)
def test_added_content_follows_the_document_style(src: str, expect: str) -> None:
    def fn(d: Any) -> None:
        d["spec"]["containers"][0]["env"] = [{"name": "E"}]
        d["spec"]["volumes"] = [{"name": "v", "emptyDir": {"medium": "Memory"}}]

    assert change(src, fn) == expect


def test_style_of_the_nearest_ancestor_wins() -> None:
    # the top uses 2 spaces, the template section 4
    src = "a:\n  b: 1\nt:\n    spec:\n        x: 1\n"
    out = change(src, lambda d: d["t"]["spec"].update(nn={"m": 1}))
    assert out == src + "        nn:\n            m: 1\n"


def test_json_pretty_stays_pretty_json() -> None:
    src = json.dumps({"a": {"b": 1, "c": []}, "d": [1]}, indent=4) + "\n"
    out = change(
        src,
        lambda d: (
            d["a"].update(e={"f": [1, "x"]}),
            d["a"]["c"].append({"g": 1}),
            d["d"].append(2),
        ),
    )
    new = json.loads(out)
    assert out == json.dumps(new, indent=4) + "\n"
    out2 = change(out, lambda d: (d["a"].pop("e"), d["a"]["c"].pop(), d["d"].pop()))
    assert out2 == src


def test_json_minified_stays_one_line() -> None:
    src = json.dumps({"a": {"b": 1}, "d": [1]}, separators=(",", ":"))
    out = change(src, lambda d: (d["a"].update(e={"f": [1, "x"]}), d.pop("d")))
    assert out == '{"a":{"b":1,"e":{"f":[1,"x"]}}}'
    src = json.dumps({"a": {"b": 1}})
    assert change(src, lambda d: d["a"].update(c="x\ny")) == '{"a": {"b": 1, "c": "x\\ny"}}'


def test_kubectl_json_output() -> None:
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"annotations": {}, "name": "x"},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "i"}]}}},
    }
    src = json.dumps(obj, indent=4) + "\n"

    def fn(d: Any) -> None:
        d["metadata"]["annotations"]["sidecar.istio.io/status"] = '{"a":1}'
        d["spec"]["template"]["spec"]["containers"].append({"name": "istio-proxy", "args": ["x"]})

    out = change(src, fn)
    assert json.loads(out)["metadata"]["annotations"] == {"sidecar.istio.io/status": '{"a":1}'}
    assert out == json.dumps(json.loads(out), indent=4) + "\n"


# --- anchors, aliases, merges ------------------------------------------------------------


def test_change_through_a_flow_alias_stays_local() -> None:
    src = (
        "spec:\n  selector:\n    matchLabels: &l {app: x}\n"
        "  template:\n    metadata:\n      labels: *l\n"
    )
    out = change(src, lambda d: d["spec"]["template"]["metadata"]["labels"].update(v="1"))
    assert load_document(out).data["spec"]["selector"]["matchLabels"] == {"app": "x"}
    assert "matchLabels: &l {app: x}\n" in out


def test_change_at_the_anchor_expands_the_alias() -> None:
    # anchor on the template labels, alias at the selector (the reverse direction)
    src = (
        "spec:\n  template:\n    metadata:\n      labels: &l\n        app: x\n"
        "  selector:\n    matchLabels: *l\n"
    )
    out = change(src, lambda d: d["spec"]["template"]["metadata"]["labels"].update(v="1"))
    assert load_document(out).data["spec"]["selector"]["matchLabels"] == {"app": "x"}
    assert out == (
        "spec:\n  template:\n    metadata:\n      labels: &l\n        app: x\n        v: '1'\n"
        "  selector:\n    matchLabels:\n      app: x\n"
    )


def test_block_anchor_alias_in_sequence_and_flow() -> None:
    src = "a: &l\n  app: x\nb: *l\nc: [*l]\nd:\n- *l\n"
    out = change(src, lambda d: d["a"].update(v="1"))
    assert out == "a: &l\n  app: x\n  v: '1'\nb:\n  app: x\nc: [{app: x}]\nd:\n- app: x\n"


def test_removing_an_anchor_expands_its_aliases() -> None:
    src = "a: &x [1, 2]\nb: *x\n"
    assert change(src, lambda d: d.pop("a")) == "b: [1, 2]\n"
    src = "a: &x v\nb: *x\n"
    assert change(src, lambda d: d.update(a="w")) == "a: w\nb: v\n"


def test_untouched_aliases_stay() -> None:
    src = "a: &x {k: 1}\nb: *x\nc: 1\n"
    assert change(src, lambda d: d.update(c=2)) == "a: &x {k: 1}\nb: *x\nc: 2\n"


def test_merge_keys() -> None:
    src = "base: &b\n  x: 1\n  y: 2\nm:\n  <<: *b\n  z: 3\n"
    assert change(src, lambda d: d["m"].update(w=4)) == src + "  w: 4\n"
    assert change(src, lambda d: d["m"].update(x=9)) == src + "  x: 9\n"
    out = change(src, lambda d: d["m"].pop("x"))
    assert out == "base: &b\n  x: 1\n  y: 2\nm:\n  z: 3\n  'y': 2\n"
    out = change(src, lambda d: d["base"].update(x=5))
    assert out == "base: &b\n  x: 5\n  y: 2\nm:\n  z: 3\n  x: 1\n  'y': 2\n"
    src2 = "a: &a {p: 1}\nb: &b {q: 2}\nm: {<<: [*a, *b], r: 3}\n"
    out = change(src2, lambda d: d["b"].update(q=7))
    assert load_document(out).data["m"] == {"p": 1, "q": 2, "r": 3}


def test_merge_removing_a_local_key_that_a_merge_also_has() -> None:
    src = "b: &b {x: 1}\nm:\n  <<: *b\n  x: 2\n"
    out = change(src, lambda d: d["m"].pop("x"))
    assert load_document(out).data["m"] == {}


# --- scalars that span lines, markers, line endings --------------------------------------


def test_multiline_scalars_are_replaced_whole() -> None:
    src = "a: |\n  line1\n  line2\n\nb: plain\n  continued\nc: 'q\n  x'\nd: >-\n  f\n  g\ne: 1\n"
    out = change(src, lambda d: d.update(a="x\ny\n", b="p", c="r", d="s\n"))
    assert out == "a: |\n  x\n  y\n\nb: p\nc: 'r'\nd: |\n  s\ne: 1\n"
    out = change(src, lambda d: [d.pop(k) for k in "abcd"])
    assert out == "\ne: 1\n"  # the blank line after the block scalar is not part of it
    out = change("a: |+\n  k\n\nb: 1\n", lambda d: d.update(a="z"))
    assert out == "a: z\nb: 1\n"


def test_document_markers_and_directives() -> None:
    src = "%YAML 1.2\n---\n# head\na: 1\n...\n"
    assert (
        change(src, lambda d: d.update(b={"c": 1}))
        == "%YAML 1.2\n---\n# head\na: 1\nb:\n  c: 1\n...\n"
    )
    src = "--- # doc\na:\n  b: 1\n"
    assert change(src, lambda d: d["a"].update(c=2)) == src + "  c: 2\n"


def test_crlf() -> None:
    src = "a:\r\n  b: 1 # c\r\n  c: [1]\r\n"
    out = change(src, lambda d: (d["a"].update(n={"x": "y", "l": ["a"]}), d["a"]["c"].append(2)))
    assert (
        out == "a:\r\n  b: 1 # c\r\n  c: [1, 2]\r\n  'n':\r\n    x: 'y'\r\n    l:\r\n      - a\r\n"
    )
    back = change(out, lambda d: (d["a"].pop("n"), d["a"]["c"].pop()))
    assert back == src


def test_no_final_newline() -> None:
    out = change("a: 1\nb:\n  c: 2", lambda d: (d["b"].update(d=3), d.update(e=4)))
    assert out == "a: 1\nb:\n  c: 2\n  d: 3\ne: 4"


def test_replacing_containers() -> None:
    src = "a:\n  b: 1\n  # inner\nc: x # keep\n"
    assert change(src, lambda d: d.update(a=5)) == "a: 5\nc: x # keep\n"
    assert change(src, lambda d: d.update(a=None)) == "a:\nc: x # keep\n"
    assert change(src, lambda d: d.update(c=[1, {"k": "v"}])) == (
        "a:\n  b: 1\n  # inner\nc: # keep\n  - 1\n  - k: v\n"
    )
    assert change(src, lambda d: d.update(a=["q"])) == "a:\n  - q\nc: x # keep\n"


def test_duplicate_keys() -> None:
    """meshctl refuses duplicate keys; the engine still edits them right when allowed (the
    last one counts)."""
    src = "a: 1\nb: 2\na: 3\n"

    def dup_change(fn: Any) -> str:
        doc = load_document(src, allow_duplicates=True)
        new = copy.deepcopy(doc.data)
        fn(new)
        out = apply_patch_to_text(doc, make_patch(doc.data, new))
        assert load_document(out, allow_duplicates=True).data == new, out
        return out

    assert dup_change(lambda d: d.update(a=4)) == "a: 1\nb: 2\na: 4\n"
    assert dup_change(lambda d: d.pop("a")) == "b: 2\n"


def test_empty_document_gets_content() -> None:
    assert ops_text("# nothing\n", [{"op": "add", "path": "", "value": {"x": 1}}]) == (
        "# nothing\nx: 1\n"
    )
    assert ops_text("---\n...\n", [{"op": "add", "path": "", "value": {"x": 1}}]) == (
        "---\nx: 1\n...\n"
    )


def test_replace_whole_document() -> None:
    out = ops_text("# c\na: 1\n", [{"op": "replace", "path": "", "value": {"x": [1, {"y": 2}]}}])
    assert out == "# c\nx:\n  - 1\n  - 'y': 2\n"


def test_general_ops_move_copy_test() -> None:
    src = "a:\n  b: 1\n  c: [x, y]\nd: {}\n"
    out = ops_text(
        src,
        [
            {"op": "test", "path": "/a/b", "value": 1},
            {"op": "copy", "from": "/a/c", "path": "/d/c"},
            {"op": "move", "from": "/a/b", "path": "/d/b"},
            {"op": "add", "path": "/a/c/-", "value": "z"},
            {"op": "add", "path": "/d/c/0", "value": "w"},
        ],
    )
    assert out == "a:\n  c: [x, y, z]\nd:\n  c:\n    - w\n    - x\n    - 'y'\n  b: 1\n"


@pytest.mark.parametrize(
    "op",
    [
        {"op": "remove", "path": "/nope"},
        {"op": "replace", "path": "/nope", "value": 1},
        {"op": "add", "path": "/l/5", "value": 1},
        {"op": "add", "path": "/l/01", "value": 1},
        {"op": "add", "path": "/a/x", "value": 1},
        {"op": "test", "path": "/a", "value": 2},
        {"op": "test", "path": "/a", "value": True},
        {"op": "frobnicate", "path": "/a"},
        {"op": "add", "path": "a", "value": 1},
        {"op": "add", "path": "/x"},
        {"op": "move", "path": "/x"},
        {"op": "move", "from": "/l", "path": "/l/0"},
        {"op": "add", "path": "/a/b/c", "value": 1},
    ],
)
def test_bad_ops_raise(op: dict[str, Any]) -> None:
    with pytest.raises(PatchError):
        apply_patch_to_text(load_document("a: 1\nl: [1]\n"), [op])


def test_pointer_escapes_in_text() -> None:
    src = "metadata:\n  annotations:\n    a/b: 1\n    c~d: 2\n"
    out = ops_text(
        src,
        [
            {"op": "replace", "path": "/metadata/annotations/a~1b", "value": 3},
            {"op": "remove", "path": "/metadata/annotations/c~0d"},
            {"op": "add", "path": "/metadata/annotations/e~1f", "value": "g"},
        ],
    )
    assert out == "metadata:\n  annotations:\n    a/b: 3\n    e/f: g\n"


def test_ops_into_new_content_do_not_touch_the_caller_value() -> None:
    value = {"k": {"x": 1}}
    out = ops_text(
        "a: 1\n",
        [
            {"op": "add", "path": "/nn", "value": value},
            {"op": "add", "path": "/nn/k/y", "value": 2},
        ],
    )
    assert value == {"k": {"x": 1}}
    assert out == "a: 1\nnn:\n  k:\n    x: 1\n    'y': 2\n"


# --- Kubernetes-shaped: Istio's hello.yaml --------------------------------------------


def hello_new() -> tuple[str, Any]:
    src = (GOLDEN / "inject" / "hello.yaml").read_text()
    injected = yaml.safe_load(
        split_docs((GOLDEN / "inject" / "hello.yaml.injected").read_text())[0]
    )
    injected.pop("status", None)
    injected["spec"].pop("strategy", None)
    for c in injected["spec"]["template"]["spec"]["containers"]:
        if c.get("resources") == {}:
            del c["resources"]
    return src, injected


@pytest.mark.skipif(not GOLDEN.exists(), reason="shared test data not available")
def test_hello_injection() -> None:
    src, new = hello_new()
    out = edit(src, new)
    assert is_subsequence(src.splitlines(), out.splitlines())
    assert out.startswith(src.split("    spec:")[0])  # labels: appended after the last label
    # the added content follows the document: 2 spaces, indented sequences
    assert "      initContainers:\n        - args:\n            - istio-iptables\n" in out
    assert "              value: |-\n                [\n" in out  # JSON env value: literal block
    # and uninject restores the original bytes
    assert edit(out, load_document(src).data) == src


@pytest.mark.skipif(not GOLDEN.exists(), reason="shared test data not available")
def test_hello_timing() -> None:
    src, new = hello_new()
    n = 200
    t0 = time.perf_counter()
    for _ in range(n):
        doc = load_document(src)
        apply_patch_to_text(doc, make_patch(doc.data, new))
    per_doc = (time.perf_counter() - t0) / n
    assert per_doc < 0.005, f"{per_doc * 1e6:.0f} us per document"


def split_docs(text: str) -> list[str]:
    parts = re.split(r"(?m)^(?=---(?:[ \t].*)?\r?$)", text)
    return [p for p in parts if p.strip() not in ("", "---")]


@pytest.mark.skipif(not GOLDEN.exists(), reason="shared test data not available")
def test_istio_golden_pairs() -> None:
    """Patch every golden input document into its expected output (Istio's noise and all),
    and back: the text means the target both ways and every input comment survives."""
    cases = yaml.safe_load((GOLDEN / "cases.yaml").read_text())["cases"]
    seen = set()
    pairs = additions = 0
    for case in cases:
        if not case.get("golden") or (case["input"], case["golden"]) in seen:
            continue
        seen.add((case["input"], case["golden"]))
        ip, gp = GOLDEN / "inject" / case["input"], GOLDEN / "inject" / case["golden"]
        if not ip.exists() or not gp.exists():
            continue
        ins, outs = split_docs(ip.read_text()), split_docs(gp.read_text())
        if len(ins) != len(outs):
            continue
        for a, b in zip(ins, outs, strict=True):
            try:
                target = load_document(b).data
                src_doc = load_document(a)
            except Exception:
                continue
            if not isinstance(target, dict) or not isinstance(src_doc.data, dict):
                continue
            out = edit(a, target)
            if all(op["op"] == "add" for op in make_patch(src_doc.data, target)):
                assert is_subsequence(a.splitlines(), out.splitlines()), case["golden"]
                additions += 1
            edit(out, src_doc.data)
            pairs += 1
    assert pairs > 50 and additions > 5


# --- property tests ----------------------------------------------------------------------

KEYS = [
    "a",
    "b",
    "c",
    "name",
    "image",
    "app",
    "x/y",
    "a~b",
    "yes",
    "on",
    "1",
    "k: v",
    "#k",
    "-",
    "é",
    "null",
    "y",
]
TRICKY = [
    "",
    " x",
    "x ",
    "yes",
    "no",
    "~",
    "null",
    "0755",
    "1e3",
    ".inf",
    "2001-01-01",
    "a: b",
    "a #b",
    "-",
    "- a",
    "-p",
    "?x",
    ":x",
    "[x]",
    "{x}",
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
    "0x1F",
    "1_0",
    "15020",
    "a\nb",
    "a\n",
    "\n",
    "x\n\n",
    "a,b",
    "---",
    "é",
    "x\u2028y",
    "x\x85y",
    "x\x7fy",
    "\tx",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(TRICKY),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=8),
)
keys = st.one_of(
    st.sampled_from(KEYS), st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=5)
)
trees = st.recursive(
    scalars,
    lambda ch: st.one_of(st.lists(ch, max_size=4), st.dictionaries(keys, ch, max_size=4)),
    max_leaves=16,
)
roots = st.dictionaries(keys, trees, min_size=1, max_size=5)


@st.composite
def mutated(draw: Any, v: Any, depth: int = 0) -> Any:
    r = draw(st.integers(0, 11))
    if r == 0 and depth > 0:
        return draw(trees)
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            a = draw(st.integers(0, 5))
            if a == 0:
                continue
            out[k] = draw(mutated(x, depth + 1)) if a == 1 else x
        for _ in range(draw(st.integers(0, 2))):
            k = draw(keys)
            if k not in out:
                out[k] = draw(trees)
        return out
    if isinstance(v, list):
        out_l: list[Any] = []
        for x in v:
            a = draw(st.integers(0, 6))
            if a == 0:
                continue
            if a == 1:
                out_l.append(draw(trees))
            out_l.append(draw(mutated(x, depth + 1)) if a == 2 else x)
        for _ in range(draw(st.integers(0, 2))):
            out_l.append(draw(trees))
        return out_l
    return draw(scalars) if r < 3 else v


@st.composite
def added(draw: Any, v: Any, counter: list[int]) -> Any:
    """Only additions, each holding a unique marker (so the reverse patch is unambiguous)."""

    def fresh() -> Any:
        # keys longer than any generated key, so a fresh mapping shares nothing with old ones
        counter[0] += 1
        if draw(st.booleans()):
            return {"marker-key": f"mark{counter[0]}", "marker-value": draw(trees)}
        return f"mark{counter[0]}"

    if isinstance(v, dict):
        out = {k: draw(added(x, counter)) for k, x in v.items()}
        for _ in range(draw(st.integers(0, 2))):
            counter[0] += 1
            k = f"new{counter[0]}"
            out[k] = fresh()
        return out
    if isinstance(v, list):
        out_l = [draw(added(x, counter)) for x in v]
        for _ in range(draw(st.integers(0, 2))):
            out_l.insert(draw(st.integers(0, len(out_l))), fresh())
        return out_l
    return v


# -- a test-side writer that knows which original node every line belongs to --


class Line(NamedTuple):
    text: str
    deps: tuple[tuple[str, tuple[Any, ...]], ...]  # ("alive"|"kept"|"empty"|"same"|"first", path)


def _load_ok(text: str, expect: Any) -> bool:
    try:
        return load_document(text).data == expect and yaml.safe_load(text) == expect
    except Exception:
        return False


@functools.cache
def plain_value_ok(s: str, flow: bool) -> bool:
    if "\n" in s or "\r" in s or not s.isprintable():
        return False
    if flow:
        return _load_ok(f"k: [{s}, {{{s}: 1}}]\n", {"k": [s, {s: 1}]})
    return (
        _load_ok(f"k: {s}\n", {"k": s})
        and _load_ok(f"- {s}\n", [s])
        and _load_ok(f"{s}: 1\n", {s: 1})
    )


def yaml_double(s: str) -> str:
    """Double-quoted, every non-ASCII or non-printable character escaped (YAML escapes)."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= o < 127:
            out.append(ch)
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    return '"' + "".join(out) + '"'


def w_scalar(v: Any, rnd: random.Random, flow: bool) -> str:
    if isinstance(v, str):
        opts = [yaml_double(v)]
        if plain_value_ok(v, flow):
            opts.append(v)
        if v.isascii() and v.isprintable():
            opts.append("'" + v.replace("'", "''") + "'")
        return rnd.choice(opts)
    if isinstance(v, float):
        r = repr(v)
        return r if "." in r or "e" not in r else r.replace("e", ".0e")
    return json.dumps(v)


def w_literal(v: str, col: int) -> list[str] | None:
    """A literal block for simple multi-line text, else None."""
    if not v.isascii() or "\r" in v or v.endswith("\n\n") or v.strip("\n") == "":
        return None
    lines = v.split("\n")
    if v.endswith("\n"):
        lines.pop()
        head = "|"
    else:
        head = "|-"
    if any(ln.endswith((" ", "\t")) or not ln.isprintable() for ln in lines):
        return None
    if not lines[0] or lines[0][0] in " \t":
        return None
    return [head] + [(" " * col + ln) if ln else "" for ln in lines]


class BlockWriter:
    def __init__(
        self,
        rnd: random.Random,
        indent: int,
        seq_indent: int,
        off: int,
        comments: float,
        flows: float,
    ) -> None:
        self.rnd = rnd
        self.indent = indent
        self.seq_indent = seq_indent
        self.off = off
        self.comments = comments
        self.flows = flows
        self.n = 0

    def comment(self, col: int, owner: tuple[Any, ...]) -> Line:
        self.n += 1
        return Line(" " * col + f"# c{self.n}", (("alive", owner), ("kept", owner)))

    def flow(self, v: Any) -> str:
        if isinstance(v, dict):
            return (
                "{"
                + ", ".join(w_scalar(k, self.rnd, True) + ": " + self.flow(x) for k, x in v.items())
                + "}"
            )
        if isinstance(v, list):
            return "[" + ", ".join(self.flow(x) for x in v) + "]"
        return w_scalar(v, self.rnd, True)

    def value_lines(
        self, v: Any, path: tuple[Any, ...], col: int, head: str, head_deps: tuple[Any, ...]
    ) -> list[Line]:
        """Lines for a value following ``head`` (``key:`` or ``-``) at ``col``."""
        if isinstance(v, (dict, list)):
            if not v:
                return [
                    Line(
                        head + " " + ("{}" if isinstance(v, dict) else "[]"),
                        (*head_deps, ("alive", path), ("empty", path)),
                    )
                ]
            if self.rnd.random() < self.flows:
                return [Line(head + " " + self.flow(v), (*head_deps, ("same", path)))]
        if isinstance(v, str) and "\n" in v and self.rnd.random() < 0.5:
            lit = w_literal(v, col)
            if lit is not None:
                deps = (*head_deps, ("alive", path))
                return [Line(head + " " + lit[0], deps)] + [Line(x, deps) for x in lit[1:]]
        if not isinstance(v, (dict, list)):
            return [Line(head + " " + w_scalar(v, self.rnd, False), (*head_deps, ("alive", path)))]
        return []

    def map_lines(
        self, m: dict[str, Any], path: tuple[Any, ...], col: int, parent_col: int
    ) -> list[Line]:
        out: list[Line] = []
        for i, (k, v) in enumerate(m.items()):
            if i and self.rnd.random() < self.comments:
                if self.rnd.random() < 0.2:
                    out.append(Line("", ()))
                out.append(self.comment(col, path))
            p = (*path, k)
            head = " " * col + w_scalar(k, self.rnd, False) + ":"
            lines = self.value_lines(v, p, col + self.indent, head, ())
            if lines:
                out.extend(lines)
                continue
            out.append(Line(head, (("alive", p), ("kept", p))))
            if isinstance(v, dict):
                out.extend(self.map_lines(v, p, col + self.indent, col))
            else:
                out.extend(self.seq_lines(v, p, col + self.seq_indent, col))
        if self.rnd.random() < self.comments:
            owner = path if col > parent_col else path[:-1]
            out.append(self.comment(col, owner))
        return out

    def seq_lines(
        self, s: list[Any], path: tuple[Any, ...], dcol: int, parent_col: int, compact: bool = False
    ) -> list[Line]:
        out: list[Line] = []
        clean = True
        for i, v in enumerate(s):
            if self.rnd.random() < self.comments:
                out.append(self.comment(dcol, path))
                clean = False
            p = (*path, i)
            head = " " * dcol + "-"
            # in "- - a\n  - b", b's line moves up when the items before it go (unless a
            # comment sits between them)
            hd: tuple[Any, ...] = (("first", path),) if compact and i and clean else ()
            lines = self.value_lines(v, p, dcol + self.off, head, hd)
            if lines:
                out.extend(lines)
                continue
            # compact: the first line of the nested block goes on the dash line
            if isinstance(v, dict):
                inner = self.map_lines(v, p, dcol + self.off, dcol)
            else:
                inner = self.seq_lines(v, p, dcol + self.off, dcol, compact=True)
            # the first inner line that is not a comment joins the dash
            j = next(
                k
                for k, ln in enumerate(inner)
                if not ln.text.lstrip().startswith("#") and ln.text.strip()
            )
            first = inner[j]
            extra: tuple[Any, ...] = (("first", p),) if isinstance(v, list) else ()
            if j:
                # a comment before the first item of a compact nested list: not compact then
                out.append(Line(head, (*hd, ("alive", p), ("kept", p))))
                out.extend(inner)
                continue
            out.append(Line(" " * dcol + "-" + first.text[dcol + 1 :], (*hd, *first.deps, *extra)))
            out.extend(inner[1:])
        if self.rnd.random() < self.comments:
            owner = path if dcol > parent_col else path[:-1]
            out.append(self.comment(dcol, owner))
        return out


def write_block(
    v: dict[str, Any],
    rnd: random.Random,
    style: tuple[int, int, int],
    comments: float,
    flows: float,
) -> list[Line]:
    w = BlockWriter(rnd, *style, comments=comments, flows=flows)
    lines = [w.comment(0, ())] if rnd.random() < comments else []
    lines += w.map_lines(v, (), 0, -1)
    return lines


_JSON_NONPRINT = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def kube_json(v: Any, **kw: Any) -> str:
    """JSON the way kubectl writes it: raw UTF-8 (no surrogate-pair escapes, which YAML
    parsers reject), only characters YAML cannot hold raw escaped."""
    out = json.dumps(v, ensure_ascii=False, **kw)
    return _JSON_NONPRINT.sub(lambda m: f"\\u{ord(m.group()):04x}", out)


def write_json(v: Any, indent: int) -> list[Line]:
    out: list[Line] = []

    def rec(x: Any, path: tuple[Any, ...], col: int, head: str, tail: str) -> None:
        if isinstance(x, (dict, list)) and x:
            o, c = ("{", "}") if isinstance(x, dict) else ("[", "]")
            deps = (("alive", path), ("kept", path))
            out.append(Line(" " * col + head + o, deps))
            items = list(x.items()) if isinstance(x, dict) else list(enumerate(x))
            for i, (k, y) in enumerate(items):
                h = kube_json(k) + ": " if isinstance(x, dict) else ""
                rec(y, (*path, k), col + indent, h, "," if i < len(items) - 1 else "")
            out.append(Line(" " * col + c + tail, deps))
        elif isinstance(x, (dict, list)):
            e = "{}" if isinstance(x, dict) else "[]"
            out.append(Line(" " * col + head + e + tail, (("alive", path), ("empty", path))))
        else:
            out.append(Line(" " * col + head + kube_json(x) + tail, (("alive", path),)))

    rec(v, (), 0, "", "")
    return out


# -- which original nodes survive a patch (a tiny shadow interpreter of the ops) --


class Shadow:
    __slots__ = ("label", "kids", "touched")

    def __init__(self, v: Any, label: tuple[Any, ...] | None) -> None:
        self.label = label
        self.touched = False
        sub = (lambda k: (*label, k)) if label is not None else (lambda k: None)
        if isinstance(v, dict):
            self.kids: Any = {k: (sub(k), Shadow(x, sub(k))) for k, x in v.items()}
        elif isinstance(v, list):
            self.kids = [(sub(i), Shadow(x, sub(i))) for i, x in enumerate(v)]
        else:
            self.kids = None


def survivors(old: Any, ops: list[dict[str, Any]]) -> dict[str, set[tuple[Any, ...]]]:
    root = Shadow(old, ())
    for op in ops:
        toks = parse_pointer(op["path"])
        cur = root
        for t in toks[:-1]:
            cur.touched = True
            cur = cur.kids[t][1] if isinstance(cur.kids, dict) else cur.kids[int(t)][1]
        cur.touched = True
        last = toks[-1]
        kids = cur.kids
        if op["op"] == "remove":
            if isinstance(kids, dict):
                del kids[last]
            else:
                del kids[int(last)]
        elif isinstance(kids, dict):
            slot = kids[last][0] if last in kids else None
            kids[last] = (slot, Shadow(op["value"], None))
        elif op["op"] == "add":
            kids.insert(int(last), (None, Shadow(op["value"], None)))
        else:
            kids[int(last)] = (kids[int(last)][0], Shadow(op["value"], None))
    res: dict[str, set[tuple[Any, ...]]] = {
        k: set() for k in ("alive", "kept", "empty", "same", "first")
    }

    def walk(s: Shadow) -> bool:
        """Collect facts; return whether the subtree is unchanged."""
        if s.label is None:
            return False
        res["alive"].add(s.label)
        same = not s.touched
        if s.kids is not None:
            slots = list(s.kids.values()) if isinstance(s.kids, dict) else s.kids
            if not slots:
                res["empty"].add(s.label)
            if any(lbl is not None for lbl, _c in slots):
                res["kept"].add(s.label)
            if isinstance(s.kids, list) and slots and slots[0][0] == (*s.label, 0):
                res["first"].add(s.label)
            for _lbl, c in slots:
                same = walk(c) and same
        if same:
            res["same"].add(s.label)
        return same

    walk(root)
    return res


def expected_lines(lines: list[Line], facts: dict[str, set[tuple[Any, ...]]]) -> list[str]:
    return [
        ln.text
        for ln in lines
        if ln.text.strip() and all(path in facts[kind] for kind, path in ln.deps)
    ]


def block_layout(text: str) -> dict[str, set[int]]:
    """The indentation steps a document shows: map in map, dash under key, compact item."""
    seen: dict[str, set[int]] = {"indent": set(), "seq": set(), "off": set()}
    doc = load_document(text)

    def col(p: int) -> int:
        return p - (text.rfind("\n", 0, p) + 1)

    def dash(item: Node) -> int:
        j = item.start - 1
        while text[j] == " ":
            j -= 1
        return j

    def rec(n: Node, key_col: int | None, dash_pos: int | None) -> None:
        if isinstance(n, MapNode) and not n.flow:
            k0 = n.entries[0][0].start
            c = col(k0)
            if key_col is not None:
                seen["indent"].add(c - key_col)
            if dash_pos is not None and text.rfind("\n", 0, k0) < dash_pos:
                seen["off"].add(k0 - dash_pos)  # compact "- key"
            for _k, v, _ks in n.entries:
                rec(v, c, None)
        elif isinstance(n, SeqNode) and not n.flow:
            for it in n.items:
                dp = dash(it)
                if text[dp] != "-":
                    continue  # item on the line after its dash
                if key_col is not None:
                    seen["seq"].add(col(dp) - key_col)
                if dash_pos is not None and text.rfind("\n", 0, dp) < dash_pos:
                    seen["off"].add(dp - dash_pos)
                rec(it, None, dp)

    if doc.root is not None:
        rec(doc.root, None, None)
    return seen


def check_style(src: str, out: str) -> None:
    """Added block content follows the layout the original shows (where it shows one)."""
    before = block_layout(src)
    after = block_layout(out)
    for aspect, steps in before.items():
        if steps:
            assert after[aspect] <= steps, (aspect, src, out)


STYLES = [(2, 2, 2), (2, 0, 2), (4, 4, 2), (4, 0, 4), (3, 1, 2)]


@st.composite
def block_case(draw: Any) -> tuple[str, list[Line], Any, Any, tuple[int, int, int] | None]:
    old = draw(roots)
    new = draw(mutated(old))
    style = draw(st.sampled_from(STYLES))
    rnd = random.Random(draw(st.integers(0, 2**32)))
    comments = draw(st.sampled_from([0.0, 0.3, 0.8]))
    flows = draw(st.sampled_from([0.0, 0.0, 0.3]))
    lines = write_block(old, rnd, style, comments, flows)
    nl = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    text = nl.join(ln.text for ln in lines) + nl
    return text, lines, old, new, style if not flows else None


prop = settings(
    max_examples=int(__import__("os").environ.get("PROP_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@given(block_case())
@prop
def test_property_block(
    case: tuple[str, list[Line], Any, Any, tuple[int, int, int] | None],
) -> None:
    text, lines, old, new, style = case
    doc = load_document(text)
    assert doc.data == old, text
    ops = make_patch(old, new)
    out = apply_patch_to_text(doc, ops)
    assert load_document(out).data == new, (text, ops, out)
    facts = survivors(old, ops)
    keep = expected_lines(lines, facts)
    assert is_subsequence(keep, out.splitlines()), (text, ops, out)
    if "\r\n" in text:
        assert out.count("\n") == out.count("\r\n")
    if style is not None:  # no flow sub-collections (they may become blocks in any style)
        check_style(text, out)


@given(roots, st.data())
@prop
def test_property_json(old: Any, data: Any) -> None:
    new = data.draw(mutated(old))
    indent = data.draw(st.sampled_from([None, 2, 4]))
    if indent is None:
        seps = data.draw(st.sampled_from([(",", ":"), (", ", ": ")]))
        text = kube_json(old, separators=seps)
        lines = None
    else:
        lines = write_json(old, indent)
        text = "\n".join(ln.text for ln in lines) + "\n"
    doc = load_document(text)
    ops = make_patch(old, new)
    out = apply_patch_to_text(doc, ops)
    assert load_document(out).data == new, (text, ops, out)
    assert json.loads(out) == new, out  # still JSON
    if indent is None:
        assert "\n" not in out.strip()
    else:
        assert lines is not None
        keep = [t.rstrip(",") for t in expected_lines(lines, survivors(old, ops))]
        assert is_subsequence(keep, [ln.rstrip(",") for ln in out.splitlines()]), (text, ops, out)


@given(roots, st.data())
@prop
def test_property_yaml_flow(old: Any, data: Any) -> None:
    new = data.draw(mutated(old))
    rnd = random.Random(data.draw(st.integers(0, 2**32)))
    text = "--- " + BlockWriter(rnd, 2, 2, 2, 0, 1).flow(old) + "\n"
    doc = load_document(text)
    out = apply_patch_to_text(doc, make_patch(old, new))
    assert load_document(out).data == new, (text, out)


@given(roots, st.data())
@prop
def test_property_add_then_remove_restores_bytes(old: Any, data: Any) -> None:
    new = data.draw(added(old, [0]))
    kind = data.draw(st.sampled_from(["block", "block", "json", "jsonmin", "flow"]))
    rnd = random.Random(data.draw(st.integers(0, 2**32)))
    if kind == "block":
        style = data.draw(st.sampled_from(STYLES))
        text = "\n".join(ln.text for ln in write_block(old, rnd, style, 0.4, 0.2)) + "\n"
    elif kind == "json":
        text = kube_json(old, indent=data.draw(st.sampled_from([2, 4]))) + "\n"
    elif kind == "jsonmin":
        text = kube_json(old, separators=(",", ":"))
    else:
        text = BlockWriter(rnd, 2, 2, 2, 0, 1).flow(old) + "\n"
    injected = apply_patch_to_text(load_document(text), make_patch(old, new))
    assert load_document(injected).data == new
    restored = apply_patch_to_text(load_document(injected), make_patch(new, old))
    assert restored == text, (text, injected, restored)


ALIASED = [
    # flow anchor at the selector, alias at the template; merge into a container
    "spec:\n  selector:\n    matchLabels: &l {app: x, tier: y}\n  template:\n"
    "    metadata:\n      labels: *l\n    spec:\n      containers:\n      - &c\n"
    "        name: a\n        image: i\n      - <<: *c\n        name: b\n",
    # block anchor used by a plain alias, a merge, and inside a flow list
    "base: &b\n  k1: v1\n  k2: [1, 2]\none: *b\ntwo:\n  <<: *b\n  k3: 3\nlist: [*b, {x: 1}]\n",
    # scalar and list anchors, several merges, alias as a list item
    "s: &s hello\nt: *s\nl: &xs\n- 1\n- &two 2\nm: *xs\nn:\n- *two\n- *s\n"
    "a: &a {p: 1}\nb: &bb {q: 2}\nc:\n  <<: [*a, *bb]\n  r: 3\n",
]


@given(st.sampled_from(ALIASED), st.data())
@prop
def test_property_aliases_never_leak(src: str, data: Any) -> None:
    doc = load_document(src)
    old = doc.data
    new = data.draw(mutated(old))
    ops = make_patch(old, new)
    out = apply_patch_to_text(doc, ops)
    assert load_document(out).data == new, (ops, out)


@pytest.mark.parametrize(
    ("src", "fn", "expect"),
    [
        ("a: [x, y, ]\n", lambda d: d["a"].append("z"), "a: [x, y, z, ]\n"),
        ("a: [x, y, ]\n", lambda d: d["a"].pop(), "a: [x, ]\n"),
        ("a: {k: 1, }\n", lambda d: d["a"].update(j=2), "a: {k: 1, j: 2, }\n"),
        ("a: {k, j: 2}\n", lambda d: d["a"].pop("k"), "a: {j: 2}\n"),
        (
            "a: [\n  x,  # first\n  y   # second\n]\n",
            lambda d: d["a"].pop(0),
            "a: [\n  y   # second\n]\n",
        ),
        ("a: &x [1]\nb: [*x, *x]\n", lambda d: d["b"][1].append(2), "a: &x [1]\nb: [*x, [1, 2]]\n"),
        ("? complex\n: v\nb: 1\n", lambda d: d.update(z=1), "? complex\n: v\nb: 1\nz: 1\n"),
        ("a:\n  ? k\n  : v\n", lambda d: d["a"].update(z=1), "a:\n  ? k\n  : v\n  z: 1\n"),
        ("a: !!map\n  b: 1\n", lambda d: d["a"].update(c=2), "a: !!map\n  b: 1\n  c: 2\n"),
        ("\ufeffa: 1\n", lambda d: d.update(b=2), "\ufeffa: 1\nb: 2\n"),
        ("a:\n  - b\n  -\n", lambda d: d["a"].append("x"), "a:\n  - b\n  -\n  - x\n"),
        ("- a\n- b\n", lambda d: d.insert(0, {"k": "v"}), "- k: v\n- a\n- b\n"),
        ("--- [1, 2]\n", lambda d: d.append(3), "--- [1, 2, 3]\n"),
        ("a:    x\nb:    y\n", lambda d: d.update(b="z"), "a:    x\nb:    z\n"),
    ],
)
def test_odd_but_valid_forms(src: str, fn: Any, expect: str) -> None:
    assert change(src, fn) == expect


def test_explicit_key_removal_rewrites_the_mapping() -> None:
    out = change("? complex\n: v\nb: 1\n", lambda d: d.pop("complex"))
    assert out == "b: 1\n"


def test_scalar_root_on_the_marker_line_becomes_a_block() -> None:
    out = ops_text("--- 5\n", [{"op": "replace", "path": "", "value": {"x": 1}}])
    assert out == "--- \nx: 1\n"
