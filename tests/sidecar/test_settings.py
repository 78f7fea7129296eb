"""Loading injection settings the way Istio's chart and istioctl do
(meshctl.sidecar.config.settings)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meshctl.errors import ConfigError
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
