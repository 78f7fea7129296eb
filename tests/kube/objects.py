"""Builders of the cluster objects the URL tests use: plain dicts, as kubectl prints them.

The scenarios mirror real installs: the 2017 walkthrough (Istio 0.1/0.2: a NodePort
``istio-ingress`` whose pods are labelled ``istio=ingress``, NodePort addons), today's Helm
gateway chart (a LoadBalancer ``istio-ingressgateway`` whose first port is ``status-port``, see
../shared/realworld/istio-gateway) and today's samples/addons (ClusterIP services, see
../shared/realworld/istio-addons-services.yaml).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import SHARED

Obj = dict[str, Any]


def namespace(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def service(
    name: str,
    ns: str = "default",
    *,
    type: str = "ClusterIP",
    ports: Sequence[Mapping[str, Any]] = ({"name": "http", "port": 80},),
    selector: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    lb: Sequence[Mapping[str, str]] | None = None,
    **spec: Any,
) -> Obj:
    obj: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": dict(labels or {})},
        "spec": {"type": type, "ports": [dict(p) for p in ports],
                 "selector": dict(selector if selector is not None else {"app": name}), **spec},
        "status": {"loadBalancer": {"ingress": [dict(i) for i in lb]} if lb else {}},
    }
    return obj


def pod(
    name: str,
    ns: str = "default",
    *,
    labels: Mapping[str, str],
    phase: str = "Running",
    ready: bool = True,
    host_ip: str | None = "10.0.0.11",
    node: str | None = "node-1",
) -> Obj:
    status: Obj = {"phase": phase}
    if phase != "Pending" and host_ip:
        status["hostIP"] = host_ip
    if phase == "Running":
        status["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
    spec: Obj = {"containers": [{"name": "main", "image": "example"}]}
    if node and phase != "Pending":
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": dict(labels)},
        "spec": spec,
        "status": status,
    }


def node(name: str, *, internal: str | None = None, external: str | None = None,
         ready: bool = True) -> Obj:
    addresses = []
    if external:
        addresses.append({"type": "ExternalIP", "address": external})
    if internal:
        addresses.append({"type": "InternalIP", "address": internal})
    addresses.append({"type": "Hostname", "address": name})
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {"addresses": addresses,
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def gateway(
    name: str,
    ns: str = "default",
    *,
    listeners: Sequence[Mapping[str, Any]] = (
        {"name": "http", "port": 80, "protocol": "HTTP"},),
    addresses: Sequence[Mapping[str, str]] = (),
    programmed: bool | None = None,
) -> Obj:
    status: Obj = {"addresses": [dict(a) for a in addresses]}
    if programmed is not None:
        status["conditions"] = [{
            "type": "Programmed", "status": "True" if programmed else "False",
            "reason": "Programmed" if programmed else "AddressNotAssigned",
            "message": "Resource programmed" if programmed
            else "Assigned to service(s) but no address assigned yet"}]
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"gatewayClassName": "istio", "listeners": [dict(x) for x in listeners]},
        "status": status,
    }


def configmap(name: str, ns: str, data: Mapping[str, str]) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns}, "data": dict(data)}


# -- scenarios ------------------------------------------------------------------------------


def walkthrough_2017() -> list[Obj]:
    """Istio 0.2 on a two-node cluster: NodePort ``istio-ingress`` (selector istio=ingress)
    with one Pending pod listed first and one Ready pod, and the NodePort addons."""
    ns = "istio-system"
    return [
        namespace(ns),
        namespace("default"),
        service("istio-ingress", ns, type="NodePort", selector={"istio": "ingress"},
                labels={"istio": "ingress"},
                ports=[{"name": "http", "port": 80, "nodePort": 32000},
                       {"name": "https", "port": 443, "nodePort": 31195}]),
        pod("istio-ingress-1a-pending", ns, labels={"istio": "ingress"}, phase="Pending"),
        pod("istio-ingress-2b", ns, labels={"istio": "ingress"}, host_ip="10.128.0.4",
            node="node-b"),
        service("grafana", ns, type="NodePort", selector={"app": "grafana"},
                ports=[{"name": "http", "port": 3000, "nodePort": 30300}]),
        pod("grafana-1", ns, labels={"app": "grafana"}, host_ip="10.128.0.3", node="node-a"),
        service("prometheus", ns, type="NodePort", selector={"app": "prometheus"},
                ports=[{"name": "prometheus", "port": 9090, "nodePort": 30900}]),
        pod("prometheus-1", ns, labels={"app": "prometheus"}, host_ip="10.128.0.3",
            node="node-a"),
        service("zipkin", ns, type="NodePort", selector={"app": "zipkin"},
                ports=[{"name": "http", "port": 9411, "nodePort": 30411}]),
        pod("zipkin-1", ns, labels={"app": "zipkin"}, host_ip="10.128.0.4", node="node-b"),
        node("node-a", internal="10.128.0.3"),
        node("node-b", internal="10.128.0.4"),
    ]


def _shared_documents(relative: str) -> list[Obj]:
    text = (SHARED / relative).read_text(encoding="utf-8")
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]


def modern_gateway(*, ip: str | None = "203.0.113.10", hostname: str | None = None) -> list[Obj]:
    """The Helm gateway chart's Service, exactly as rendered in ../shared (status-port first),
    with a load-balancer address, and a Ready gateway pod."""
    chart = _shared_documents("realworld/istio-gateway/istio-ingressgateway-chart.yaml")
    svc = next(d for d in chart if d["kind"] == "Service")
    entry = {k: v for k, v in (("ip", ip), ("hostname", hostname)) if v}
    svc["status"] = {"loadBalancer": {"ingress": [entry]} if entry else {}}
    for i, port in enumerate(svc["spec"]["ports"]):
        port["nodePort"] = 30000 + i
    return [
        namespace("istio-system"),
        svc,
        pod("istio-ingressgateway-5d8f", "istio-system",
            labels={"app": "istio-ingressgateway", "istio": "ingressgateway"},
            host_ip="10.0.0.21", node="node-1"),
        node("node-1", internal="10.0.0.21"),
    ]


def modern_addons() -> list[Obj]:
    """samples/addons' Services (ClusterIP), each document of ../shared unchanged."""
    return [namespace("istio-system"),
            *_shared_documents("realworld/istio-addons-services.yaml")]


def flatten(groups: Iterable[Iterable[Obj]]) -> list[Obj]:
    return [obj for group in groups for obj in group]


def write_list(path: Path, objects: Iterable[Obj]) -> Path:
    import json

    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}),
                    encoding="utf-8")
    return path
