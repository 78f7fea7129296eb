"""The loader: data as Kubernetes-minded YAML 1.2 reads it, plus a position index."""

from __future__ import annotations

import datetime
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml.cyaml import CSafeLoader

from meshctl.yamltext.source import (
    AliasNode,
    MapNode,
    Node,
    ScalarNode,
    SeqNode,
    StructureError,
    YamlSyntaxError,
    load_document,
)

GOLDEN = Path(__file__).resolve().parents[3] / "shared" / "istio-golden"


def split_docs(text: str) -> list[str]:
    """Test-only splitter: cut before every ``---`` line."""
    parts = re.split(r"(?m)^(?=---(?:[ \t].*)?\r?$)", text)
    return [p for p in parts if p.strip() not in ("", "---")]


def ruamel_data(text: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loader = CSafeLoader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()


def has_dates(v: Any) -> bool:
    if isinstance(v, (datetime.date, datetime.datetime)):
        return True
    if isinstance(v, dict):
        return any(has_dates(x) for x in v.values())
    if isinstance(v, list):
        return any(has_dates(x) for x in v)
    return False


def golden_docs() -> list[tuple[str, str]]:
    out = []
    for p in sorted((GOLDEN / "inject").iterdir()):
        if p.suffix in (".yaml", ".injected") or p.name.endswith(".yaml.injected"):
            for i, d in enumerate(split_docs(p.read_text())):
                out.append((f"{p.name}#{i}", d))
    return out


@pytest.mark.skipif(not GOLDEN.exists(), reason="shared test data not available")
def test_data_matches_ruamel_on_istio_golden_suite() -> None:
    docs = golden_docs()
    assert len(docs) > 150
    checked = 0
    for name, text in docs:
        try:
            ref = ruamel_data(text)
        except Exception:
            with pytest.raises(YamlSyntaxError):
                load_document(text)
            continue
        if has_dates(ref):
            continue
        assert load_document(text).data == ref, name
        checked += 1
    assert checked > 150


def walk(n: Node | None) -> list[Node]:
    out: list[Node] = []
    stack = [n] if n is not None else []
    while stack:
        x = stack.pop()
        out.append(x)
        if isinstance(x, MapNode):
            for k, v, _ks in x.entries:
                stack.extend((k, v))
        elif isinstance(x, SeqNode):
            stack.extend(x.items)
    return out


@pytest.mark.parametrize("nl", ["\n", "\r\n"])
def test_positions_index_the_text(nl: str) -> None:
    text = nl.join(["# c", "a: é", "b:", "  - 'q'", '  - "ü x"', "  - plain", "c: {x: [1, 2]}", ""])
    doc = load_document(text)
    for n in walk(doc.root):
        if isinstance(n, ScalarNode) and n.style == "" and n.value:
            assert text[n.start : n.end] == n.value
        elif isinstance(n, ScalarNode) and n.style in "'\"" and n.style:
            assert text[n.start] == n.style and text[n.end - 1] == n.style
    c = doc.root.entries[2][1]  # type: ignore[union-attr]
    assert isinstance(c, MapNode) and c.flow
    assert text[c.start : c.end] == "{x: [1, 2]}"


def test_core_types_yaml12() -> None:
    d = load_document(
        "a: yes\nb: true\nc: ~\nd:\ne: 0x10\nf: 0o17\ng: 1_000\nh: 1.5\ni: .inf\nj: -3\n"
        "k: '1'\nl: 2001-12-14\nm: 2001-12-14T21:59:43.10-05:00\nn: 0755\no: 1e3\np: Null\n"
    ).data
    assert d == {
        "a": "yes",
        "b": True,
        "c": None,
        "d": None,
        "e": 16,
        "f": 15,
        "g": 1000,
        "h": 1.5,
        "i": float("inf"),
        "j": -3,
        "k": "1",
        "l": "2001-12-14",
        "m": "2001-12-14T21:59:43.10-05:00",
        "n": 755,
        "o": 1000.0,
        "p": None,
    }
    assert type(d["b"]) is bool and type(d["o"]) is float


@pytest.mark.parametrize("text", ["-_", "+_", "0x_", "0b_", "0o_", "._", "-._"])
def test_number_lookalikes_are_strings(text: str) -> None:
    """Texts the number patterns take but that are no number (ruamel and PyYAML raise on
    them) are strings, as Go's YAML reads them: no internal error."""
    assert load_document(f"a: {text}\n").data == {"a": text}


def test_explicit_tags() -> None:
    d = load_document('a: !!str 123\nb: !!int "3"\nc: !Ref x\nd: !!float 1\ne: !!binary aGk=\n')
    assert d.data == {"a": "123", "b": 3, "c": "x", "d": 1.0, "e": "aGk="}


def test_merge_keys() -> None:
    d = load_document(
        "base: &b {x: 1, y: 2}\nother: &o {y: 3, z: 4}\n"
        "m:\n  <<: [*b, *o]\n  x: 9\nn: {<<: *o, w: 0}\ni:\n  <<: {q: 1}\n"
    )
    assert d.data["m"] == {"x": 9, "y": 2, "z": 4}
    assert d.data["n"] == {"y": 3, "z": 4, "w": 0}
    assert d.data["i"] == {"q": 1}
    m = d.root.entries[2][1]  # type: ignore[union-attr]
    assert isinstance(m, MapNode)
    assert m.merges == [0]
    assert m.merged == {"y": 2, "z": 4}
    assert m.merge_keys == {"x", "y", "z"}
    assert "<<" not in d.data["m"]
    assert load_document("a: {'<<': 1}\n").data == {"a": {"<<": 1}}  # quoted: a plain key


def test_bad_merge_is_an_error() -> None:
    with pytest.raises(YamlSyntaxError, match="merg"):
        load_document("a:\n  <<: 1\n")


def test_duplicate_keys_are_refused() -> None:
    for text, line in (("a: 1\nb: 2\na: 3\n", 3), ("m:\n  x: 1\n  'x': 2\n", 3),
                       ("1: a\n'1': b\n", 2), ("- {a: 1, b: 2, a: 3}\n", 1)):
        with pytest.raises(StructureError, match="duplicate key") as err:
            load_document(text)
        assert err.value.line == line, text
    assert load_document("a: {x: 1}\nb: {x: 1}\n<<: {a: 2}\n").data["a"] == {"x": 1}


def test_duplicate_keys_last_wins_when_allowed() -> None:
    d = load_document("a: 1\nb: 2\na: 3\n", allow_duplicates=True)
    assert d.data == {"a": 3, "b": 2}
    assert [ks for _k, _v, ks in d.root.entries] == ["a", "b", "a"]  # type: ignore[union-attr]


def test_non_string_keys_become_strings() -> None:
    assert load_document("1: a\ntrue: b\n~: c\n1.5: d\n").data == {
        "1": "a",
        "true": "b",
        "null": "c",
        "1.5": "d",
    }
    with pytest.raises(YamlSyntaxError):
        load_document("? [a]\n: b\n")


def test_aliases_have_their_own_position_and_data() -> None:
    text = "a: &x {k: v}\nb: *x\nc: [*x]\n"
    d = load_document(text)
    assert d.data == {"a": {"k": "v"}, "b": {"k": "v"}, "c": [{"k": "v"}]}
    assert len(d.aliases) == 2 and len(d.anchored) == 1
    b = d.root.entries[1][1]  # type: ignore[union-attr]
    assert isinstance(b, AliasNode)
    assert text[b.start : b.end] == "*x"
    assert b.target is d.anchored[0]
    d.data["b"]["k"] = "changed"
    assert d.data["a"]["k"] == "v"  # alias data is an independent copy


def test_undefined_and_recursive_alias() -> None:
    with pytest.raises(YamlSyntaxError, match="undefined alias"):
        load_document("a: *nope\n")
    with pytest.raises(YamlSyntaxError):
        load_document("a: &x [*x]\n")


def test_syntax_error_position() -> None:
    with pytest.raises(YamlSyntaxError) as ei:
        load_document("a: 1\nb: [1\nc: 2\n")
    e = ei.value
    assert e.line >= 2 and e.column >= 1 and e.problem
    assert str(e).startswith(f"line {e.line}, column {e.column}:")
    with pytest.raises(YamlSyntaxError) as ei:
        load_document("a: 1\n b: 2\n")
    assert ei.value.line == 2


def test_single_document_only() -> None:
    with pytest.raises(YamlSyntaxError, match="single document"):
        load_document("a: 1\n---\nb: 2\n")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "--- # c\n...\n"])
def test_empty_documents(text: str) -> None:
    d = load_document(text)
    assert d.data is None
    assert d.text == text


def test_markers_and_directives() -> None:
    text = "%YAML 1.2\n---\n# head\na: 1\n...\n"
    d = load_document(text)
    assert d.data == {"a": 1}
    assert d.root is not None and text[d.root.start :].startswith("a: 1")


def test_block_scalars() -> None:
    d = load_document("a: |\n  x\n  y\n\nb: >-\n  p\n  q\nc: |+\n  k\n\n")
    assert d.data == {"a": "x\ny\n", "b": "p q", "c": "k\n\n"}


def test_json_document() -> None:
    text = '{\n    "a": [1, 2.5, "x", null, true],\n    "b": {}\n}\n'
    d = load_document(text)
    assert d.data == {"a": [1, 2.5, "x", None, True], "b": {}}
    assert isinstance(d.root, MapNode) and d.root.flow
