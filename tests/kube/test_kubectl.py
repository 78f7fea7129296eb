"""The kubectl layer: real kubectl against the emulator, its failures as meshctl errors, saved
state files, and Istio's ConfigMaps for ``kube-inject --from-cluster``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from meshctl.errors import (
    EXIT_FORBIDDEN,
    EXIT_KUBECTL,
    EXIT_NOT_FOUND,
    EXIT_UNREACHABLE,
    ConfigError,
    ForbiddenError,
    InputError,
    KubectlError,
    NotFoundError,
    NotReadyError,
    UnreachableError,
)
from meshctl.kube.kubectl import (
    CONFIGMAPS,
    GATEWAYS,
    NODES,
    PODS,
    SERVICES,
    Access,
    Kubectl,
    StateFile,
    classify,
    configmap_names,
    error_line,
    get_configmap,
    parse_state,
    read_istio_configmaps,
)
from tests.kube import objects as o
from tests.kube.emulator import EmulatorServer

# -- reads through real kubectl ----------------------------------------------------------------


def test_get_and_list(cluster: EmulatorServer, kubectl: Kubectl) -> None:
    cluster.add(o.walkthrough_2017())
    svc = kubectl.get(SERVICES, "istio-ingress", "istio-system")
    assert svc["spec"]["ports"][0]["nodePort"] == 32000
    pods = kubectl.list(PODS, "istio-system", {"istio": "ingress"})
    assert [p["metadata"]["name"] for p in pods] == [
        "istio-ingress-1a-pending", "istio-ingress-2b"]
    assert [n["metadata"]["name"] for n in kubectl.list(NODES)] == ["node-a", "node-b"]
    assert kubectl.list(PODS, "istio-system", {"istio": "nothing"}) == []
    # the exact requests: by name, and a label selector the server filters
    assert "/api/v1/namespaces/istio-system/services/istio-ingress" in cluster.requests()
    assert ("/api/v1/namespaces/istio-system/pods?labelSelector=istio%3Dingress&limit=500"
            in cluster.requests())


def test_current_namespace_comes_from_the_context(cluster: EmulatorServer) -> None:
    cluster.add(o.service("productpage", "bookinfo"), o.namespace("bookinfo"))
    default = Kubectl(Access(kubeconfig=str(cluster.kubeconfig)))
    elsewhere = Kubectl(Access(kubeconfig=str(cluster.kubeconfig), context="elsewhere"))
    assert (default.namespace(), elsewhere.namespace()) == ("default", "bookinfo")
    assert elsewhere.get(SERVICES, "productpage")["metadata"]["namespace"] == "bookinfo"
    with pytest.raises(NotFoundError) as err:
        default.get(SERVICES, "productpage")
    assert err.value.message == 'service "productpage" not found in namespace "default"'


def test_not_found_names_the_object_and_namespace(kubectl: Kubectl) -> None:
    with pytest.raises(NotFoundError) as err:
        kubectl.get(GATEWAYS, "bookinfo-gateway", "bookinfo")
    assert err.value.exit_code == EXIT_NOT_FOUND
    assert err.value.message == 'Gateway "bookinfo-gateway" not found in namespace "bookinfo"'
    with pytest.raises(NotFoundError, match=r'^node "n9" not found$'):
        kubectl.get(NODES, "n9")
    assert kubectl.namespace_exists("bookinfo") is False


def test_unknown_resource_type_is_not_found(kubectl: Kubectl) -> None:
    with pytest.raises(NotFoundError, match="doesn't have a resource type \"virtualservices\""):
        kubectl.list("virtualservices", "default")


def test_forbidden_and_unauthorized(cluster: EmulatorServer, kubectl: Kubectl) -> None:
    cluster.add(o.service("web"), o.namespace("default"))
    cluster.deny(403)
    with pytest.raises(ForbiddenError) as err:
        kubectl.get(SERVICES, "web", "default")
    assert err.value.exit_code == EXIT_FORBIDDEN
    assert err.value.message == (
        'the cluster refused the request: services "web" is forbidden: User "tester" cannot '
        'get resource "services" in API group "" in the namespace "default"')
    assert kubectl.namespace_exists("default") is None  # cannot tell
    cluster.deny(401)
    with pytest.raises(ForbiddenError, match=r"must be logged in to the server \(Unauthorized\)"):
        kubectl.list(PODS, "default")


def test_kubectl_not_found(tmp_path: Path) -> None:
    missing = Kubectl(Access(kubectl=str(tmp_path / "no-kubectl")))
    with pytest.raises(KubectlError) as err:
        missing.get(SERVICES, "web")
    assert err.value.exit_code == EXIT_KUBECTL
    assert "kubectl not found" in err.value.message and "--kubectl" in err.value.message
    not_executable = tmp_path / "kubectl"
    not_executable.write_text("#!/bin/sh\n")
    with pytest.raises(KubectlError, match="cannot run kubectl"):
        Kubectl(Access(kubectl=str(not_executable))).list(PODS)


def test_unreachable(closed_port_kubeconfig: Path, tmp_path: Path,
                     cluster: EmulatorServer) -> None:
    refused = Kubectl(Access(kubeconfig=str(closed_port_kubeconfig)))
    with pytest.raises(UnreachableError) as err:
        refused.get(SERVICES, "web", "default")
    assert err.value.exit_code == EXIT_UNREACHABLE
    assert err.value.message.startswith("cannot reach the cluster: The connection to the server")
    assert "\n" not in err.value.message
    bad_context = Kubectl(Access(kubeconfig=str(cluster.kubeconfig), context="nope"))
    with pytest.raises(UnreachableError, match="context was not found"):
        bad_context.list(SERVICES)
    no_file = Kubectl(Access(kubeconfig=str(tmp_path / "missing")))
    with pytest.raises(UnreachableError, match="no such file"):
        no_file.list(SERVICES)
    broken = tmp_path / "broken"
    broken.write_text("clusters: [\n")
    with pytest.raises(UnreachableError, match="error loading config file"):
        Kubectl(Access(kubeconfig=str(broken))).list(SERVICES)


def test_global_options_on_every_command() -> None:
    access = Access("/opt/kubectl", "/tmp/kc", "prod", "5s")
    assert Kubectl(access).command("get", "pods") == [
        "/opt/kubectl", "--kubeconfig", "/tmp/kc", "--context", "prod",
        "--request-timeout", "5s", "get", "pods"]
    assert Kubectl().command("version") == ["kubectl", "version"]


@pytest.mark.parametrize(("stderr", "error", "message"), [
    ('E1201 10:53:36.960744   10500 memcache.go:381] "Couldn\'t get" err="dial tcp"\n'
     "The connection to the server 127.0.0.1:1 was refused - did you specify the right host "
     "or port?\n", UnreachableError,
     "cannot reach the cluster: The connection to the server 127.0.0.1:1 was refused - did "
     "you specify the right host or port?"),
    ("Unable to connect to the server: dial tcp: lookup x.invalid: no such host\n",
     UnreachableError, "cannot reach the cluster: Unable to connect to the server: dial tcp: "
     "lookup x.invalid: no such host"),
    ('error: context "prod" does not exist\n', UnreachableError,
     'cannot reach the cluster: context "prod" does not exist'),
    ("Error from server (ServiceUnavailable): the server is currently unable to handle the "
     "request\n", UnreachableError, "the cluster could not answer: the server is currently "
     "unable to handle the request"),
    ("Warning: v1 ComponentStatus is deprecated\nError from server (NotFound): services "
     '"x" not found\n', NotFoundError, 'services "x" not found'),
    ("error: unable to forward port because pod is not running. Current status=Pending\n",
     NotReadyError, "unable to forward port because pod is not running. Current "
     "status=Pending"),
    ("error: getting credentials: exec: executable gke-gcloud-auth-plugin not found\n",
     UnreachableError, "cannot reach the cluster: getting credentials: exec: executable "
     "gke-gcloud-auth-plugin not found"),
    ('error: the server doesn\'t have a resource type "gateways"\n', NotFoundError,
     'the server doesn\'t have a resource type "gateways" (is the CRD that defines it '
     "installed?)"),
    ("error: something new\n", KubectlError, "kubectl failed: something new"),
    ("", KubectlError, "kubectl failed with exit status 3 and no message"),
])
def test_classify(stderr: str, error: type[Exception], message: str) -> None:
    found = classify(stderr, 3)
    assert type(found) is error
    assert found.message == message


def test_error_line_skips_klog_and_warnings() -> None:
    assert error_line("I0101 00:00:00.000000 1 x.go:1] noise\nWarning: y\nerror: real\n") == (
        "real")


# -- state files -------------------------------------------------------------------------------


def test_state_file_from_real_kubectl_output(cluster: EmulatorServer, tmp_path: Path) -> None:
    """The documented way to save a state: ``kubectl get svc,pods,nodes -A -o json``."""
    cluster.add(o.flatten([o.walkthrough_2017(), o.modern_addons()]))
    saved = subprocess.run(
        ["kubectl", "--kubeconfig", str(cluster.kubeconfig), "get", "svc,pods,nodes", "-A",
         "-o", "json"], capture_output=True, text=True, check=True).stdout
    path = tmp_path / "state.json"
    path.write_text(saved)
    state = StateFile.read([str(path)])
    assert state.get(SERVICES, "istio-ingress", "istio-system")["spec"]["type"] == "NodePort"
    ready = state.list(PODS, "istio-system", {"istio": "ingress"})
    assert [p["metadata"]["name"] for p in ready] == [
        "istio-ingress-1a-pending", "istio-ingress-2b"]
    assert len(state.list(NODES)) == 2
    assert state.namespace() == "default"
    with pytest.raises(NotFoundError) as err:
        state.get(SERVICES, "nope", "istio-system")
    assert err.value.message == 'service "nope" not found in namespace "istio-system" (state file)'
    assert err.value.source == str(path)
    assert state.namespace_exists("istio-system") is True
    assert state.namespace_exists("bookinfo") is False


def test_state_several_files_yaml_and_concatenated_json(tmp_path: Path) -> None:
    first = tmp_path / "a.json"
    first.write_text(
        json.dumps({"kind": "ServiceList", "apiVersion": "v1",
                    "items": [{"metadata": {"name": "a", "namespace": "x"}, "spec": {}}]})
        + "\n" + json.dumps(o.node("n1", internal="10.0.0.1")))
    second = tmp_path / "b.yaml"
    second.write_text(
        "# saved with kubectl get -o yaml\n"
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: Service\n  metadata: {name: b, namespace: x}\n"
        "---\n"
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
        "metadata: {name: gw, namespace: x}\n")
    state = StateFile.read([str(first), str(second)])
    assert [s["metadata"]["name"] for s in state.list(SERVICES, "x")] == ["a", "b"]
    assert state.get(SERVICES, "a", "x")["kind"] == "Service"  # kind from ServiceList
    assert state.get(GATEWAYS, "gw", "x")["kind"] == "Gateway"
    assert state.get(NODES, "n1")["metadata"]["name"] == "n1"


@pytest.mark.parametrize(("text", "message"), [
    ('{"kind": "List", "items": [', "not valid JSON"),
    ("a: [b\n", "not valid YAML or JSON"),
    ('{"metadata": {}}', "an object without kind or metadata"),
    ('"text"', "not a Kubernetes object or List"),
])
def test_bad_state(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as err:
        parse_state(text, "state.txt")
    assert err.value.source == "state.txt"


def test_unreadable_state(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read state file") as err:
        StateFile.read([str(tmp_path / "missing.json")])
    assert err.value.source == str(tmp_path / "missing.json")
    assert parse_state("  \n", "empty") == []


# -- Istio's ConfigMaps ------------------------------------------------------------------------


INJECTOR_DATA = {"config": "policy: enabled\ntemplates: {}\n", "values": '{"global": {}}'}
MESH_DATA = {"mesh": "defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n"}


def test_configmap_names() -> None:
    assert configmap_names() == ("istio-sidecar-injector", "istio")
    assert configmap_names("canary") == ("istio-sidecar-injector-canary", "istio-canary")
    assert configmap_names("default") == ("istio-sidecar-injector", "istio")
    assert configmap_names("canary", "my-injector", None) == ("my-injector", "istio-canary")


def test_read_istio_configmaps(cluster: EmulatorServer, kubectl: Kubectl) -> None:
    cluster.add(o.configmap("istio-sidecar-injector-canary", "istio-system", INJECTOR_DATA),
                o.configmap("istio-canary", "istio-system", MESH_DATA),
                o.namespace("istio-system"))
    found = read_istio_configmaps(kubectl, revision="canary")
    assert (found.injector_name, found.mesh_name, found.namespace) == (
        "istio-sidecar-injector-canary", "istio-canary", "istio-system")
    assert (found.config, found.values, found.mesh) == (
        INJECTOR_DATA["config"], INJECTOR_DATA["values"], MESH_DATA["mesh"])
    assert get_configmap(kubectl, "istio-canary", "istio-system") == MESH_DATA
    assert f"/api/v1/namespaces/istio-system/{CONFIGMAPS}/istio-canary" in cluster.requests()


def test_missing_configmap_names_it_and_the_namespace(
        cluster: EmulatorServer, kubectl: Kubectl) -> None:
    cluster.add(o.configmap("istio-sidecar-injector", "istio-system", INJECTOR_DATA))
    with pytest.raises(NotFoundError) as err:
        read_istio_configmaps(kubectl)
    assert err.value.message == 'ConfigMap "istio" not found in namespace "istio-system"'
    with pytest.raises(NotFoundError, match='"istio-sidecar-injector" not found in namespace '
                                            '"my-istio"'):
        read_istio_configmaps(kubectl, namespace="my-istio")


def test_configmap_without_its_key(cluster: EmulatorServer, kubectl: Kubectl) -> None:
    cluster.add(o.configmap("istio-sidecar-injector", "istio-system", {"values": "{}"}),
                o.configmap("istio", "istio-system", MESH_DATA))
    with pytest.raises(ConfigError) as err:
        read_istio_configmaps(kubectl)
    assert err.value.message == (
        'ConfigMap "istio-sidecar-injector" in namespace "istio-system" has no key "config" '
        "(keys: values)")


def test_configmaps_from_a_state_file() -> None:
    state = StateFile([o.configmap("istio-sidecar-injector", "istio-system", {"config": "c"}),
                       o.configmap("istio", "istio-system", MESH_DATA)])
    found = read_istio_configmaps(state)
    assert (found.config, found.values) == ("c", None)
