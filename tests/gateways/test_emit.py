"""The emitter of ``create ingress``: what it writes reads back as the same data in YAML 1.1
(PyYAML, as go-yaml v2 in kubectl) and YAML 1.2 (ruamel.yaml), and it writes a string plain only
where the engine's finer emitter (meshctl.yamltext.emitter) would too."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from meshctl.gateways import emit
from meshctl.yamltext import emitter as yamlfrag

TRICKY = ["", "yes", "No", "ON", "off", "y", "n", "true", "False", "null", "~", "0x1F", "1e3",
          "0o17", "12:30", "2024-01-01", ".inf", "-", "- a", "a: b", "a #b", "*.example.com",
          "&x", "!t", "%x", "@x", "`x", "'q'", '"q"', "{a}", "[a]", "a,b", "?", "|", ">",
          " lead", "trail ", "tab\there", "line\nbreak", "cr\rx", "\x00nul", "\x7fdel",
          "\x85nel", "\u2028ls", "\ufeffbom", "café ✓", "😀", "<<", "=", "/productpage",
          "kubernetes.io/ingress.class", "https-1", "_x", "x_", "a.b", "9080", "-1", "+1"]

strings = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12),
                    st.text(alphabet="aZ09-._/:# *&!'\"yesno", max_size=8))
leaves = st.one_of(strings, st.integers(min_value=-(2**40), max_value=2**40), st.booleans())
trees = st.recursive(
    leaves,
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(strings, children, max_size=3)),
    max_leaves=12,
)


def _ruamel(text: str) -> list[Any]:
    return list(YAML(typ="safe", pure=True).load_all(StringIO(text)))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(strings, trees, min_size=1, max_size=4))
def test_yaml_round_trip(obj: dict[str, Any]) -> None:
    text = emit.to_yaml(obj)
    assert yaml.safe_load(text) == obj
    assert _ruamel(text) == [obj]


@settings(max_examples=1000, deadline=None)
@given(strings)
@example("Prefix")
@example("yes")
def test_plain_only_where_the_engine_emitter_agrees(s: str) -> None:
    if emit.plain_ok(s):
        assert yamlfrag.plain_ok(s)
        assert emit.scalar(s) == s
    else:
        assert emit.scalar(s).startswith('"')


def test_layout_is_kubectls() -> None:
    obj = {"a": {"b": [{"c": 1, "d": [1, 2]}, [3, [4]], {}, []]}, "e": {}, "f": []}
    assert emit.to_yaml(obj) == (
        "a:\n"
        "  b:\n"
        "  - c: 1\n"
        "    d:\n"
        "    - 1\n"
        "    - 2\n"
        "  - - 3\n"
        "    - - 4\n"
        "  - {}\n"
        "  - []\n"
        "e: {}\n"
        "f: []\n"
    )


def test_render_stream_and_list() -> None:
    one, two = {"kind": "A"}, {"kind": "B"}
    assert emit.render([one, two]) == "kind: A\n---\nkind: B\n"
    assert emit.render([one]) == "kind: A\n"
    assert json.loads(emit.render([one], "json")) == one
    assert emit.render([one], "json") == '{\n    "kind": "A"\n}\n'
    assert json.loads(emit.render([one, two], "json")) == {
        "apiVersion": "v1", "kind": "List", "items": [one, two]
    }
    assert emit.render([{"text": "café"}], "json") == '{\n    "text": "café"\n}\n'
