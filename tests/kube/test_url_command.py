"""``meshctl url`` as a use case: options in, endpoint out, through real kubectl against the
emulator (and the same answers from a saved state file)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from meshctl.commands.url import (
    DEFAULT_WAIT,
    UrlOptions,
    check,
    format_duration,
    parse_duration,
    run,
)
from meshctl.errors import (
    EXIT_FORBIDDEN,
    EXIT_KUBECTL,
    EXIT_NOT_FOUND,
    EXIT_NOT_READY,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    MeshctlError,
    NotFoundError,
    UsageError,
)
from meshctl.kube.kubectl import StateFile
from meshctl.kube.urls import NotExposedError, render
from tests.kube import objects as o
from tests.kube.emulator import EmulatorServer

Opts = Callable[..., UrlOptions]


@pytest.fixture
def opts(cluster: EmulatorServer) -> Opts:
    """UrlOptions pointing at the emulator."""
    def make(service: str | None = None, **kw: Any) -> UrlOptions:
        return UrlOptions(service, kubeconfig=str(cluster.kubeconfig), **kw)
    return make


def _error(fn: Callable[[], object]) -> MeshctlError:
    with pytest.raises(MeshctlError) as err:
        fn()
    assert "\n" not in str(err.value)
    return err.value


# -- the 2017 walkthrough ----------------------------------------------------------------------


def test_walkthrough_ingress_node_port_skips_the_pending_pod(
        cluster: EmulatorServer, opts: Opts) -> None:
    cluster.add(o.walkthrough_2017())
    ep = run(opts(ingress=True, path="/productpage"))
    # items[0] is Pending (no hostIP): the Ready pod's node is used, with the http nodePort
    assert ep.url == "http://10.128.0.4:32000/productpage"
    assert (ep.name, ep.namespace, ep.type) == ("istio-ingress", "istio-system", "NodePort")
    assert ep.source == "hostIP of pod istio-ingress-2b"
    assert render(ep, "env") == (
        "export INGRESS_HOST=10.128.0.4\n"
        "export INGRESS_PORT=32000\n"
        "export SECURE_INGRESS_PORT=31195\n"
        "export GATEWAY_URL=10.128.0.4:32000\n")


def test_walkthrough_in_the_default_namespace(cluster: EmulatorServer, opts: Opts) -> None:
    """Istio 0.1 installed into the current namespace: --istio-namespace says where."""
    objs = [x for x in o.walkthrough_2017() if x != o.namespace("istio-system")]
    for obj in objs:
        if obj["metadata"].get("namespace") == "istio-system":
            obj["metadata"]["namespace"] = "default"
    cluster.add(objs)
    with pytest.raises(NotFoundError, match='namespace "istio-system" not found'):
        run(opts(ingress=True))
    assert run(opts(ingress=True, istio_namespace="default")).url == "http://10.128.0.4:32000"


@pytest.mark.parametrize(("addon", "url"), [
    ("grafana", "http://10.128.0.3:30300/"),
    ("prometheus", "http://10.128.0.3:30900/"),
    ("zipkin", "http://10.128.0.4:30411/"),
])
def test_walkthrough_addons_are_node_ports(
        cluster: EmulatorServer, opts: Opts, addon: str, url: str) -> None:
    cluster.add(o.walkthrough_2017())
    assert run(opts(addon)).url == url


@pytest.mark.parametrize("addon", ["tracing", "jaeger", "kiali"])
def test_addons_that_2017_did_not_have(cluster: EmulatorServer, opts: Opts, addon: str) -> None:
    cluster.add(o.walkthrough_2017())
    err = _error(lambda: run(opts(addon)))
    assert err.exit_code == EXIT_NOT_FOUND
    assert "addon is not installed there" in err.message
    assert 'not found in namespace "istio-system"' in err.message


# -- today's gateway and addons ----------------------------------------------------------------


def test_modern_load_balancer_ip(cluster: EmulatorServer, opts: Opts) -> None:
    cluster.add(o.modern_gateway(ip="203.0.113.10"))
    ep = run(opts(ingress=True, path="productpage"))
    assert ep.url == "http://203.0.113.10/productpage"
    assert (ep.port_name, ep.port, ep.secure_port) == ("http2", 80, 443)
    assert ep.source == "status.loadBalancer.ingress[0].ip"
    # status-port is listed first; the note says what was chosen and how to choose another
    assert ep.notes == (
        'service "istio-ingressgateway" in namespace "istio-system" has 3 ports; using http2 '
        "(80); --port chooses another: status-port (15021), https (443)",)
    assert run(opts(ingress=True, port="https")).url == "https://203.0.113.10"
    assert run(opts(ingress=True, port="443", scheme="http")).url == "http://203.0.113.10:443"


def test_modern_load_balancer_hostname(cluster: EmulatorServer, opts: Opts) -> None:
    cluster.add(o.modern_gateway(ip=None, hostname="a1b2.elb.us-east-1.amazonaws.com"))
    ep = run(opts(ingress=True, format="env"))
    assert ep.env()["GATEWAY_URL"] == "a1b2.elb.us-east-1.amazonaws.com:80"
    assert ep.source == "status.loadBalancer.ingress[0].hostname"


def test_load_balancer_pending_and_node_port(cluster: EmulatorServer, opts: Opts) -> None:
    cluster.add(o.modern_gateway(ip=None))
    err = _error(lambda: run(opts(ingress=True)))
    assert err.exit_code == EXIT_NOT_READY
    assert "has no address yet" in err.message
    ep = run(opts(ingress=True, node_port=True))
    assert ep.url == "http://10.0.0.21:30001"  # http2's nodePort on the gateway pod's node


@pytest.mark.parametrize(("addon", "port"), [
    ("grafana", 3000), ("prometheus", 9090), ("tracing", 80), ("jaeger", 80), ("zipkin", 9411),
    ("kiali", 20001)])
def test_modern_addons_are_cluster_ip(
        cluster: EmulatorServer, opts: Opts, addon: str, port: int) -> None:
    cluster.add(o.modern_addons())
    err = _error(lambda: run(opts(addon)))
    assert isinstance(err, NotExposedError) and err.exit_code == EXIT_USAGE
    assert "is of type ClusterIP" in err.message and "--port-forward" in err.message
    assert f"svc/{'tracing' if addon == 'jaeger' else addon} LOCAL_PORT:{port}" in err.message


def test_addon_exposed_as_load_balancer(cluster: EmulatorServer, opts: Opts) -> None:
    kiali = o.service("kiali", "istio-system", type="LoadBalancer", lb=[{"ip": "198.51.100.7"}],
                      ports=[{"name": "http", "port": 20001},
                             {"name": "http-metrics", "port": 9090}])
    cluster.add(o.namespace("istio-system"), kiali)
    assert run(opts("kiali")).url == "http://198.51.100.7:20001/kiali"
    assert run(opts("kiali", path="/")).url == "http://198.51.100.7:20001/"


# -- services ----------------------------------------------------------------------------------


def test_service_several_ports_and_current_namespace(cluster: EmulatorServer) -> None:
    cluster.add(
        o.namespace("bookinfo"),
        o.service("productpage", "bookinfo", type="NodePort",
                  ports=[{"name": "grpc", "port": 9000, "nodePort": 30900},
                         {"name": "http", "port": 9080, "nodePort": 30980}]),
        o.pod("productpage-v1-a", "bookinfo", labels={"app": "productpage"}, ready=False),
        o.pod("productpage-v1-b", "bookinfo", labels={"app": "productpage"},
              host_ip="10.0.0.7", node="node-7"),
        o.node("node-7", internal="10.0.0.7", external="35.1.2.3"),
    )
    # the "elsewhere" context's namespace is bookinfo; no -n needed
    options = UrlOptions("productpage", kubeconfig=str(cluster.kubeconfig), context="elsewhere")
    ep = run(options)
    assert ep.url == "http://35.1.2.3:30980"
    assert ep.source == "ExternalIP of node node-7 (runs pod productpage-v1-b)"
    assert ep.notes and "using http (9080)" in ep.notes[0]
    assert run(options.replace(port="9000")).url == "http://35.1.2.3:30900"
    err = _error(lambda: run(options.replace(port="metrics")))
    assert err.exit_code == EXIT_USAGE
    assert err.message.endswith("has no port metrics; its ports: grpc (9000), http (9080)")


def test_nodes_forbidden_falls_back_to_host_ip(cluster: EmulatorServer, opts: Opts) -> None:
    """A namespace-scoped user may not list nodes: the Ready pod's hostIP still answers."""
    cluster.add(o.namespace("default"),
                o.service("web", type="NodePort",
                          ports=[{"name": "http", "port": 80, "nodePort": 30080}]),
                o.pod("web-1", labels={"app": "web"}, host_ip="10.0.0.5", node="n5"))
    cluster.deny(403, resources=["nodes"])
    assert run(opts("web")).url == "http://10.0.0.5:30080"


