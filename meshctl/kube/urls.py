"""The URL rules: where a Service, the mesh's ingress gateway, a Gateway API Gateway or an Istio
addon is reachable from outside the cluster.

Pure functions over plain objects (dicts as ``kubectl get -o json`` prints them): no cluster,
no I/O, nothing printed. :mod:`meshctl.commands.url` reads the objects and calls these.

The rules, in the order they are applied:

* **Port** and **scheme**: see :mod:`meshctl.kube.ports`.
* **Host and port** by service type:

  - ``LoadBalancer``: ``status.loadBalancer.ingress[0]``'s ``ip``, else its ``hostname``, and the
    service port; no address yet is :class:`~meshctl.errors.NotReadyError` (``--wait`` waits;
    ``--node-port`` uses the node port instead, for clusters without load balancers);
  - ``NodePort``: a Running and Ready pod the service selects (not ``items[0]``, which may be
    Pending and have no ``hostIP``): the ExternalIP of that pod's node when it has one, else the
    pod's ``hostIP``; a service without a selector uses a Ready node's ExternalIP, else its
    InternalIP; the port is the ``nodePort``. No Ready pod is NotReadyError;
  - ``ClusterIP``: its ``spec.externalIPs[0]`` if any; else :class:`NotExposedError`, which says
    how to reach it (``--port-forward``);
  - ``ExternalName``: the external name and the port.

* **Ingress gateway** (``--ingress``): in the Istio namespace, the service named
  ``istio-ingressgateway`` (today) or ``istio-ingress`` (2017), else one labelled
  ``istio=ingressgateway`` or ``istio=ingress``.
* **Gateway API** (``--gateway NAME``): the first ``status.addresses`` value that is reachable
  from outside (not a ``*.svc`` / ``*.svc.cluster.local`` name Istio reports before a load
  balancer exists) and a listener by ``--port`` name or number, else the ``http`` HTTP listener,
  else the first HTTP one.
* **Addons**: ``grafana``, ``prometheus``, ``tracing``/``jaeger``, ``zipkin``, ``kiali`` (see
  :data:`ADDONS`): their services in the Istio namespace, their ports, their paths.

``env`` output uses the names of Istio's documentation: ``INGRESS_HOST``, ``INGRESS_PORT``,
``SECURE_INGRESS_PORT`` and ``TCP_INGRESS_PORT`` (when the service or Gateway has an https or a
tcp port) and ``GATEWAY_URL`` (``host:port``), each value shell-quoted.
"""

from __future__ import annotations

import json

from meshctl.errors import NotFoundError, NotReadyError, UsageError
from meshctl.kube.ports import (
    HTTP_PORT_NAMES,
    choose_port,
    named_port,
    port_label,
    port_scheme,
)
from meshctl.records import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from collections.abc import Mapping, Sequence
    from typing import Any

    Obj = Mapping[str, Any]

ISTIO_NAMESPACE = "istio-system"
INGRESS_SERVICES = ("istio-ingressgateway", "istio-ingress")
INGRESS_LABELS = (("istio", "ingressgateway"), ("istio", "ingress"))
FORMATS = ("url", "env", "json")


class NotExposedError(UsageError):
    """A service that has no address outside the cluster (ClusterIP): use ``--port-forward``."""


class Addon(Frozen):
    """A shortcut for an Istio addon: its Service, the ports to try (names, then numbers: today's
    samples/addons and the 2017 NodePort services name them differently) and its UI's path."""

    __slots__ = ("name", "service", "ports", "path", "title")
    name: str
    service: str
    ports: tuple[str | int, ...]
    path: str
    title: str


#: The addon shortcuts. Today's are ClusterIP services of samples/addons in istio-system (Jaeger's
#: UI is served under ``/jaeger``, Kiali's under ``/kiali``); in 2017 the same names were
#: NodePort services (grafana 3000, prometheus 9090, zipkin 9411).
ADDONS: dict[str, Addon] = {
    "grafana": Addon("grafana", "grafana", ("service", "http", 3000), "/", "Grafana"),
    "prometheus": Addon(
        "prometheus", "prometheus", ("http", "prometheus", 9090), "/", "Prometheus"),
    "tracing": Addon("tracing", "tracing", ("http-query", 80, 16686), "/jaeger", "Jaeger"),
    "jaeger": Addon("jaeger", "tracing", ("http-query", 80, 16686), "/jaeger", "Jaeger"),
    "zipkin": Addon("zipkin", "zipkin", ("http-query", "http", 9411), "/", "Zipkin"),
    "kiali": Addon("kiali", "kiali", ("http", 20001), "/kiali", "Kiali"),
}


