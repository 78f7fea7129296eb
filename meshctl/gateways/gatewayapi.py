"""Gateway API ``gateway.networking.k8s.io/v1`` Gateway + HTTPRoutes with the routing of an
Ingress.

* The **Gateway** (named like the ingress, ``gatewayClassName`` from ``--class``, default
  ``istio``: Istio then deploys the gateway for it) has an ``http`` listener on port 80 for
  every host, and one ``HTTPS`` listener on 443 per TLS host (a listener has one hostname;
  a TLS entry without hosts gives one listener without hostname), ``Terminate`` with the
  entry's secret: ``https``, or ``https-1``... when there are several. TLS needs a secret.
* One **HTTPRoute** per host, attached to the Gateway (``parentRefs``), named like the ingress
  when there is one host, else ``NAME-HOST``; ``hostnames`` is the host (none for every host).
  Gateway API orders matches as an Ingress does (exact, then the longest prefix), so each
  backend gets one rule with all its paths in argument order. ``Prefix`` is ``PathPrefix``
  (both match whole path segments), ``Exact`` is ``Exact``; ``ImplementationSpecific`` has no
  equivalent and is refused. The default backend is a last rule without matches (Gateway API
  reads that as ``PathPrefix /``), in every HTTPRoute.
* backendRefs take a port number; Gateway API's limits (16 rules a route, 64 matches a rule,
  128 in all, 64 listeners) and its stricter path characters are checked up front, so that an
  argument the API server would refuse is a usage error here.
"""

from __future__ import annotations

from meshctl.errors import UsageError
from meshctl.gateways.ingress import metadata
from meshctl.gateways.rules import (
    EXACT,
    IMPLEMENTATION_SPECIFIC,
    numbered,
    require_port_numbers,
    require_secrets,
    route_hosts,
    route_names,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from collections.abc import Mapping
    from typing import Any

    from meshctl.gateways.rules import Backend, PathRule, Routes

API_VERSION = "gateway.networking.k8s.io/v1"
MAX_RULES = 16
MAX_MATCHES_PER_RULE = 64
MAX_MATCHES = 128
MAX_LISTENERS = 64

_PATH_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/._~!$&'()*+,;=:@"
)
_HEX = frozenset("0123456789abcdefABCDEF")


def path_chars_ok(path: str) -> bool:
    """``^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+$`` (the HTTPRoute CRD's rule)."""
    i = 0
    while i < len(path):
        if path[i] in _PATH_CHARS:
            i += 1
        elif path[i] == "%" and len(path) >= i + 3 and path[i + 1] in _HEX and path[i + 2] in _HEX:
            i += 3
        else:
            return False
    return path != ""


def _path_match(path: PathRule) -> dict[str, Any]:
    if path.path_type == IMPLEMENTATION_SPECIFIC:
        raise UsageError(
            "--style gateway-api: path type ImplementationSpecific has no Gateway API "
            "equivalent: use Prefix or Exact"
        )
    if len(path.path) > 1024 or not path_chars_ok(path.path):
        raise UsageError(
            f"--style gateway-api: path {path.path!r} must be at most 1024 characters of "
            f"A-Z a-z 0-9 -/._~!$&'()*+,;=:@ or %XX escapes"
        )
    kind = "Exact" if path.path_type == EXACT else "PathPrefix"
    return {"path": {"type": kind, "value": path.path}}


def _backend_refs(backend: Backend) -> list[dict[str, Any]]:
    return [{"name": backend.service, "port": backend.port}]


def route_rules(paths: tuple[PathRule, ...], default: Backend | None) -> list[dict[str, Any]]:
    """One rule per backend (in order of first appearance), then the default backend."""
    by_backend: dict[tuple[str, int | str], list[PathRule]] = {}
    for path in paths:
        by_backend.setdefault((path.backend.service, path.backend.port), []).append(path)
    rules: list[dict[str, Any]] = [
        {"matches": [_path_match(p) for p in group], "backendRefs": _backend_refs(group[0].backend)}
        for group in by_backend.values()
    ]
    if default is not None:
        rules.append({"backendRefs": _backend_refs(default)})
    if len(rules) > MAX_RULES:
        raise UsageError(
            f"--style gateway-api: an HTTPRoute has at most {MAX_RULES} rules, one per backend "
            f"of a host (and one for the default backend); this host needs {len(rules)}"
        )
    counts = [len(rule.get("matches", ())) for rule in rules]
    if max(counts) > MAX_MATCHES_PER_RULE or sum(counts) > MAX_MATCHES:
        raise UsageError(
            f"--style gateway-api: an HTTPRoute has at most {MAX_MATCHES_PER_RULE} paths per "
            f"backend and {MAX_MATCHES} in all"
        )
    return rules


def gateway_and_http_routes(
    name: str,
    routes: Routes,
    *,
    namespace: str | None = None,
    annotations: Mapping[str, str] | None = None,
    class_name: str = "istio",
) -> list[dict[str, Any]]:
    """The Gateway, then one HTTPRoute per host."""
    if not class_name:
        raise UsageError("--style gateway-api needs a gateway class: --class must not be empty")
    require_port_numbers(routes, "gateway-api", "an HTTPRoute backendRef")
    require_secrets(routes, "gateway-api", "a Gateway API Gateway")
    secure = [(host, entry.secret) for entry in routes.tls for host in entry.hosts or ("",)]
    if len(secure) + 1 > MAX_LISTENERS:
        raise UsageError(
            f"--style gateway-api: a Gateway has at most {MAX_LISTENERS} listeners, one for "
            f"HTTP and one per TLS host"
        )
    listeners: list[dict[str, Any]] = [{"name": "http", "port": 80, "protocol": "HTTP"}]
    for (host, secret), listener_name in zip(secure, numbered("https", len(secure)), strict=True):
        listener: dict[str, Any] = {"name": listener_name}
        if host:
            listener["hostname"] = host
        listener.update(
            port=443,
            protocol="HTTPS",
            tls={"mode": "Terminate", "certificateRefs": [{"name": secret}]},
        )
        listeners.append(listener)
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": API_VERSION,
            "kind": "Gateway",
            "metadata": metadata(name, namespace, annotations),
            "spec": {"gatewayClassName": class_name, "listeners": listeners},
        }
    ]
    paths_of = {rule.host: rule.paths for rule in routes.rules}
    hosts = route_hosts(routes)
    for host, route_name in zip(hosts, route_names(name, hosts, "HTTPRoute"), strict=True):
        spec: dict[str, Any] = {"parentRefs": [{"name": name}]}
        if host:
            spec["hostnames"] = [host]
        spec["rules"] = route_rules(paths_of.get(host, ()), routes.default_backend)
        objects.append(
            {
                "apiVersion": API_VERSION,
                "kind": "HTTPRoute",
                "metadata": metadata(route_name, namespace, annotations),
                "spec": spec,
            }
        )
    return objects
