"""``meshctl fn`` through the KRM function protocol: a ResourceList on stdin, the ResourceList
with results on stdout (the real ``meshctl`` console script, as kpt's ``--exec`` runs it).

kubectl's kustomize does not run exec KRM functions (only container ones, through docker), so
this is the protocol test; the input is shaped as kpt and kustomize send it
(fixtures/integrations/resource-list.yaml).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshctl.cli.spec import CLUSTER_OPTIONS, PROFILE_OPTIONS
from meshctl.errors import ConfigError
from meshctl.integrations.krm import CONFIG_KEYS, config_values
from tests.integrations.tools import FIXTURES, kube_inject, objects, run, script

RESOURCE_LIST = (FIXTURES / "resource-list.yaml").read_text()
HEADER = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"


def _fn(tmp_path: Path, stdin: str, *args: str) -> tuple[int, str, str]:
    res = run([script("meshctl"), "fn", *args], tmp_path, stdin=stdin)
    return res.returncode, res.stdout, res.stderr


def _items(text: str) -> str:
    """The items of a ResourceList as a YAML stream."""
    return yaml.safe_dump_all(yaml.safe_load(text)["items"], sort_keys=False)


def test_items_are_injected_and_keep_their_text(tmp_path: Path) -> None:
    code, out, err = _fn(tmp_path, RESOURCE_LIST)
    assert code == 0, err
    assert err == ""
    # the ResourceList's text is edited as kube-inject edits a List: the same bytes, with the
    # results after them
    as_list = RESOURCE_LIST.replace(HEADER, "apiVersion: v1\nkind: List\n")
    expected = kube_inject(as_list, tmp_path, "--revision", "canary").replace(
        "apiVersion: v1\nkind: List\n", HEADER, 1)
    assert out.startswith(expected)
    assert out[len(expected):].startswith("results:\n")
    assert "labels: {app: web, security.istio.io/tlsMode: istio" in out  # flow style kept
    assert "# pod labels" in out and "# 03:00 UTC" in out
    assert "      ports: [{port: 80}]\n" in out  # the Service item: untouched
    # and as objects: kube-inject of the items
    assert objects(_items(out)) == objects(
        kube_inject(_items(RESOURCE_LIST), tmp_path, "--revision", "canary"))


def test_the_same_warnings_as_kube_inject(tmp_path: Path) -> None:
    """Pod Security (a Namespace among the items) and the settings' warnings are results too."""
    namespace = ("  - apiVersion: v1\n    kind: Namespace\n    metadata:\n      name: shop\n"
                 "      labels: {pod-security.kubernetes.io/enforce: restricted}\n")
    values = tmp_path / "values.yaml"
    values.write_text("global:\n  proxy:\n    resoures: {}\n", encoding="utf-8")  # a typo
    text = RESOURCE_LIST.replace("items:\n", "items:\n" + namespace, 1)
    text = text.replace("revision: canary", f"revision: canary\n    valuesFile: {values}")
    code, out, err = _fn(tmp_path, text)
    assert code == 0, err
    warnings = [r["message"] for r in yaml.safe_load(out)["results"]
                if r["severity"] == "warning"]
    assert any('Pod Security level "restricted"' in w for w in warnings), warnings
    assert any("resoures" in w for w in warnings), warnings
    as_list = text.replace(HEADER, "apiVersion: v1\nkind: List\n")
    res = run([script("meshctl"), "kube-inject", "-f", "-", "--revision", "canary",
               "--valuesFile", str(values)], tmp_path, stdin=as_list)
    assert res.returncode == 0, res.stderr
    for warning in warnings:
        assert warning in res.stderr