class Endpoint(Frozen):
    """Where something is reachable: the parts of its URL, what they were found on, and notes
    (which port was chosen among several, and the like) for the user.

    ``kind``/``name``/``namespace`` name the object (``Service`` or ``Gateway``); ``type`` is the
    service type (``LoadBalancer``...; ``Gateway`` for a Gateway); ``source`` says where the
    host came from (``status.loadBalancer.ingress[0].ip``, ``hostIP of pod P``, ...);
    ``port_name`` is the chosen port's (or listener's) name; ``secure_port``/``tcp_port`` are the
    https and tcp ports seen from outside, when there are such ports.
    """

    __slots__ = (
        "scheme", "host", "port", "path", "kind", "name", "namespace", "type", "source",
        "port_name", "secure_port", "tcp_port", "notes",
    )
    DEFAULTS = {"port_name": None, "secure_port": None, "tcp_port": None, "notes": ()}
    scheme: str
    host: str
    port: int
    path: str
    kind: str
    name: str
    namespace: str
    type: str
    source: str
    port_name: str | None
    secure_port: int | None
    tcp_port: int | None
    notes: tuple[str, ...]

    @property
    def host_port(self) -> str:
        """``host:port`` (IPv6 hosts in brackets): Istio's ``GATEWAY_URL``."""
        return f"{_url_host(self.host)}:{self.port}"

    @property
    def url(self) -> str:
        default = {"http": 80, "https": 443}.get(self.scheme)
        where = _url_host(self.host) if self.port == default else self.host_port
        return f"{self.scheme}://{where}{self.path}"

    def env(self) -> dict[str, str]:
        """The variables of ``--format env``, in order."""
        env = {"INGRESS_HOST": self.host, "INGRESS_PORT": str(self.port)}
        if self.secure_port is not None:
            env["SECURE_INGRESS_PORT"] = str(self.secure_port)
        if self.tcp_port is not None:
            env["TCP_INGRESS_PORT"] = str(self.tcp_port)
        env["GATEWAY_URL"] = self.host_port
        return env

    def as_dict(self) -> dict[str, Any]:
        """The ``--format json`` object."""
        return {
            "url": self.url,
            "scheme": self.scheme,
            "host": self.host,
            "port": self.port,
            "path": self.path,
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "type": self.type,
            "source": self.source,
            "port_name": self.port_name,
            "secure_port": self.secure_port,
            "tcp_port": self.tcp_port,
            "notes": list(self.notes),
            "env": self.env(),
        }


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


# -- small helpers -----------------------------------------------------------------------------


