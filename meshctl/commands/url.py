"""``meshctl url``: the URL that reaches a service, the mesh's ingress gateway, a Gateway API
Gateway or an Istio addon from outside the cluster.

The CLI builds one :class:`UrlOptions` from the flags and calls:

* :func:`run` -> :class:`~meshctl.kube.urls.Endpoint`, printed with
  :func:`~meshctl.kube.urls.render` (``--format url|env|json``) and its ``notes`` on stderr;
* with ``--port-forward``, :func:`start_port_forward` -> :class:`Forwarding` (a context
  manager): print ``forwarding.endpoint``, optionally open a browser, then
  ``forwarding.wait()`` until Ctrl-C or kubectl's end.

``--wait`` polls while the answer is "not ready" (a pending load-balancer address, no Ready pod),
calling ``progress(message, seconds_left)`` before each pause so the CLI can show a spinner;
when the time is up the last reason is raised as :class:`~meshctl.errors.NotReadyError`.
Errors are raised, never printed: see :mod:`meshctl.errors` for their exit codes. This module
reads the cluster only through :mod:`meshctl.kube.kubectl` and never imports the injection
engine or click.
"""

from __future__ import annotations

import re
import time

from meshctl.errors import ForbiddenError, NotFoundError, NotReadyError, UsageError
from meshctl.kube.kubectl import (
    GATEWAYS,
    NODES,
    PODS,
    SERVICES,
    Access,
    Kubectl,
    source_for,
)
from meshctl.kube.portforward import PortForward
from meshctl.kube.ports import (
    HTTP_PORT_NAMES,
    INGRESS_HTTP_PORT_NAMES,
    check_scheme,
    choose_port,
    parse_port,
    port_scheme,
)
from meshctl.kube.urls import (
    ADDONS,
    FORMATS,
    ISTIO_NAMESPACE,
    Endpoint,
    addon_port,
    find_ingress_gateway,
    gateway_endpoint,
    normalize_path,
    pod_ready,
    ready_pod,
    selects,
    service_endpoint,
)
from meshctl.records import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from collections.abc import Callable, Sequence
    from typing import Any

    from meshctl.kube.kubectl import Source
    from meshctl.kube.urls import Addon, Obj

    #: ``progress(message, seconds_left)``: called before each pause of ``--wait``
    Progress = Callable[[str, float], None]

#: ``--wait`` without a duration (a cloud load balancer can take minutes)
DEFAULT_WAIT = 300.0
#: pause between two looks while waiting
POLL_INTERVAL = 2.0
#: how long ``--port-forward`` waits for kubectl's "Forwarding from"
FORWARD_READY_TIMEOUT = 30.0


class UrlOptions(Frozen):
    """Everything ``meshctl url`` was asked, resolved once from the flags.

    ``service`` is the SERVICE argument (or an addon name: see
    :data:`meshctl.kube.urls.ADDONS`); ``ingress``/``gateway`` replace it. ``namespace`` None
    means kubectl's current namespace (for an addon or ``--ingress``: ``istio_namespace``).
    ``port`` is ``--port`` as typed (a name or a number). ``path`` None means the addon's path
    or none. ``wait`` is seconds (None: do not wait; :func:`parse_duration` reads
    ``--wait=DURATION``). ``open`` is for the CLI (open a browser); ``format`` is ``url``,
    ``env`` or ``json``. ``from_files`` are ``--from-file`` state files (then kubectl is not
    run).
    """

    __slots__ = (
        "service", "namespace", "port", "path", "scheme", "ingress", "gateway",
        "istio_namespace", "node_port", "port_forward", "local_port", "open", "wait",
        "poll_interval", "format", "kubectl", "kubeconfig", "context", "request_timeout",
        "from_files",
    )
    DEFAULTS = {
        "service": None,
        "namespace": None,
        "port": None,
        "path": None,
        "scheme": None,
        "ingress": False,
        "gateway": None,
        "istio_namespace": ISTIO_NAMESPACE,
        "node_port": False,
        "port_forward": False,
        "local_port": None,
        "open": False,
        "wait": None,
        "poll_interval": POLL_INTERVAL,
        "format": "url",
        "kubectl": "kubectl",
        "kubeconfig": None,
        "context": None,
        "request_timeout": None,
        "from_files": (),
    }
    service: str | None
    namespace: str | None
    port: str | int | None
    path: str | None
    scheme: str | None
    ingress: bool
    gateway: str | None
    istio_namespace: str
    node_port: bool
    port_forward: bool
    local_port: int | None
    open: bool
    wait: float | None
    poll_interval: float
    format: str
    kubectl: str
    kubeconfig: str | None
    context: str | None
    request_timeout: str | None
    from_files: tuple[str, ...]

    def access(self) -> Access:
        return Access(self.kubectl, self.kubeconfig, self.context, self.request_timeout)


