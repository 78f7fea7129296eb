"""Loading injection settings the way Istio's chart and istioctl do
(meshctl.sidecar.config.settings)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meshctl.errors import ConfigError, UsageError
from meshctl.sidecar.config.settings import load_settings
from tests.conftest import SHARED

GOLDEN = SHARED / "istio-golden"
CLI = GOLDEN / "istioctl-cli"
CONFIG = GOLDEN / "settings" / "inject-config.yaml"
VALUES = GOLDEN / "settings" / "values.json"


def test_default_settings() -> None:
    s = load_settings(CONFIG, VALUES, GOLDEN / "settings" / "mesh.yaml")
    assert s.default_templates == ("sidecar",)
    assert s.policy == "enabled"
    assert {"sidecar", "gateway", "grpc-agent"} <= set(s.templates)
    assert s.mesh["defaultConfig"]["statusPort"] == 15020  # Istio's mesh defaults filled in
    assert s.mesh["defaultProviders"] == {"metrics": ["prometheus"]}
    assert s.values["global"]["hub"] == "registry.istio.io/testing"


def test_bare_template_becomes_sidecar(tmp_path: Path) -> None:
    s = load_settings(CLI / "inject-config-inline.yaml", CLI / "inject-values.yaml",
                      CLI / "mesh-config.yaml")
    assert list(s.templates) == ["sidecar"]
    assert "{{.Values.global.suffix}}" in s.templates["sidecar"]
    assert s.values == {"global": {"suffix": "test"}}
    assert s.mesh["ingressService"] == "istio-ingress"
    bad_yaml = tmp_path / "t.tpl"
    bad_yaml.write_text("{{- if .X }}\nspec: {}\n{{- end }}\n")
    assert load_settings(bad_yaml).templates == {"sidecar": bad_yaml.read_text()}


def test_templates_key_wins_over_inline(tmp_path: Path) -> None:
    s = load_settings(CLI / "inject-config-inline-iop.yaml", None, None,
                      CLI / "istio-operator.yaml")
    assert list(s.templates) == ["sidecar"]
    assert "{{.Values.global.tag}}" in s.templates["sidecar"]
    assert s.values["global"]["tag"] == "testiop"
    assert s.mesh["ingressService"] == "istio-ingress"  # spec.meshConfig applied


def test_configmaps(tmp_path: Path) -> None:
    cm = tmp_path / "cm.yaml"
    cm.write_text(json.dumps({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "istio-sidecar-injector"},
        "data": {"config": "policy: disabled\ntemplates:\n  sidecar: 'spec: {}'\n",
                 "values": json.dumps({"global": {"hub": "h"}})},
    }))
    mesh = tmp_path / "mesh.yaml"
    mesh.write_text("apiVersion: v1\nkind: ConfigMap\ndata:\n  mesh: |\n    trustDomain: t.io\n")
    s = load_settings(cm, None, mesh)
    assert s.policy == "disabled" and s.values == {"global": {"hub": "h"}}
    assert s.mesh["trustDomain"] == "t.io"


def test_values_drive_the_chart_parts(tmp_path: Path) -> None:
    values = json.loads(VALUES.read_text())
    values["sidecarInjectorWebhook"]["templates"] = {"custom": "spec: {}"}
    values["sidecarInjectorWebhook"]["defaultTemplates"] = ["sidecar", "custom"]
    values["global"]["proxy"]["autoInject"] = "disabled"
    s = load_settings(CONFIG, values, None, hub="h.io", tag="1.2", proxy_image="p",
                      proxy_init_image="pi")
    assert s.templates["custom"] == "spec: {}"
    assert s.default_templates == ("sidecar", "custom")
    assert s.policy == "disabled"
    g = s.values["global"]
    assert (g["hub"], g["tag"], g["proxy"]["image"], g["proxy_init"]["image"]) == \
        ("h.io", "1.2", "p", "pi")
    assert values["global"]["hub"] == "registry.istio.io/testing"  # the caller's data untouched
    assert load_settings(CONFIG, values, revision="canary").values["revision"] == "canary"


def test_operator_values_merge(tmp_path: Path) -> None:
    s = load_settings(CONFIG, VALUES, None,
                      GOLDEN / "inject" / "proxy-resources-null.iop.yaml")
    assert s.values["global"]["proxy"]["resources"]["limits"] == {"cpu": None, "memory": "500Mi"}
    assert s.values["global"]["proxy"]["statusPort"] == 15020


@pytest.mark.parametrize(("content", "message"), [
    ("policy: sometimes\ntemplates:\n  sidecar: x\n", "invalid injection policy"),
    ("templates:\n  sidecar: [1]\n", "must be a string"),
    ("templates:\n  sidecar: x\naliases: [1]\n", "aliases"),
])
def test_bad_config(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_settings(path)


def test_missing_files() -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings("/nonexistent/inject.yaml")
    with pytest.raises(ConfigError, match="injector config"):
        load_settings(None)


# --- what users give is checked against Istio's types (meshctl.sidecar.config.schema) ---------


def test_istios_own_files_raise_no_warning() -> None:
    """Istio's values, mesh config and the settings of every golden case (IstioOperators
    included) are clean: the checks know every field Istio knows."""
    import yaml

    from meshctl.sidecar.config import schema
    from meshctl.sidecar.config.settings import set_value

    s = load_settings(CONFIG, VALUES, GOLDEN / "settings" / "mesh.yaml")
    assert s.warnings == ()
    cases = yaml.safe_load((GOLDEN / "cases.yaml").read_text())["cases"]
    for case in cases:
        values: dict[str, object] = {}
        for dotted, value in (case.get("values") or {}).items():
            set_value(values, dotted, value)
        assert schema.check(values, schema.VALUES, strict=False) == [], case["id"]
        assert schema.check(case.get("mesh") or {}, schema.MESH, strict=True) == [], case["id"]
        if case.get("operator_file"):
            op = load_settings(CONFIG, VALUES, operator=GOLDEN / "inject" / case["operator_file"])
            assert op.warnings == (), case["operator_file"]


def test_unknown_fields_are_warnings_with_file_and_line(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("global:\n  hub: docker.io/istio\n  tag: 1.29.0\n  proxy:\n"
                      "    statusPortt: 15021\n")
    mesh = tmp_path / "mesh.yaml"
    mesh.write_text("accessLogFile: /dev/stdout\ndefaultConfig:\n  concurency: 2\n")
    s = load_settings(CONFIG, values, mesh)
    assert s.warnings == (
        f"{values}: line 5: values global.proxy.statusPortt: unknown field 'statusPortt' of "
        "ProxyConfig; did you mean 'statusPort'? (only a custom template would read it)",
        f"{mesh}: line 3: mesh config defaultConfig.concurency: unknown field 'concurency' of "
        "ProxyConfig; did you mean 'concurrency'? (Istio ignores it)",
    )


@pytest.mark.parametrize(("text", "message"), [
    ("defaultConfig:\n  concurrency: abc\n",
     "line 2: mesh config defaultConfig.concurrency: must be an integer, not a string \"abc\""),
    ("enableTracing: \"true\"\n",
     "line 1: mesh config enableTracing: must be true or false, not a string \"true\""),
    ("trustDomain: 42\n", "line 1: mesh config trustDomain: must be a string, not a number"),
    ("defaultConfig:\n  interceptionMode: IPTABLES\n",
     "line 2: mesh config defaultConfig.interceptionMode: must be one of NONE, REDIRECT, "
     "TPROXY, not \"IPTABLES\""),
    ("extensionProviders: {name: x}\n",
     "line 1: mesh config extensionProviders: must be a list, not a mapping"),
])
def test_mesh_config_of_the_wrong_type_is_an_error(tmp_path: Path, text: str,
                                                    message: str) -> None:
    mesh = tmp_path / "mesh.yaml"
    mesh.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings(CONFIG, VALUES, mesh)
    assert str(err.value) == f"{mesh}: {message}"


def test_values_numbers_for_strings_only_warn(tmp_path: Path) -> None:
    """Istio's injector renders values without its types: ``excludeInboundPorts: 15021``
    works there, so it is a warning, not an error."""
    values = tmp_path / "values.yaml"
    values.write_text("global:\n  hub: docker.io/istio\n  tag: 1.29.0\n  proxy:\n"
                      "    excludeInboundPorts: 15021\n")
    s = load_settings(CONFIG, values)
    assert s.warnings == (f"{values}: line 5: values global.proxy.excludeInboundPorts: should "
                          "be a string, not a number (write it in quotes)",)


@pytest.mark.parametrize(("text", "empty"), [
    ('{"global": {"logging": {"level": "default:info"}}}', "global.hub and global.tag are"),
    ('{"global": {"hub": "docker.io/istio"}}', "global.tag is"),
    ('{"global": {"hub": "docker.io/istio", "tag": ""}}', "global.tag is"),
])
def test_a_values_file_without_hub_or_tag_warns(tmp_path: Path, text: str, empty: str) -> None:
    """A values file replaces the built-in values (as Istio's does): one that leaves out the hub
    or tag gives the proxy an image no registry serves; Istio says nothing, meshctl warns."""
    values = tmp_path / "values.json"
    values.write_text(text)
    warnings = load_settings(CONFIG, values).warnings
    assert len(warnings) == 1 and warnings[0].startswith(f"{values}: {empty} empty: ")
    assert not load_settings(CONFIG, values, hub="docker.io/istio", tag="1.29.0").warnings
    full = load_settings(CONFIG, values, proxy_image="docker.io/istio/proxyv2:1.29.0")
    assert not full.warnings  # a full image reference does not use them


@pytest.mark.parametrize(("flags", "message"), [
    ({"tag": ""}, "--tag ''"),
    ({"tag": "1.29 debug"}, "--tag '1.29 debug'"),
    ({"hub": ""}, "--hub ''"),
    ({"hub": "https://docker.io/istio"}, "--hub 'https://docker.io/istio'"),
    ({"proxy_image": "docker.io/istio/proxyv2:"}, "--proxy-image 'docker.io/istio/proxyv2:'"),
    ({"proxy_init_image": "Proxy V2"}, "--proxy-init-image 'Proxy V2'"),
])
def test_image_flags_are_checked(flags: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match="^" + message.replace(".", "\\.")):
        load_settings(CONFIG, VALUES, **flags)  # type: ignore[arg-type]


@pytest.mark.parametrize("flags", [
    {"tag": "1.29.0"}, {"tag": "latest"}, {"hub": "localhost:5000/istio"},
    {"hub": "gcr.io/my-project/istio-release"}, {"proxy_image": "proxyv2"},
    {"proxy_image": "docker.io/istio/proxyv2:1.29.0-distroless"},
    {"proxy_image": "docker.io/istio/proxyv2@sha256:" + "a" * 64},
])
def test_good_image_flags(flags: dict[str, str]) -> None:
    load_settings(CONFIG, VALUES, **flags)  # type: ignore[arg-type]
