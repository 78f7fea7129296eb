"""The emulator's fixes to kmock 0.8, checked over HTTP and through real kubectl."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.kube import objects as o
from tests.kube.emulator import EmulatorServer, selector_matches


def _get(server: EmulatorServer, path: str) -> Any:
    with urllib.request.urlopen(server.url + path, timeout=5) as response:
        return json.load(response)


def _kubectl(server: EmulatorServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", "--kubeconfig", str(server.kubeconfig), *args],
                          capture_output=True, text=True, timeout=30)


def test_core_discovery_group_version_and_subresource_short_names(
        cluster: EmulatorServer) -> None:
    core = _get(cluster, "/api/v1")
    assert core["groupVersion"] == "v1"
    by_name = {r["name"]: r for r in core["resources"]}
    assert by_name["pods"]["shortNames"] == ["po"]
    assert by_name["pods/status"]["shortNames"] == []
    assert by_name["services"]["namespaced"] is True and by_name["nodes"]["namespaced"] is False
    gw = _get(cluster, "/apis/gateway.networking.k8s.io/v1")
    assert gw["groupVersion"] == "gateway.networking.k8s.io/v1"
    assert {r["name"] for r in gw["resources"]} >= {"gateways", "gateways/status"}


def test_lists_have_kind_api_version_metadata(cluster: EmulatorServer) -> None:
    cluster.add(o.service("web"))
    found = _get(cluster, "/api/v1/namespaces/default/services")
    assert (found["kind"], found["apiVersion"]) == ("ServiceList", "v1")
    assert "resourceVersion" in found["metadata"]
    gws = _get(cluster, "/apis/gateway.networking.k8s.io/v1/gateways")
    assert (gws["kind"], gws["apiVersion"]) == ("GatewayList", "gateway.networking.k8s.io/v1")


def test_namespaces_resource(cluster: EmulatorServer) -> None:
    cluster.add(o.namespace("istio-system"), o.namespace("default"))
    names = [n["metadata"]["name"] for n in _get(cluster, "/api/v1/namespaces")["items"]]
    assert sorted(names) == ["default", "istio-system"]
    assert _get(cluster, "/api/v1/namespaces/istio-system")["kind"] == "Namespace"
    with pytest.raises(urllib.error.HTTPError) as err:
        _get(cluster, "/api/v1/namespaces/nope")
    assert err.value.code == 404
    status = json.load(err.value)
    assert (status["reason"], status["message"]) == ("NotFound", 'namespaces "nope" not found')


def test_label_selector_filters(cluster: EmulatorServer) -> None:
    cluster.add(o.pod("a", labels={"app": "web", "v": "1"}),
                o.pod("b", labels={"app": "web", "v": "2"}),
                o.pod("c", labels={"app": "db"}))
    def names(selector: str) -> list[str]:
        query = urllib.parse.urlencode({"labelSelector": selector})
        found = _get(cluster, f"/api/v1/namespaces/default/pods?{query}")
        return sorted(p["metadata"]["name"] for p in found["items"])

    assert names("app=web") == ["a", "b"]
    assert names("app=web,v!=1") == ["b"]
    assert names("app in (db, other)") == ["c"]
    assert names("!v") == ["c"]
    result = _kubectl(cluster, "get", "pods", "-l", "app=web,v=2", "-o",
                      "jsonpath={.items[*].metadata.name}")
    assert (result.returncode, result.stdout) == (0, "b")


def test_selector_semantics() -> None:
    labels = {"app": "web", "tier": "front"}
    assert selector_matches("", labels)
    assert selector_matches("app==web,tier", labels)
    assert not selector_matches("app notin (web)", labels)
    assert selector_matches("env notin (prod)", labels)
    assert not selector_matches("tier,!app", labels)


def test_real_kubectl_reads_every_resource(cluster: EmulatorServer) -> None:
    cluster.add(o.flatten([o.walkthrough_2017(), [o.gateway("gw")],
                           [o.configmap("istio", "istio-system", {"mesh": "{}"})]]))
    result = _kubectl(cluster, "get", "svc,pods,nodes,cm,gtw,ns", "-A", "-o", "json")
    assert result.returncode == 0, result.stderr
    kinds = {item["kind"] for item in json.loads(result.stdout)["items"]}
    assert kinds == {"Service", "Pod", "Node", "ConfigMap", "Gateway", "Namespace"}
    # short names resolve to one resource each (no "ambiguous" warnings)
    assert "Warning" not in result.stderr


def test_denials(cluster: EmulatorServer) -> None:
    cluster.add(o.service("web"))
    cluster.deny(403)
    forbidden = _kubectl(cluster, "get", "svc", "web", "-o", "json")
    assert forbidden.returncode == 1
    assert forbidden.stderr.startswith("Error from server (Forbidden): services \"web\" is ")
    cluster.deny(401)
    unauthorized = _kubectl(cluster, "get", "svc", "web", "-o", "json")
    assert "You must be logged in to the server (Unauthorized)" in unauthorized.stderr
    cluster.deny(None)
    assert _kubectl(cluster, "get", "svc", "web", "-o", "name").stdout == "service/web\n"


def test_requests_are_recorded_with_their_real_paths(cluster: EmulatorServer) -> None:
    cluster.add(o.namespace("default"))
    assert _kubectl(cluster, "get", "ns", "default", "-o", "name").returncode == 0
    assert "/api/v1/namespaces/default" in cluster.requests()