def _meta(obj: Obj) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _spec(obj: Obj) -> Mapping[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _status(obj: Obj) -> Mapping[str, Any]:
    status = obj.get("status")
    return status if isinstance(status, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _name(obj: Obj) -> str:
    return str(_meta(obj).get("name", ""))


def _namespace(obj: Obj, default: str = "default") -> str:
    return str(_meta(obj).get("namespace") or default)


def normalize_path(path: str | None) -> str:
    """``--path``: empty, or starting with ``/``."""
    if not path:
        return ""
    return path if path.startswith("/") else "/" + path


# -- pods and nodes ----------------------------------------------------------------------------


def selects(selector: Mapping[str, str], obj: Obj) -> bool:
    labels = _meta(obj).get("labels") or {}
    return all(labels.get(key) == value for key, value in selector.items())


def _condition(obj: Obj, kind: str) -> str | None:
    for condition in _list(_status(obj).get("conditions")):
        if isinstance(condition, dict) and condition.get("type") == kind:
            return str(condition.get("status"))
    return None


def pod_ready(pod: Obj) -> bool:
    """Running, Ready, not terminating, and placed on a node (has a hostIP)."""
    status = _status(pod)
    return (
        status.get("phase") == "Running"
        and _condition(pod, "Ready") == "True"
        and not _meta(pod).get("deletionTimestamp")
        and bool(status.get("hostIP"))
    )


def pod_state(pod: Obj) -> str:
    """A few words on why a pod is (not) usable: ``Pending``, ``Running but not Ready``..."""
    status = _status(pod)
    phase = str(status.get("phase") or "Unknown")
    if _meta(pod).get("deletionTimestamp"):
        return "terminating"
    if phase != "Running":
        return phase
    if _condition(pod, "Ready") != "True":
        return "Running but not Ready"
    if not status.get("hostIP"):
        return "Running without a hostIP"
    return "Ready"


def node_address(node: Obj, kind: str) -> str | None:
    """A node's address of a type (``ExternalIP``, ``InternalIP``)."""
    for address in _list(_status(node).get("addresses")):
        if isinstance(address, dict) and address.get("type") == kind and address.get("address"):
            return str(address["address"])
    return None


def node_ready(node: Obj) -> bool:
    return _condition(node, "Ready") == "True" and not _spec(node).get("unschedulable")


def _pods_text(pods: Sequence[Obj], limit: int = 4) -> str:
    parts = [f"{_name(p)} is {pod_state(p)}" for p in pods[:limit]]
    if len(pods) > limit:
        parts.append(f"{len(pods) - limit} more")
    return ", ".join(parts)


def ready_pod(service: Obj, pods: Sequence[Obj]) -> Obj | None:
    """The first Running and Ready pod the service selects; None for a service without a
    selector. No such pod is NotReadyError saying what each selected pod is doing.

    ``pods`` may be all pods of the namespace: the service's selector is applied here.
    """
    selector = _spec(service).get("selector") or {}
    if not selector:
        return None
    selected = [p for p in pods if selects(selector, p)]
    for pod in selected:
        if pod_ready(pod):
            return pod
    what = f'service "{_name(service)}" in namespace "{_namespace(service)}"'
    sel = ",".join(f"{k}={v}" for k, v in selector.items())
    if not selected:
        raise NotReadyError(f"no pod matches the selector {sel} of {what}")
    raise NotReadyError(f"no Ready pod behind {what} (selector {sel}): {_pods_text(selected)}")


def node_port_host(
    service: Obj, pods: Sequence[Obj], nodes: Sequence[Obj] | None
) -> tuple[str, str]:
    """The host of a node port, and where it was found (see the module docstring).

    ``pods`` may be all pods of the namespace: the service's selector is applied here.
    ``nodes`` None means they could not be read (e.g. no permission to list nodes).
    """
    pod = ready_pod(service, pods)
    if pod is not None:
        by_name = {_name(n): n for n in nodes or ()}
        node_name = str(_spec(pod).get("nodeName") or "")
        node = by_name.get(node_name)
        external = node_address(node, "ExternalIP") if node is not None else None
        if external:
            return external, f"ExternalIP of node {node_name} (runs pod {_name(pod)})"
        return str(_status(pod)["hostIP"]), f"hostIP of pod {_name(pod)}"
    candidates = sorted(nodes or (), key=lambda n: not node_ready(n))
    for kind in ("ExternalIP", "InternalIP"):
        for node in candidates:
            address = node_address(node, kind)
            if address:
                return address, f"{kind} of node {_name(node)}"
    what = f'service "{_name(service)}" in namespace "{_namespace(service)}"'
    raise NotFoundError(f"{what} selects no pods and no node has an address")


def load_balancer_address(service: Obj) -> tuple[str, str] | None:
    """``status.loadBalancer.ingress[0]``'s ip, else its hostname (and which one), or None."""
    balancer = _status(service).get("loadBalancer")
    ingress = _list(balancer.get("ingress") if isinstance(balancer, dict) else None)
    for i, entry in enumerate(ingress):
        if not isinstance(entry, dict):
            continue
        for key in ("ip", "hostname"):
            if entry.get(key):
                return str(entry[key]), f"status.loadBalancer.ingress[{i}].{key}"
    return None


# -- services ----------------------------------------------------------------------------------


def service_endpoint(
    service: Obj,
    pods: Sequence[Obj] = (),
    nodes: Sequence[Obj] | None = (),
    *,
    port: str | int | None = None,
    scheme: str | None = None,
    path: str = "",
    node_port: bool = False,
    preferred: Sequence[str] = HTTP_PORT_NAMES,
    skip_status: bool = False,
) -> Endpoint:
    """The outside URL of a service (see the module docstring for the rules).

    ``pods``/``nodes`` are only needed for a node port. Raises NotReadyError (no load-balancer
    address yet, no Ready pod), NotExposedError (ClusterIP), UsageError (no such port).
    """
    name, namespace = _name(service), _namespace(service)
    what = f'service "{name}" in namespace "{namespace}"'
    spec = _spec(service)
    kind = str(spec.get("type") or "ClusterIP")
    ports = [p for p in _list(spec.get("ports")) if isinstance(p, dict)]
    path = normalize_path(path)

    if kind == "ExternalName":
        external = str(spec.get("externalName") or "")
        if ports:
            chosen, note = choose_port(ports, port, what=what, preferred=preferred)
            number: int = int(chosen.get("port", 0))
        else:
            chosen, note = {}, None
            number = port if isinstance(port, int) else (443 if scheme == "https" else 80)
        return Endpoint(
            scheme or port_scheme(chosen), external, number, path, "Service", name, namespace,
            kind, "spec.externalName", port_name=chosen.get("name"),
            notes=(note,) if note else ())

    chosen, note = choose_port(
        ports, port, what=what, preferred=preferred, skip_status=skip_status)
    notes: tuple[str, ...] = (note,) if note else ()
    use_scheme = scheme or port_scheme(chosen)
    external_ips = [str(ip) for ip in _list(spec.get("externalIPs")) if ip]

    if kind == "LoadBalancer" and not node_port:
        found = load_balancer_address(service)
        if found is None:
            raise NotReadyError(
                f"the load balancer of {what} has no address yet (EXTERNAL-IP pending); "
                "--wait waits for it, --node-port uses its node port instead")
        host, source = found
        return Endpoint(
            use_scheme, host, int(chosen["port"]), path, "Service", name, namespace, kind,
            source, port_name=chosen.get("name"),
            secure_port=_port_number(ports, ("https",), 443, "port"),
            tcp_port=_port_number(ports, ("tcp",), None, "port"), notes=notes)

    if kind in ("NodePort", "LoadBalancer"):
        if not chosen.get("nodePort"):
            raise NotReadyError(f"{what} has no node port for {port_label(chosen)} yet")
        host, source = node_port_host(service, pods, nodes)
        if node_port and kind == "LoadBalancer":
            notes += ("using the node port of a LoadBalancer service (--node-port)",)
        return Endpoint(
            use_scheme, host, int(chosen["nodePort"]), path, "Service", name, namespace, kind,
            source,
            port_name=chosen.get("name"),
            secure_port=_port_number(ports, ("https",), 443, "nodePort"),
            tcp_port=_port_number(ports, ("tcp",), None, "nodePort"), notes=notes)

    if external_ips:
        return Endpoint(
            use_scheme, external_ips[0], int(chosen["port"]), path, "Service", name, namespace,
            kind, "spec.externalIPs[0]", port_name=chosen.get("name"),
            secure_port=_port_number(ports, ("https",), 443, "port"),
            tcp_port=_port_number(ports, ("tcp",), None, "port"), notes=notes)

    raise NotExposedError(
        f"{what} is of type {kind} and has no address outside the cluster; reach it with "
        f"--port-forward (kubectl port-forward -n {namespace} svc/{name} "
        f"LOCAL_PORT:{chosen['port']}), or expose it as a NodePort or LoadBalancer service")


def _port_number(
    ports: Sequence[Obj], names: Sequence[str], number: int | None, key: str
) -> int | None:
    entry = named_port(ports, names, number)
    if entry is None or not entry.get(key):
        return None
    return int(entry[key])


# -- the ingress gateway -----------------------------------------------------------------------


def find_ingress_gateway(services: Sequence[Obj], namespace: str) -> tuple[Obj, str | None]:
    """The mesh's ingress gateway among the services of the Istio namespace, and a note when
    several services carry its label."""
    by_name = {_name(s): s for s in services}
    for name in INGRESS_SERVICES:
        if name in by_name:
            return by_name[name], None
    for key, value in INGRESS_LABELS:
        labelled = sorted(
            (s for s in services if selects({key: value}, s)), key=_name)
        if labelled:
            note = None
            if len(labelled) > 1:
                names = ", ".join(_name(s) for s in labelled)
                note = f"services labelled {key}={value}: {names}; using {_name(labelled[0])}"
            return labelled[0], note
    raise NotFoundError(
        f'no Istio ingress gateway in namespace "{namespace}": no service named '
        f"{' or '.join(INGRESS_SERVICES)} and none labelled "
        f"{' or '.join(f'{k}={v}' for k, v in INGRESS_LABELS)}; --istio-namespace names "
        "the namespace it was installed in (a Helm install often uses istio-ingress)")


# -- Gateway API -------------------------------------------------------------------------------

#: addresses Istio puts in a Gateway's status before a load balancer exists (in-cluster only)
_CLUSTER_SUFFIXES = (".svc", ".svc.cluster.local", ".cluster.local")


def gateway_address(gateway: Obj) -> tuple[str, str] | None:
    """The first ``status.addresses`` value reachable from outside, and where it was found."""
    for i, address in enumerate(_list(_status(gateway).get("addresses"))):
        if not isinstance(address, dict) or not address.get("value"):
            continue
        value = str(address["value"])
        if address.get("type") == "Hostname" and value.rstrip(".").endswith(_CLUSTER_SUFFIXES):
            continue
        return value, f"status.addresses[{i}]"
    return None


def _protocol(listener: Obj) -> str:
    return str(listener.get("protocol") or "").upper()


def choose_listener(
    listeners: Sequence[Obj], wanted: str | int | None, what: str
) -> tuple[Obj, str | None]:
    """A Gateway's listener by ``--port`` name or number; else the HTTP listener named ``http``,
    the first HTTP one, the first HTTPS one, the first one (with a note when there were
    several)."""
    if wanted is not None or len(listeners) <= 1:
        return choose_port(listeners, wanted, what=what, port_word="listener")
    http = [e for e in listeners if _protocol(e) == "HTTP"]
    chosen = (
        next((e for e in http if e.get("name") == "http"), None)
        or (http[0] if http else None)
        or next((e for e in listeners if _protocol(e) == "HTTPS"), listeners[0])
    )
    others = ", ".join(port_label(e) for e in listeners if e is not chosen)
    return chosen, (f"{what} has {len(listeners)} listeners; using {port_label(chosen)}; "
                    f"--port chooses another: {others}")


def gateway_endpoint(
    gateway: Obj,
    *,
    port: str | int | None = None,
    scheme: str | None = None,
    path: str = "",
) -> Endpoint:
    """A Gateway API Gateway's URL: its address and a listener's port."""
    name, namespace = _name(gateway), _namespace(gateway)
    what = f'Gateway "{name}" in namespace "{namespace}"'
    listeners = [dict(entry) for entry in _list(_spec(gateway).get("listeners"))
                 if isinstance(entry, dict)]
    chosen, note = choose_listener(listeners, port, what)
    found = gateway_address(gateway)
    if found is None:
        programmed = ""
        for condition in _list(_status(gateway).get("conditions")):
            if isinstance(condition, dict) and condition.get("type") == "Programmed":
                programmed = (f" (Programmed: {condition.get('status')}"
                              + (f", {condition['message']}" if condition.get("message") else "")
                              + ")")
        raise NotReadyError(f"{what} has no address outside the cluster yet{programmed}; "
                            "--wait waits for it")
    host, source = found
    notes = [note] if note else []
    hostname = chosen.get("hostname")
    if hostname and "*" not in str(hostname):
        notes.append(f"listener {chosen.get('name')} only accepts Host {hostname}")
    use_scheme = scheme or ("https" if _protocol(chosen) in ("HTTPS", "TLS") else "http")
    secure = next((e for e in listeners if _protocol(e) == "HTTPS"), None)
    tcp = next((e for e in listeners if _protocol(e) == "TCP"), None)
    return Endpoint(
        use_scheme, host, int(chosen.get("port", 0)), normalize_path(path), "Gateway", name,
        namespace, "Gateway", source, port_name=chosen.get("name"),
        secure_port=int(secure["port"]) if secure and secure.get("port") else None,
        tcp_port=int(tcp["port"]) if tcp and tcp.get("port") else None,
        notes=tuple(notes))


# -- addons ------------------------------------------------------------------------------------


def addon_port(service: Obj, addon: Addon) -> str | int | None:
    """The first of the addon's known ports that the service has (by name, then number), or
    None to let the usual rule choose."""
    ports = [p for p in _list(_spec(service).get("ports")) if isinstance(p, dict)]
    for wanted in addon.ports:
        key = "port" if isinstance(wanted, int) else "name"
        if any(p.get(key) == wanted for p in ports):
            return wanted
    return None


# -- output ------------------------------------------------------------------------------------


def shell_quote(value: str) -> str:
    """A word bash reads back as ``value`` (``shlex.quote`` without importing shlex)."""
    if value and all(c.isalnum() or c in "@%+=:,./-_" for c in value) and value.isascii():
        return value
    return "'" + value.replace("'", "'\"'\"'") + "'"


def render(endpoint: Endpoint, fmt: str = "url") -> str:
    """The text ``meshctl url`` prints on stdout for ``--format url|env|json``."""
    if fmt == "url":
        return endpoint.url + "\n"
    if fmt == "env":
        return "".join(f"export {k}={shell_quote(v)}\n" for k, v in endpoint.env().items())
    if fmt == "json":
        return json.dumps(endpoint.as_dict(), indent=2) + "\n"
    raise UsageError(f"--format {fmt}: choose one of {', '.join(FORMATS)}")