def test_gateway_api(cluster: EmulatorServer, opts: Opts) -> None:
    cluster.add(o.namespace("bookinfo"), o.gateway(
        "bookinfo-gateway", "bookinfo",
        listeners=[{"name": "http", "port": 80, "protocol": "HTTP"},
                   {"name": "https", "port": 443, "protocol": "HTTPS"}],
        addresses=[{"type": "IPAddress", "value": "198.51.100.30"}], programmed=True))
    ep = run(opts(gateway="bookinfo-gateway", namespace="bookinfo", path="/productpage"))
    assert ep.url == "http://198.51.100.30/productpage"
    assert (ep.kind, ep.secure_port) == ("Gateway", 443)
    err = _error(lambda: run(opts(gateway="nope", namespace="bookinfo")))
    assert err.exit_code == EXIT_NOT_FOUND
    assert err.message == 'Gateway "nope" not found in namespace "bookinfo"'
    err = _error(lambda: run(opts(gateway="bookinfo-gateway")))
    assert err.message == 'namespace "default" not found'


# -- --wait ---------------------------------------------------------------------------------------


def test_wait_for_the_load_balancer_address(cluster: EmulatorServer, opts: Opts) -> None:
    cluster.add(o.modern_gateway(ip=None))
    seen: list[tuple[str, float]] = []

    def progress(message: str, left: float) -> None:
        seen.append((message, left))
        if len(seen) == 2:  # the cloud provider assigns an address meanwhile
            cluster.add(o.modern_gateway(ip="203.0.113.99"))

    ep = run(opts(ingress=True, wait=60.0, poll_interval=0.0), progress)
    assert ep.url == "http://203.0.113.99"
    assert len(seen) == 2 and all("has no address yet" in m for m, _ in seen)
    assert all(0 < left <= 60 for _, left in seen)