# -- flags ------------------------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str | None) -> float:
    """``--wait[=DURATION]``: ``90s``, ``5m``, ``1m30s``, ``1h``, ``500ms``, or plain seconds
    (``120``); empty or None is :data:`DEFAULT_WAIT`."""
    if text is None or not text.strip():
        return DEFAULT_WAIT
    spelled = text.strip()
    try:
        seconds = float(spelled)
    except ValueError:
        pos, seconds = 0, 0.0
        for match in _DURATION_PART.finditer(spelled):
            if match.start() != pos:
                break
            seconds += float(match.group(1)) * _UNIT[match.group(2)]
            pos = match.end()
        if pos != len(spelled) or pos == 0:
            raise UsageError(
                f"--wait={spelled}: not a duration (examples: 90s, 5m, 1m30s, 120)") from None
    if seconds < 0 or seconds != seconds or seconds == float("inf"):
        raise UsageError(f"--wait={spelled}: not a duration (examples: 90s, 5m, 1m30s, 120)")
    return seconds


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:g}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest}s" if rest else f"{minutes}m"


def check(options: UrlOptions) -> None:
    """Usage errors: flags that do not go together, bad values (before any cluster access)."""
    targets = [t for t, given in (
        ("SERVICE", bool(options.service)), ("--ingress", options.ingress),
        ("--gateway", bool(options.gateway))) if given]
    if not targets:
        raise UsageError("name a SERVICE, or use --ingress or --gateway NAME")
    if len(targets) > 1:
        raise UsageError(f"{' and '.join(targets)} do not go together: give one")
    if options.format not in FORMATS:
        raise UsageError(f"--format {options.format}: choose one of {', '.join(FORMATS)}")
    check_scheme(options.scheme)
    parse_port(options.port)
    if options.from_files and options.port_forward:
        raise UsageError("--port-forward needs a cluster; it does not go with --from-file")
    if options.from_files and options.wait is not None:
        raise UsageError("--wait does not go with --from-file (a saved state does not change)")
    if options.gateway and options.port_forward:
        raise UsageError("--port-forward forwards to a service; it does not go with --gateway")
    if options.gateway and options.node_port:
        raise UsageError("--node-port is for services; it does not go with --gateway")
    if options.port_forward and options.node_port:
        raise UsageError("--node-port does not go with --port-forward")
    if options.local_port is not None and not 0 < options.local_port < 65536:
        raise UsageError(f"local port {options.local_port}: between 1 and 65535")
    if options.wait is not None and options.wait < 0:
        raise UsageError("--wait needs a duration of 0 or more")


# -- reading the target ---------------------------------------------------------------------------


class _Target(Frozen):
    """The service (or Gateway) to look at, with the rules that apply to it."""

    __slots__ = ("service", "addon", "preferred", "skip_status", "note")
    service: Obj
    addon: Addon | None
    preferred: tuple[str, ...]
    skip_status: bool
    note: str | None


def _get(source: Source, resource: str, name: str, namespace: str | None) -> Obj:
    """The object, or NotFoundError naming the namespace when that is what is missing."""
    try:
        return source.get(resource, name, namespace)
    except NotFoundError:
        searched = namespace or source.namespace()
        if source.namespace_exists(searched) is False:
            raise NotFoundError(f'namespace "{searched}" not found') from None
        raise


def _target(options: UrlOptions, source: Source) -> _Target:
    if options.ingress:
        namespace = options.namespace or options.istio_namespace
        services = source.list(SERVICES, namespace)
        if not services and source.namespace_exists(namespace) is False:
            raise NotFoundError(
                f'namespace "{namespace}" not found (where the ingress gateway was looked for; '
                "--istio-namespace names another)")
        service, note = find_ingress_gateway(services, namespace)
        return _Target(service, None, INGRESS_HTTP_PORT_NAMES, True, note)
    assert options.service is not None
    addon = ADDONS.get(options.service)
    if addon is not None:
        namespace = options.namespace or options.istio_namespace
        try:
            service = _get(source, SERVICES, addon.service, namespace)
        except NotFoundError as err:
            raise NotFoundError(
                f"{err.message}: the {addon.title} addon is not installed there "
                "(--istio-namespace or -n names the namespace it was installed in)") from None
        return _Target(service, addon, HTTP_PORT_NAMES, False, None)
    service = _get(source, SERVICES, options.service, options.namespace)
    return _Target(service, None, HTTP_PORT_NAMES, False, None)


def _wanted_port(options: UrlOptions, target: _Target) -> str | int | None:
    wanted = parse_port(options.port)
    if wanted is None and target.addon is not None:
        wanted = addon_port(target.service, target.addon)
    return wanted


def _path(options: UrlOptions, target: _Target | None) -> str:
    if options.path is not None:
        return normalize_path(options.path)
    if target is not None and target.addon is not None:
        return target.addon.path
    return ""


def _service_type(service: Obj) -> str:
    return str((service.get("spec") or {}).get("type") or "ClusterIP")


def _selector(service: Obj) -> dict[str, str]:
    selector = (service.get("spec") or {}).get("selector") or {}
    return {str(k): str(v) for k, v in selector.items()}


def _namespace_of(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "default")


