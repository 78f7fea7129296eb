"""Istio ``networking.istio.io/v1`` Gateway + VirtualServices with the routing of an Ingress.

* The **Gateway** (named like the ingress) selects the ingress gateway pods (default
  ``istio: ingressgateway``, ``--gateway-selector``) and opens port 80 (``http``) for every
  host of the rules (``*`` for rules without a host and for the default backend), and one
  port-443 ``HTTPS`` server per TLS entry (``https``, or ``https-1``... when there are several),
  ``SIMPLE`` TLS with the entry's secret as ``credentialName`` (Istio reads it from the
  namespace of the gateway's pods). TLS needs a secret: a gateway has no default certificate.
* One **VirtualService** per host, bound to the Gateway: named like the ingress when there is one
  host, else ``NAME-HOST``. Istio takes the first route that matches, while an Ingress takes the
  longest matching path (exact before prefix at equal length): routes are therefore ordered
  longest path first, exact first, and consecutive paths to the same backend share one route
  (whose matches keep the argument order). Each VirtualService ends with the default backend,
  if any, because Istio does not fall back from a host's routes to another host's.
* Path types: ``Exact`` is an ``exact`` URI match. ``Prefix`` matches whole path segments in an
  Ingress (``/foo`` matches ``/foo`` and ``/foo/bar``, not ``/foobar``) while Istio's ``prefix``
  compares strings, so ``Prefix /foo`` becomes ``exact /foo`` or ``prefix /foo/`` (``Prefix /``
  stays ``prefix /``). ``ImplementationSpecific`` is read as Istio reads it in an Ingress of
  class ``istio``: ``/foo.*`` and ``/foo/*`` are ``prefix /foo``; ``/*``, ``.*`` and ``*`` match
  everything; anything else is exact.
* Destinations are the Service's short name (resolved in the VirtualService's namespace) and
  its port number: a VirtualService cannot name a port.
"""

from __future__ import annotations

from meshctl.gateways.ingress import metadata
from meshctl.gateways.rules import (
    EXACT,
    PREFIX,
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

API_VERSION = "networking.istio.io/v1"
DEFAULT_SELECTOR = {"istio": "ingressgateway"}


def uri_matches(path: PathRule) -> tuple[list[dict[str, Any]] | None, int]:
    """The URI matches that give ``path`` its Ingress meaning (None: every URI), and the
    length that orders it among the others (longest first)."""
    p = path.path
    if path.path_type == EXACT:
        return [{"uri": {"exact": p}}], len(p)
    if path.path_type == PREFIX:
        if p != "/" and p.endswith("/"):
            p = p[:-1]
        if p == "/":
            return [{"uri": {"prefix": "/"}}], 1
        return [{"uri": {"exact": p}}, {"uri": {"prefix": p + "/"}}], len(p)
    # ImplementationSpecific, as Istio's own Ingress controller reads it
    if p in ("", "*", "/*", ".*"):
        return None, -1
    if p.endswith((".*", "/*")):
        return [{"uri": {"prefix": p[:-2]}}], len(p) - 2
    return [{"uri": {"exact": p}}], len(p)


def _same(a: Backend, b: Backend) -> bool:
    return a.service == b.service and a.port == b.port


def _destination(backend: Backend) -> list[dict[str, Any]]:
    return [{"destination": {"host": backend.service, "port": {"number": backend.port}}}]


def http_routes(paths: tuple[PathRule, ...], default: Backend | None) -> list[dict[str, Any]]:
    """The ``http`` routes of one host, in the order Istio must try them."""
    matched = [uri_matches(p) for p in paths]
    order = sorted(
        range(len(paths)),
        key=lambda i: (-matched[i][1], paths[i].path_type != EXACT),
    )
    groups: list[list[int]] = []
    for i in order:
        if groups and _same(paths[groups[-1][-1]].backend, paths[i].backend):
            groups[-1].append(i)
        else:
            groups.append([i])
    routes: list[dict[str, Any]] = []
    for group in groups:
        route: dict[str, Any] = {}
        matches = [matched[i][0] for i in sorted(group)]
        if all(m is not None for m in matches):
            route["match"] = [m for ms in matches if ms is not None for m in ms]
        route["route"] = _destination(paths[group[0]].backend)
        routes.append(route)
    if default is not None:
        routes.append({"route": _destination(default)})
    return routes


def gateway_and_virtual_services(
    name: str,
    routes: Routes,
    *,
    namespace: str | None = None,
    annotations: Mapping[str, str] | None = None,
    selector: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The Gateway, then one VirtualService per host."""
    require_port_numbers(routes, "istio", "a VirtualService destination")
    require_secrets(routes, "istio", "an Istio Gateway")
    hosts = route_hosts(routes)
    servers: list[dict[str, Any]] = [
        {
            "port": {"number": 80, "name": "http", "protocol": "HTTP"},
            "hosts": list(dict.fromkeys(h or "*" for h in hosts)),
        }
    ]
    for entry, port_name in zip(routes.tls, numbered("https", len(routes.tls)), strict=True):
        servers.append(
            {
                "port": {"number": 443, "name": port_name, "protocol": "HTTPS"},
                "hosts": list(entry.hosts) or ["*"],
                "tls": {"mode": "SIMPLE", "credentialName": entry.secret},
            }
        )
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": API_VERSION,
            "kind": "Gateway",
            "metadata": metadata(name, namespace, annotations),
            "spec": {"selector": dict(selector or DEFAULT_SELECTOR), "servers": servers},
        }
    ]
    paths_of = {rule.host: rule.paths for rule in routes.rules}
    for host, vs_name in zip(hosts, route_names(name, hosts, "VirtualService"), strict=True):
        objects.append(
            {
                "apiVersion": API_VERSION,
                "kind": "VirtualService",
                "metadata": metadata(vs_name, namespace, annotations),
                "spec": {
                    "hosts": [host or "*"],
                    "gateways": [name],
                    "http": http_routes(paths_of.get(host, ()), routes.default_backend),
                },
            }
        )
    return objects