def test_wait_for_a_ready_pod(cluster: EmulatorServer, opts: Opts) -> None:
    objs = o.walkthrough_2017()
    ready = next(x for x in objs if x["metadata"]["name"] == "istio-ingress-2b")
    objs.remove(ready)
    cluster.add(objs)
    calls = []

    def progress(message: str, left: float) -> None:
        calls.append(message)
        cluster.add(ready)

    assert run(opts(ingress=True, wait=30.0, poll_interval=0.0), progress).port == 32000
    assert calls == [
        'no Ready pod behind service "istio-ingress" in namespace "istio-system" (selector '
        "istio=ingress): istio-ingress-1a-pending is Pending"]


def test_wait_times_out(cluster: EmulatorServer, opts: Opts) -> None:
    cluster.add(o.modern_gateway(ip=None))
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    err = _error(lambda: run(opts(ingress=True, wait=5.0, poll_interval=2.0),
                             sleep=sleep, clock=lambda: now[0]))
    assert err.exit_code == EXIT_NOT_READY
    assert err.message.startswith("timed out after 5s: the load balancer of service "
                                  '"istio-ingressgateway"')
    assert slept == [2.0, 2.0, 1.0]


def test_no_wait_other_errors_are_not_retried(cluster: EmulatorServer, opts: Opts) -> None:
    slept: list[float] = []
    err = _error(lambda: run(opts("web", wait=10.0), sleep=slept.append))
    assert err.exit_code == EXIT_NOT_FOUND and slept == []