def test_results_name_each_workload(tmp_path: Path) -> None:
    code, out, _ = _fn(tmp_path, RESOURCE_LIST)
    assert code == 0
    data = yaml.safe_load(out)
    assert data["functionConfig"]["data"] == {"revision": "canary"}
    assert data["results"] == [
        {"message": "the sidecar was injected", "severity": "info",
         "resourceRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                         "namespace": "shop"},
         "file": {"path": "apps/web.yaml", "index": 0},
         "tags": {"action": "injected", "reason": "injected"}},
        {"message": "the istio-proxy sidecar keeps the pods from completing (it runs on after "
                    "the job's containers exit): inject it as a native sidecar with "
                    "--native-sidecars true (Kubernetes 1.29 or later; 1.28 with the "
                    "SidecarContainers feature gate)", "severity": "warning",
         "resourceRef": {"apiVersion": "batch/v1", "kind": "CronJob", "name": "report"},
         "file": {"path": "jobs/report.yaml", "index": 0}},
        {"message": "the sidecar was injected", "severity": "info",
         "resourceRef": {"apiVersion": "batch/v1", "kind": "CronJob", "name": "report"},
         "file": {"path": "jobs/report.yaml", "index": 0},
         "tags": {"action": "injected", "reason": "injected"}},
        {"message": 'skipped (label_disabled): label sidecar.istio.io/inject is "false"',
         "severity": "info",
         "resourceRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "legacy",
                         "namespace": "shop"},
         "file": {"path": "apps/legacy.yaml", "index": 0},
         "tags": {"action": "skipped", "reason": "label_disabled"}},
    ]


def test_a_sidecar_injector_config_and_earlier_results(tmp_path: Path) -> None:
    config = ("functionConfig:\n  apiVersion: meshctl.dev/v1\n  kind: SidecarInjector\n"
              "  metadata: {name: inject}\n  spec:\n    revision: blue\n"
              "    nativeSidecars: true\n")
    text = RESOURCE_LIST.replace(
        RESOURCE_LIST[RESOURCE_LIST.index("functionConfig:"):RESOURCE_LIST.index("items:")],
        config) + "results:\n  - message: from an earlier function\n"
    code, out, err = _fn(tmp_path, text)
    assert code == 0, err
    data = yaml.safe_load(out)
    assert data["results"][0] == {"message": "from an earlier function"}
    assert len(data["results"]) == 4
    assert objects(_items(out)) == objects(kube_inject(
        _items(text), tmp_path, "--revision", "blue", "--native-sidecars", "true"))


def test_no_function_config_means_the_builtin_profile(tmp_path: Path) -> None:
    text = f"{HEADER}items:\n{RESOURCE_LIST.split('items:', 1)[1]}"
    code, out, err = _fn(tmp_path, text)
    assert code == 0, err
    assert objects(_items(out)) == objects(kube_inject(_items(text), tmp_path))


def test_a_json_resource_list(tmp_path: Path) -> None:
    data = yaml.safe_load(RESOURCE_LIST)
    code, out, err = _fn(tmp_path, json.dumps(data))
    assert code == 0, err
    back = json.loads(out)  # JSON in, JSON out
    assert back["results"] == yaml.safe_load(_fn(tmp_path, RESOURCE_LIST)[1])["results"]
    assert objects(_items(out)) == objects(_items(_fn(tmp_path, RESOURCE_LIST)[1]))


def test_an_error_is_a_result_a_line_and_an_exit_code(tmp_path: Path) -> None:
    bad = RESOURCE_LIST.replace(
        "          labels: {app: web}  # pod labels\n",
        "          labels: {app: web}  # pod labels\n"
        "          annotations: {traffic.sidecar.istio.io/includeOutboundIPRanges: 10.0.0.0/33}\n")
    code, out, err = _fn(tmp_path, bad)
    assert code == 3
    message = err.splitlines()
    assert len(message) == 1
    assert message[0].startswith("meshctl: error: Deployment shop/web (apps/web.yaml): "
                                 "invalid value '10.0.0.0/33' for annotation")
    # the items come back as they came, with the error as the result
    assert out.startswith(bad)
    (result,) = yaml.safe_load(out)["results"]
    assert result["severity"] == "error"
    assert result["message"].startswith("invalid value '10.0.0.0/33'")
    assert result["resourceRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": "web", "namespace": "shop"}
    assert result["file"] == {"path": "apps/web.yaml", "index": 0}
    assert result["field"] == {
        "path": "spec.template.metadata.annotations"
                "[traffic.sidecar.istio.io/includeOutboundIPRanges]"}