def _pods_and_nodes(
    source: Source, service: Obj, node_port: bool
) -> tuple[Sequence[Obj], Sequence[Obj] | None]:
    """What the node-port rule needs: the service's pods, and the nodes when they matter (a
    Ready pod's node may have an ExternalIP). Nothing for the other service types."""
    kind = _service_type(service)
    if not (kind == "NodePort" or (kind == "LoadBalancer" and node_port)):
        return [], []
    selector = _selector(service)
    if not selector:
        return [], source.list(NODES)
    pods = source.list(PODS, _namespace_of(service), selector)
    if not any(pod_ready(p) and selects(selector, p) for p in pods):
        return pods, []  # the rule reports why; the nodes would not change it
    try:
        return pods, source.list(NODES)
    except ForbiddenError:
        return pods, None  # may not list nodes: the pod's hostIP will do


def resolve(options: UrlOptions, source: Source) -> Endpoint:
    """One look at the cluster (no waiting): the endpoint, or the error that says why not."""
    path = _path(options, None)
    if options.gateway:
        gateway = _get(source, GATEWAYS, options.gateway, options.namespace)
        return gateway_endpoint(
            gateway, port=parse_port(options.port), scheme=options.scheme, path=path)
    target = _target(options, source)
    pods, nodes = _pods_and_nodes(source, target.service, options.node_port)
    endpoint = service_endpoint(
        target.service, pods, nodes, port=_wanted_port(options, target),
        scheme=options.scheme, path=_path(options, target), node_port=options.node_port,
        preferred=target.preferred, skip_status=target.skip_status)
    if target.note:
        endpoint = endpoint.replace(notes=(target.note, *endpoint.notes))
    return endpoint


def _poll(
    look: Callable[[], Any],
    options: UrlOptions,
    progress: Progress | None,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> Any:
    if options.wait is None:
        return look()
    deadline = clock() + options.wait
    while True:
        try:
            return look()
        except NotReadyError as err:
            left = deadline - clock()
            if left <= 0:
                raise NotReadyError(
                    f"timed out after {format_duration(options.wait)}: {err.message}") from None
            if progress is not None:
                progress(err.message, left)
            sleep(max(min(options.poll_interval, left), 0.0))


def run(
    options: UrlOptions,
    progress: Progress | None = None,
    *,
    source: Source | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Endpoint:
    """``meshctl url`` without ``--port-forward``: the endpoint, waiting if asked to.

    ``source`` replaces the cluster (tests); by default it is kubectl with the options'
    ``--kubectl``/``--kubeconfig``/``--context``, or the ``--from-file`` state.
    """
    check(options)
    if options.port_forward:
        raise UsageError("--port-forward runs through start_port_forward()")
    src = source if source is not None else source_for(options.access(), options.from_files)
    endpoint: Endpoint = _poll(lambda: resolve(options, src), options, progress, sleep, clock)
    return endpoint


# -- port-forward ----------------------------------------------------------------------------------


class Forwarding:
    """A running ``kubectl port-forward`` and the local endpoint it serves.

    Use as a context manager: leaving the block (Ctrl-C included) stops kubectl.
    """

    def __init__(self, forward: PortForward, endpoint: Endpoint) -> None:
        self.forward = forward
        self.endpoint = endpoint

    @property
    def url(self) -> str:
        return self.endpoint.url

    @property
    def command(self) -> list[str]:
        """The kubectl command line that runs."""
        return self.forward.command(self.endpoint.port)

    def wait(self) -> int:
        """Block until kubectl exits (its failure raised as a meshctl error)."""
        return self.forward.wait()

    def stop(self) -> None:
        self.forward.stop()

    def __enter__(self) -> Forwarding:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _ready_pod(source: Source, service: Obj) -> None:
    selector = _selector(service)
    if selector:
        ready_pod(service, source.list(PODS, _namespace_of(service), selector))


def start_port_forward(
    options: UrlOptions,
    progress: Progress | None = None,
    *,
    kubectl: Kubectl | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    ready_timeout: float = FORWARD_READY_TIMEOUT,
) -> Forwarding:
    """``meshctl url --port-forward``: forward a free local port to the service's port and
    return once kubectl is forwarding. With ``--wait``, first wait for a Ready pod."""
    check(options)
    client = kubectl if kubectl is not None else Kubectl(options.access())
    target = _target(options, client)
    service = target.service
    meta = service.get("metadata") or {}
    name, namespace = str(meta.get("name")), _namespace_of(service)
    what = f'service "{name}" in namespace "{namespace}"'
    ports = [p for p in (service.get("spec") or {}).get("ports") or () if isinstance(p, dict)]
    chosen, note = choose_port(
        ports, _wanted_port(options, target), what=what, preferred=target.preferred,
        skip_status=target.skip_status)
    if options.wait is not None:
        _poll(lambda: _ready_pod(client, service), options, progress, sleep, clock)
    remote = int(chosen["port"])
    forward = PortForward(client, namespace, name, remote, options.local_port)
    local = forward.start(ready_timeout)
    notes = tuple(n for n in (target.note, note) if n)
    endpoint = Endpoint(
        options.scheme or port_scheme(chosen), forward.local_host, local, _path(options, target),
        "Service", name, namespace, _service_type(service),
        f"kubectl port-forward svc/{name} {local}:{remote}", port_name=chosen.get("name"),
        notes=notes)
    return Forwarding(forward, endpoint)