def test_parse_duration() -> None:
    assert parse_duration(None) == parse_duration("") == DEFAULT_WAIT
    assert parse_duration("90s") == parse_duration("1m30s") == parse_duration("90") == 90
    assert parse_duration("1h") == 3600 and parse_duration("500ms") == 0.5
    assert parse_duration("1.5m") == 90
    for bad in ("5x", "m", "1m 30s", "-3", "s5", "inf", "nan"):
        with pytest.raises(UsageError, match="not a duration|0 or more"):
            parse_duration(bad)
    assert (format_duration(5), format_duration(90), format_duration(300)) == (
        "5s", "1m30s", "5m")


# -- errors ------------------------------------------------------------------------------------


def test_every_error_has_its_exit_code(
        cluster: EmulatorServer, opts: Opts, tmp_path: Path, closed_port_kubeconfig: Path) -> None:
    cluster.add(o.namespace("default"), o.namespace("istio-system"),
                o.service("web", type="NodePort",
                          ports=[{"name": "http", "port": 80, "nodePort": 30080}]),
                o.pod("web-1", labels={"app": "web"}, phase="Pending"))
    kubectl_missing = UrlOptions("web", kubectl=str(tmp_path / "kubectl"))
    assert _error(lambda: run(kubectl_missing)).exit_code == EXIT_KUBECTL
    unreachable = UrlOptions("web", kubeconfig=str(closed_port_kubeconfig))
    assert _error(lambda: run(unreachable)).exit_code == EXIT_UNREACHABLE
    bad_context = opts("web", context="prod")
    assert _error(lambda: run(bad_context)).exit_code == EXIT_UNREACHABLE
    service = _error(lambda: run(opts("reviews")))
    assert (service.exit_code, service.message) == (
        EXIT_NOT_FOUND, 'service "reviews" not found in namespace "default"')
    namespace = _error(lambda: run(opts("web", namespace="bookinfo")))
    assert (namespace.exit_code, namespace.message) == (
        EXIT_NOT_FOUND, 'namespace "bookinfo" not found')
    no_gateway = _error(lambda: run(opts(ingress=True)))
    assert no_gateway.exit_code == EXIT_NOT_FOUND
    no_ready_pod = _error(lambda: run(opts("web")))
    assert (no_ready_pod.exit_code, no_ready_pod.message) == (
        EXIT_NOT_READY, 'no Ready pod behind service "web" in namespace "default" (selector '
        "app=web): web-1 is Pending")
    cluster.deny(403)
    assert _error(lambda: run(opts("web"))).exit_code == EXIT_FORBIDDEN
    cluster.deny(401)
    assert _error(lambda: run(opts("web"))).exit_code == EXIT_FORBIDDEN


@pytest.mark.parametrize(("options", "message"), [
    (UrlOptions(), "name a SERVICE, or use --ingress or --gateway NAME"),
    (UrlOptions("web", ingress=True), "SERVICE and --ingress do not go together"),
    (UrlOptions(ingress=True, gateway="gw"), "--ingress and --gateway do not go together"),
    (UrlOptions("web", format="yaml"), "--format yaml: choose one of url, env, json"),
    (UrlOptions("web", scheme="ftp"), "--scheme ftp: choose one of http, https"),
    (UrlOptions("web", port="0"), "--port 0: a port number is between 1 and 65535"),
    (UrlOptions("web", port_forward=True, from_files=("s.json",)), "--port-forward needs a"),
    (UrlOptions("web", wait=5.0, from_files=("s.json",)), "--wait does not go with"),
    (UrlOptions(gateway="gw", port_forward=True), "--port-forward forwards to a service"),
    (UrlOptions("web", port_forward=True, node_port=True), "--node-port does not go with"),
    (UrlOptions("web", port_forward=True), "--port-forward runs through start_port_forward"),
])
def test_usage_errors(options: UrlOptions, message: str) -> None:
    with pytest.raises(UsageError) as err:
        run(options, source=StateFile([]))
    assert err.value.message.startswith(message)
    if "start_port_forward" not in message:
        with pytest.raises(UsageError):
            check(options)


