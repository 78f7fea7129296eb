"""Kubernetes Ingress objects: ``networking.k8s.io/v1`` (kubectl's object) and the 2017
``extensions/v1beta1`` form of the BookInfo walkthrough.

:func:`ingress_v1` gives, for kubectl's arguments, the object ``kubectl create ingress
--dry-run=client -o yaml`` prints, without its ``creationTimestamp: null`` and empty ``status``,
keys in reading order (metadata, class, default backend, TLS, rules) instead of Go's
alphabetical order; annotations sorted by key, as kubectl prints them.

:func:`ingress_v1beta1` is the same routing in the old schema: ``spec.backend``,
``serviceName``/``servicePort``, and the class as the ``kubernetes.io/ingress.class``
annotation (the walkthrough's ``istio``). It keeps ``pathType``, which API servers 1.18-1.21
read (older ones did not know it; on those, ``kubectl apply --validate=false``). Kubernetes
1.22 and later do not serve ``extensions/v1beta1`` Ingress at all.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from collections.abc import Callable, Mapping
    from typing import Any

    from meshctl.gateways.rules import TLS, Backend, HostRule, Routes

INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"


def metadata(
    name: str, namespace: str | None, annotations: Mapping[str, str] | None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if annotations:
        meta["annotations"] = dict(sorted(annotations.items()))
    return meta


def _backend_v1(backend: Backend) -> dict[str, Any]:
    port = backend.port
    return {
        "service": {
            "name": backend.service,
            "port": {"number": port} if isinstance(port, int) else {"name": port},
        }
    }


def _backend_v1beta1(backend: Backend) -> dict[str, Any]:
    return {"serviceName": backend.service, "servicePort": backend.port}


def _tls(entry: TLS) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if entry.hosts:
        out["hosts"] = list(entry.hosts)
    if entry.secret:
        out["secretName"] = entry.secret
    return out


def _rules(
    rules: tuple[HostRule, ...], backend: Callable[[Backend], dict[str, Any]]
) -> list[dict[str, Any]]:
    out = []
    for rule in rules:
        item: dict[str, Any] = {"host": rule.host} if rule.host else {}
        item["http"] = {
            "paths": [
                {"path": p.path, "pathType": p.path_type, "backend": backend(p.backend)}
                for p in rule.paths
            ]
        }
        out.append(item)
    return out


def ingress_v1(
    name: str,
    routes: Routes,
    *,
    namespace: str | None = None,
    annotations: Mapping[str, str] | None = None,
    class_name: str = "istio",
) -> dict[str, Any]:
    """A ``networking.k8s.io/v1`` Ingress (``class_name`` ``""``: no ``ingressClassName``)."""
    spec: dict[str, Any] = {}
    if class_name:
        spec["ingressClassName"] = class_name
    if routes.default_backend is not None:
        spec["defaultBackend"] = _backend_v1(routes.default_backend)
    if routes.tls:
        spec["tls"] = [_tls(t) for t in routes.tls]
    if routes.rules:
        spec["rules"] = _rules(routes.rules, _backend_v1)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(name, namespace, annotations),
        "spec": spec,
    }


def ingress_v1beta1(
    name: str,
    routes: Routes,
    *,
    namespace: str | None = None,
    annotations: Mapping[str, str] | None = None,
    class_name: str = "istio",
) -> dict[str, Any]:
    """An ``extensions/v1beta1`` Ingress, the class in the ``kubernetes.io/ingress.class``
    annotation (``class_name`` ``""``: no such annotation)."""
    annotations = dict(annotations or {})
    if class_name:
        annotations[INGRESS_CLASS_ANNOTATION] = class_name
    spec: dict[str, Any] = {}
    if routes.default_backend is not None:
        spec["backend"] = _backend_v1beta1(routes.default_backend)
    if routes.tls:
        spec["tls"] = [_tls(t) for t in routes.tls]
    if routes.rules:
        spec["rules"] = _rules(routes.rules, _backend_v1beta1)
    return {
        "apiVersion": "extensions/v1beta1",
        "kind": "Ingress",
        "metadata": metadata(name, namespace, annotations),
        "spec": spec,
    }
