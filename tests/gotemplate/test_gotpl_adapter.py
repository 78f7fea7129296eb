"""The Go-fidelity fixes of meshctl.gotemplate.gotpl_adapter and the data model, one test
per fix."""

from __future__ import annotations

from typing import Any

import pytest

from meshctl.gotemplate.gotpl_adapter import compile_template
from meshctl.gotemplate.types import (
    GoDuration,
    GoEnum,
    GoMap,
    GoStruct,
    ProtoView,
)
from meshctl.gotemplate.values import go_sprint
from meshctl.sidecar.config.meshconfig import MESH_CONFIG, PROXY_CONFIG
from meshctl.sidecar.funcs import gotpl_functions
from meshctl.sidecar.kubetypes import OBJECT_META, POD_SPEC

TEMPLATE_FUNCTIONS = gotpl_functions()


def render(source: str, data: Any) -> str:
    return compile_template(source, "t", TEMPLATE_FUNCTIONS).render(data)


def test_eq_with_missing_value_is_false_not_an_error() -> None:
    data = {"Values": {"pilot": {"env": {}}}}
    assert render("{{ eq (.Values.pilot.env).X true }}", data) == "false"
    assert render("{{ ne .Values.missing `x` }}", data) == "true"
    assert render("{{ eq 1 2 1 }}", data) == "true"
    with pytest.raises(Exception, match="incompatible"):
        render("{{ eq 1 `1` }}", data)  # Go fails too


def test_index_of_missing_key_gives_the_zero_value() -> None:
    meta = GoStruct({"annotations": {"a": "1"}}, OBJECT_META)
    assert render("[{{ index .M.Annotations `b` }}]", {"M": meta}) == "[]"
    assert render("{{ index .M.Annotations `b` | default `d` }}", {"M": meta}) == "d"
    assert render("{{ index .M.Annotations `a` }}", {"M": meta}) == "1"


def test_empty_map_is_false() -> None:
    pc = ProtoView({}, PROXY_CONFIG)
    assert render("{{ if .P.ProxyMetadata }}yes{{ else }}no{{ end }}", {"P": pc}) == "no"
    pc = ProtoView({"proxyMetadata": {"A": "1"}}, PROXY_CONFIG)
    assert render("{{ if .P.ProxyMetadata }}yes{{ else }}no{{ end }}", {"P": pc}) == "yes"
    assert render("{{ range $k, $v := .P.ProxyMetadata }}{{$k}}={{$v}}{{ end }}",
                  {"P": pc}) == "A=1"


def test_methods_are_values_inside_and_or() -> None:
    held = ProtoView({"holdApplicationUntilProxyStarts": False}, PROXY_CONFIG)
    src = "{{ if or .P.HoldApplicationUntilProxyStarts.GetValue false }}hold{{ else }}no{{ end }}"
    assert render(src, {"P": held}) == "no"
    held = ProtoView({"holdApplicationUntilProxyStarts": True}, PROXY_CONFIG)
    assert render(src, {"P": held}) == "hold"
    assert render("{{ and .P.HoldApplicationUntilProxyStarts.GetValue `x` }}", {"P": held}) == "x"


def test_enums_print_their_name_and_are_zero_when_default() -> None:
    redirect = ProtoView({}, PROXY_CONFIG)
    tproxy = ProtoView({"interceptionMode": "TPROXY"}, PROXY_CONFIG)
    assert render("{{ .P.InterceptionMode }}", {"P": redirect}) == "REDIRECT"
    assert render("{{ .P.InterceptionMode.String }}", {"P": tproxy}) == "TPROXY"
    assert render("{{ if .P.InterceptionMode }}set{{ else }}zero{{ end }}", {"P": redirect}) == \
        "zero"
    meta = GoStruct({}, OBJECT_META)
    src = "{{ annotation .M `sidecar.istio.io/interceptionMode` .P.InterceptionMode }}"
    assert render(src, {"M": meta, "P": tproxy}) == "TPROXY"


def test_go_getters_on_messages() -> None:
    pc = ProtoView({"tracing": {"tlsSettings": {"caCertificates": "/etc/x/ca.pem"}}},
                   PROXY_CONFIG)
    assert render("{{ directory .P.GetTracing.GetTlsSettings.GetCaCertificates }}",
                  {"P": pc}) == "/etc/x/"
    empty = ProtoView({}, PROXY_CONFIG)
    assert render("{{ if .P.GetTracing }}t{{ else }}nil{{ end }}", {"P": empty}) == "nil"
    mesh = ProtoView({"proxyListenPort": 15001}, MESH_CONFIG)
    assert render("{{ .M.ProxyListenPort }} [{{ .M.TrustDomain }}]", {"M": mesh}) == "15001 []"


def test_typed_zero_values_of_kubernetes_structs() -> None:
    spec = GoStruct({"containers": [{"name": "a", "ports": [{"containerPort": 80}]}]}, POD_SPEC)
    assert render("{{ if eq .S.ServiceAccountName `` }}default{{ end }}", {"S": spec}) == \
        "default"
    src = "{{ range .S.Containers }}{{ .Name }}:{{ range .Ports }}{{ structToJSON . }}{{ end }}" \
          "{{ end }}"
    assert render(src, {"S": spec}) == 'a:{"containerPort":80}'
    assert render("{{ len .S.InitContainers }}", {"S": spec}) == "0"


def test_struct_to_json_uses_go_field_order() -> None:
    spec = GoStruct({"containers": [{"name": "a", "ports": [
        {"protocol": "TCP", "containerPort": 80, "name": "http", "hostPort": 0}]}]}, POD_SPEC)
    src = "{{ range .S.Containers }}{{ range .Ports }}{{ structToJSON . }}{{ end }}{{ end }}"
    out = render(src, {"S": spec})
    assert out == '{"name":"http","containerPort":80,"protocol":"TCP"}'


@pytest.mark.parametrize(("value", "text"), [
    (True, "true"), (None, "<nil>"), (15020, "15020"), (1e6, "1e+06"), (2.5, "2.5"),
    ("x", "x"), ({"b": 1, "a": [1, 2]}, "map[a:[1 2] b:1]"), (GoEnum(1, "TPROXY"), "TPROXY"),
])
def test_go_sprint(value: Any, text: str) -> None:
    assert go_sprint(value) == text


def test_gomap_reads_missing_keys_as_zero() -> None:
    m = GoMap({"a": "1"})
    assert m.__gotemplate_lookup__("b") == ""
    assert render("[{{ .M.b }}]", {"M": m}) == "[]"


def test_format_duration() -> None:
    pc = ProtoView({"drainDuration": "90s", "terminationDrainDuration": "0.5s"}, PROXY_CONFIG)
    assert render("{{ formatDuration .P.DrainDuration }}", {"P": pc}) == "1m30s"
    assert render("{{ formatDuration .P.TerminationDrainDuration }}", {"P": pc}) == "500ms"
    assert str(GoDuration(23)) == "23s"