@pytest.mark.parametrize(("stdin", "message"), [
    ("kind: Deployment\n", "expected a ResourceList (apiVersion config.kubernetes.io/v1)"),
    ("apiVersion: v9\nkind: ResourceList\nitems: []\n", "ResourceList apiVersion 'v9'"),
    (f"{HEADER}items: []\n---\n{HEADER}items: []\n", "expected one ResourceList, found 2"),
    ("items: [\n", "invalid YAML"),
    (f"{HEADER}items: []\nfunctionConfig: {{kind: ConfigMap, data: {{revison: x}}}}\n",
     "ConfigMap data: unknown key 'revison'; known keys: injectConfigFile"),
    (f"{HEADER}items: []\nfunctionConfig: {{kind: Secret}}\n",
     "function config of kind 'Secret'"),
])
def test_bad_input_fails_with_a_result(tmp_path: Path, stdin: str, message: str) -> None:
    code, out, err = _fn(tmp_path, stdin)
    assert code == 3
    assert message in err and err.count("\n") == 1
    data = yaml.safe_load(out)
    assert data["kind"] == "ResourceList"
    assert data["results"][-1]["severity"] == "error"
    assert message in data["results"][-1]["message"] or message in err


def test_every_profile_flag_has_a_config_key() -> None:
    options = PROFILE_OPTIONS + CLUSTER_OPTIONS
    fields = {field: choices for field, choices in CONFIG_KEYS.values()}
    assert set(fields) == {opt.dest for opt in options}
    for opt in options:
        want = ("true", "false") if opt.kind == "flag" else opt.choices
        assert fields[opt.dest] == want, opt.dest
    # each key is the long flag in camelCase
    long_flags = {opt.dest: next(f for f in opt.flags if f.startswith("--"))[2:]
                  for opt in options}
    for key, (field, _) in CONFIG_KEYS.items():
        words = long_flags[field].split("-")
        assert key == words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])


@pytest.mark.parametrize(("config", "error"), [
    ({"kind": "ConfigMap", "data": {"nativeSidecars": "yes"}},
     "nativeSidecars must be one of auto, true, false"),
    ({"kind": "ConfigMap", "data": {"revision": 1}}, "revision must be a string"),
    ({"kind": "ConfigMap", "data": ["revision"]}, "ConfigMap data must be a mapping"),
    ({"apiVersion": "other.dev/v1", "kind": "SidecarInjector"}, "expected a ConfigMap or a"),
    ({"kind": "ConfigMap", "data": {"context": "prod"}},
     "context reads the cluster: it goes with fromCluster: true"),
    ({"kind": "ConfigMap", "data": {"fromCluster": "yes"}}, "fromCluster must be one of true"),
    ("revision: x", "the function config must be a mapping"),
    ({"kind": "ConfigMap", "data": {"templateEnv": "CI, BAD-NAME"}},
     "templateEnv: 'BAD-NAME' is not an environment variable name"),
    ({"kind": "ConfigMap", "data": {"templateEnv": 3}}, "templateEnv must be a list of names"),
])
def test_config_errors(config: Any, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        config_values(config)


def test_config_values() -> None:
    assert config_values(None) == {}
    assert config_values({"kind": "ConfigMap", "metadata": {"name": "x"}}) == {}
    spec = {"revision": "canary", "nativeSidecars": False, "hub": "", "reinject": "merge",
            "injectConfigFile": "inject.yaml"}
    assert config_values({"apiVersion": "meshctl.dev/v1", "kind": "SidecarInjector",
                          "spec": spec}) == {
        "revision": "canary", "native_sidecars": "false", "reinject": "merge",
        "inject_config_file": "inject.yaml"}
    cluster = {"fromCluster": "true", "context": "prod", "istioNamespace": "mesh"}
    assert config_values({"kind": "ConfigMap", "data": cluster}) == {
        "from_cluster": True, "context": "prod", "istio_namespace": "mesh"}
    assert config_values({"apiVersion": "meshctl.dev/v1", "kind": "SidecarInjector",
                          "spec": {"fromCluster": False}}) == {"from_cluster": False}
    assert config_values({"kind": "ConfigMap", "data": {"templateEnv": "CI, GIT_SHA,"}}) == {
        "template_env": ("CI", "GIT_SHA")}
    assert config_values({"apiVersion": "meshctl.dev/v1", "kind": "SidecarInjector",
                          "spec": {"templateEnv": ["CI"]}}) == {"template_env": ("CI",)}