# -- output ------------------------------------------------------------------------------------


def test_env_output_evals_in_bash(cluster: EmulatorServer, opts: Opts) -> None:
    gw = o.modern_gateway(ip="203.0.113.10")
    gw[1]["spec"]["ports"].append({"name": "tcp", "port": 31400, "nodePort": 31400})
    cluster.add(gw)
    text = render(run(opts(ingress=True)), "env")
    script = 'eval "$MESHCTL_ENV"; echo "$INGRESS_HOST|$INGRESS_PORT|$SECURE_INGRESS_PORT|' \
             '$TCP_INGRESS_PORT|http://$GATEWAY_URL/productpage"'
    out = subprocess.run(["bash", "-c", script], env={"MESHCTL_ENV": text, "PATH": "/bin"},
                         capture_output=True, text=True, check=True)
    assert out.stdout == "203.0.113.10|80|443|31400|http://203.0.113.10:80/productpage\n"
    assert out.stderr == ""


def test_json_output(cluster: EmulatorServer, opts: Opts) -> None:
    cluster.add(o.modern_gateway(ip="203.0.113.10"))
    data = json.loads(render(run(opts(ingress=True, path="/productpage")), "json"))
    assert {k: data[k] for k in ("url", "host", "port", "name", "type", "port_name")} == {
        "url": "http://203.0.113.10/productpage", "host": "203.0.113.10", "port": 80,
        "name": "istio-ingressgateway", "type": "LoadBalancer", "port_name": "http2"}


# -- --from-file: the same answers offline ---------------------------------------------------------


SCENARIOS: dict[str, tuple[Callable[[], list[dict[str, Any]]], dict[str, Any]]] = {
    "walkthrough ingress": (o.walkthrough_2017, {"ingress": True, "path": "/productpage"}),
    "walkthrough grafana": (o.walkthrough_2017, {"service": "grafana"}),
    "modern ingress": (o.modern_gateway, {"ingress": True}),
    "modern ingress https": (o.modern_gateway, {"ingress": True, "port": "https"}),
    "node port of lb": (lambda: o.modern_gateway(ip=None), {"ingress": True, "node_port": True}),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_from_file_answers_like_the_cluster(
        cluster: EmulatorServer, tmp_path: Path, scenario: str) -> None:
    objects, kw = SCENARIOS[scenario]
    cluster.add(objects())
    live = run(UrlOptions(kubeconfig=str(cluster.kubeconfig), **kw))
    saved = subprocess.run(
        ["kubectl", "--kubeconfig", str(cluster.kubeconfig), "get", "svc,pods,nodes", "-A",
         "-o", "json"], capture_output=True, text=True, check=True).stdout
    (tmp_path / "state.json").write_text(saved)
    offline = run(UrlOptions(from_files=(str(tmp_path / "state.json"),), **kw))
    assert offline.as_dict() == live.as_dict()


def test_from_file_errors(tmp_path: Path) -> None:
    state = o.write_list(tmp_path / "state.json", o.modern_addons())
    err = _error(lambda: run(UrlOptions("grafana", from_files=(str(state),))))
    assert isinstance(err, NotExposedError)
    missing = _error(lambda: run(UrlOptions("web", namespace="shop", from_files=(str(state),))))
    assert missing.message == 'namespace "shop" not found'


# -- start-up --------------------------------------------------------------------------------------


def test_url_use_case_imports_nothing_heavy() -> None:
    code = (
        "import sys, meshctl.commands.url\n"
        "heavy = ('click', 'ruamel', 'yaml', 'rich', 'gotpl', 'typing', 'dataclasses',\n"
        "         'meshctl.commands.pipeline', 'meshctl.sidecar', 'meshctl.gotemplate',\n"
        "         'meshctl.yamltext',\n"
        "         'meshctl.cli')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
