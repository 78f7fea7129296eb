"""Istio's template functions (meshctl.sidecar.funcs) and the YAML/JSON they write."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshctl.gotemplate.goyaml import ShapeCache, load_yaml, to_yaml
from meshctl.sidecar import funcs
from meshctl.sidecar.config.meshconfig import (
    apply_mesh_config,
    merge_proxy_config,
    proxy_config_json,
)
from meshctl.sidecar.quantity import canonical_quantity


@pytest.mark.parametrize(("port", "excluded", "out"), [
    (15020, "", "15020"),
    ("15020", "4,5,6", "4,5,6,15020"),
    (15020, "15020,1", "15020,1"),
    (0, "4", "4"),
    ("", " 4 , 5", " 4 , 5"),
    (123, " 4 , 5", "4,5,123"),
])
def test_exclude_inbound_port(port: Any, excluded: str, out: str) -> None:
    assert funcs.exclude_inbound_port(port, excluded) == out


@pytest.mark.parametrize(("existing", "out"), [
    ("", "default/istio-cni"),
    ("alt_cni", "alt_cni, default/istio-cni"),
    ("alt_cni, default/istio-cni", "alt_cni, default/istio-cni"),
    ('[{"name": "alt_cni"}]', '[{"name": "alt_cni"}, {"name": "istio-cni", "namespace": '
                              '"default"}]'),
    ('[{"name": "istio-cni", "namespace": "default"}]',
     '[{"name": "istio-cni", "namespace": "default"}]'),
    ("[not json]", "[not json]"),  # a broken JSON list is left alone
])
def test_append_multus_network(existing: str, out: str) -> None:
    assert funcs.append_multus_network(existing, "default/istio-cni") == out


def test_small_functions() -> None:
    assert funcs.directory("/a/b/c.pem") == "/a/b/"
    assert funcs.directory("c.pem") == ""
    assert funcs.indent(2, "a\nb\nc") == "a\n  b\n  c"
    assert funcs.flipped_contains("/", "a/b") and not funcs.flipped_contains("/", "ab")
    assert funcs.value_or_default("", "d") == "d" and funcs.value_or_default(0, "d") == 0
    assert funcs.isset({"a": ""}, "a") and not funcs.isset(None, "a")
    assert funcs.strdict("a", "1", "b") == {"a": "1", "b": ""}
    assert funcs.omit({"a": "1", "b": "2"}, "a") == {"b": "2"}
    assert funcs.merge_maps({"a": "1"}, {"a": "2", "b": "3"}) == {"a": "2", "b": "3"}
    assert funcs.merge_maps() is None
    assert funcs.to_json_map({"b": "1"}, {"a": "<x>"}) == '{"a":"\\u003cx\\u003e","b":"1"}'
    assert funcs.from_json("not json") == "{}"
    assert funcs.to_json(None) == "{}"
    assert funcs.include_inbound_ports([
        {"name": "a", "ports": [{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}]},
        {"name": "istio-proxy", "ports": [{"containerPort": 15090}]},
    ]) == "80,15090"
    assert funcs.application_ports([
        {"name": "a", "ports": [{"containerPort": 80}]},
        {"name": "istio-proxy", "ports": [{"containerPort": 15090}]},
    ]) == "80"


def test_omit_nil() -> None:
    assert funcs.omit_nil({"limits": {"cpu": None, "memory": "1Gi"}, "requests": {"cpu": None}}) \
        == {"limits": {"memory": "1Gi"}}
    assert funcs.omit_nil({}) == {}
    assert funcs.omit_nil([None, 1]) == [1]


def test_otel_resource_attributes() -> None:
    mesh = {"extensionProviders": [{"name": "otel", "opentelemetry": {
        "serviceAttributeEnrichment": "OTEL_SEMANTIC_CONVENTIONS"}}]}
    containers = [{"name": "app", "image": "reg:5000/app:1.2@sha256:abc"}]
    assert funcs.otel_resource_attributes(mesh, {}, {}, "ns", containers) == \
        "service.namespace=ns,service.version=1.2@sha256:abc,service.instance.id=ns.$(POD_NAME).app"
    assert funcs.otel_resource_attributes({}, {}, {}, "ns", containers) == ""


def test_to_yaml_reads_back() -> None:
    value = {"b": [1, "two", {"x": None, "y": "0"}], "a": {"z": "yes", "w": "a: b"}, "e": {}}
    text = to_yaml(value)
    assert text.startswith("a:\n")
    assert load_yaml(text) == value
    assert load_yaml("k:\n  " + funcs.indent(2, to_yaml(value))) == {"k": value}


def test_proto_to_json_drops_istio_defaults() -> None:
    default_address = "istiod.istio-system.svc:15012"
    mesh = apply_mesh_config({"defaultConfig": {"discoveryAddress": default_address}})
    assert proxy_config_json(mesh["defaultConfig"]) == "{}"
    pc = merge_proxy_config({"concurrency": 0, "proxyMetadata": {"B": "2", "A": "1"},
                             "discoveryAddress": "foo:123", "drainDuration": "45s",
                             "statusPort": 15020, "unknownField": 1},
                            mesh["defaultConfig"])
    assert proxy_config_json(pc) == \
        '{"discoveryAddress":"foo:123","concurrency":0,"proxyMetadata":{"A":"1","B":"2"}}'
    assert proxy_config_json({"interceptionMode": "REDIRECT", "tracing": {}}) == '{"tracing":{}}'
    assert proxy_config_json({"holdApplicationUntilProxyStarts": False}) == \
        '{"holdApplicationUntilProxyStarts":false}'


def test_mesh_overlay_rules() -> None:
    mesh = apply_mesh_config({
        "defaultConfig": {"proxyMetadata": {"A": "1"}},
        "extensionProviders": [{"name": "envoy", "envoyFileAccessLog": {"path": "/x"}},
                               {"name": "otel", "opentelemetry": {}}],
        "trust_domain": "example.org",
    })
    assert mesh["trustDomain"] == "example.org"
    assert mesh["defaultConfig"]["statusPort"] == 15020  # defaults kept
    names = [p["name"] for p in mesh["extensionProviders"]]
    assert names == ["prometheus", "stackdriver", "envoy", "otel"]
    assert mesh["extensionProviders"][2]["envoyFileAccessLog"] == {"path": "/x"}
    again = merge_proxy_config({"proxyMetadata": {"B": "2"}}, mesh["defaultConfig"])
    assert again["proxyMetadata"] == {"A": "1", "B": "2"}


@pytest.mark.parametrize(("q", "canon"), [
    ("2000m", "2"), ("1024Mi", "1Gi"), ("1536Mi", "1536Mi"), ("0.5", "500m"), ("1000", "1k"),
    ("1500", "1500"), ("100m", "100m"), ("1e3", "1e3"), (2, "2"), ("not-a-qty", "not-a-qty"),
])
def test_canonical_quantity(q: Any, canon: str) -> None:
    assert canonical_quantity(q) == canon


def test_shape_cache_agrees_with_the_parser() -> None:
    cache = ShapeCache()
    base = ('metadata:\n  labels:\n    app: "one"\n  annotations: {\n    a: "x",\n    b: 1,\n  }\n'
            'spec:\n  containers:\n  - name: one\n    env:\n    - name: V\n      value: |-\n'
            '        [\n          1\n        ]\n    args:\n    - "-p"\n    - 15001\n')
    variants = [
        base,
        base.replace('"one"', '"two"').replace("name: one", "name: two"),
        base.replace('a: "x"', 'a: "y"').replace("- 15001", "- 15002"),
        base.replace("          1\n", "          2\n"),
        base.replace('"-p"', "'it''s'"),
        base.replace('"one"', "yes"),  # a plain scalar that is not a string: full parse
        base.replace('a: "x"', 'a: "x\\ty"'),  # an escape: full parse
        base.replace("- 15001", "- 0o17"),
    ]
    for text in variants * 2:
        assert cache.load(text) == load_yaml(text), text
    anchored = "a: &x\n  v: 1\nb: *x\nc:\n  <<: *x\n  w: 2\n"
    for text in (anchored, anchored.replace("v: 1", "v: 7")):
        assert cache.load(text) == load_yaml(text), text
    shared = cache.load(base)
    assert cache.load(base) is shared  # an unchanged text costs nothing


def test_shape_cache_returns_fresh_containers_on_changed_paths() -> None:
    cache = ShapeCache()
    a = cache.load("x:\n  y: 1\nz:\n  w: 2\n")
    b = cache.load("x:\n  y: 3\nz:\n  w: 2\n")
    assert a == {"x": {"y": 1}, "z": {"w": 2}} and b == {"x": {"y": 3}, "z": {"w": 2}}
    assert b["z"] is a["z"] and b["x"] is not a["x"]
    assert json.dumps(a) != json.dumps(b)


_scalars = st.one_of(
    st.integers(-10**6, 10**6), st.booleans(), st.none(),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
    st.sampled_from(["yes", "no", "on", "null", "~", "1e3", "0o17", "0x1F", ".5", "a: b", "#x",
                     "-", "a,b", "'q'", '"q"', "1:20", "2024-01-01", "- x", "[a]", "{b}"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_scalars, _scalars, _scalars, _scalars), min_size=2, max_size=4))
def test_shape_cache_property(rows: list[tuple[Any, ...]]) -> None:
    """Texts of one shape with any scalar values: the cache reads what the parser reads."""
    cache = ShapeCache()
    for a, b, c, d in rows:
        value = {"metadata": {"labels": {"app": a}}, "spec": {"containers": [
            {"name": b, "env": [{"name": "X", "value": c}], "args": ["-p", d]}]}}
        text = to_yaml(value)
        assert load_yaml(text) == value
        assert cache.load(text) == value
