"""The URL rules as pure functions: no cluster, no kubectl."""

from __future__ import annotations

import json
import subprocess

import pytest

from meshctl.errors import (
    EXIT_NOT_FOUND,
    EXIT_NOT_READY,
    EXIT_USAGE,
    NotFoundError,
    NotReadyError,
    UsageError,
)
from meshctl.kube import ports
from meshctl.kube.ports import choose_port
from meshctl.kube.urls import (
    ADDONS,
    Endpoint,
    NotExposedError,
    addon_port,
    find_ingress_gateway,
    gateway_endpoint,
    render,
    service_endpoint,
    shell_quote,
)
from tests.kube import objects as o

# -- ports -------------------------------------------------------------------------------------

GATEWAY_PORTS = [
    {"name": "status-port", "port": 15021},
    {"name": "http2", "port": 80},
    {"name": "https", "port": 443},
]


def test_port_by_name_and_by_number_never_by_position() -> None:
    assert choose_port(GATEWAY_PORTS, "https", what="s")[0]["port"] == 443
    assert choose_port(GATEWAY_PORTS, 80, what="s")[0]["name"] == "http2"
    # no --port: the status port, listed first, is not what a browser wants
    chosen, note = choose_port(GATEWAY_PORTS, None, what='service "gw"', skip_status=True,
                               preferred=ports.INGRESS_HTTP_PORT_NAMES)
    assert chosen["name"] == "http2"
    assert note is not None and "using http2 (80)" in note and "--port" in note
    assert "status-port (15021)" in note


def test_unknown_port_is_a_usage_error_listing_the_ports() -> None:
    with pytest.raises(UsageError) as err:
        choose_port(GATEWAY_PORTS, "grpc", what='service "gw"')
    assert err.value.exit_code == EXIT_USAGE
    assert err.value.message == (
        'service "gw" has no port grpc; its ports: status-port (15021), http2 (80), https (443)')
    with pytest.raises(UsageError):
        choose_port(GATEWAY_PORTS, 8080, what="s")


def test_preferred_http_names_in_order() -> None:
    ports = [{"name": "grpc", "port": 9000}, {"name": "http-web", "port": 8000},
             {"name": "http2", "port": 8001}]
    assert choose_port(ports, None, what="s")[0]["name"] == "http2"
    ports.append({"name": "http", "port": 8002})
    assert choose_port(ports, None, what="s")[0]["name"] == "http"


def test_fallbacks_http_prefix_then_app_protocol_then_port_80() -> None:
    tracing = [{"name": "grpc-query", "port": 16685}, {"name": "http-query", "port": 80}]
    assert choose_port(tracing, None, what="s")[0]["name"] == "http-query"
    app = [{"name": "a", "port": 1}, {"name": "b", "port": 2, "appProtocol": "http"}]
    assert choose_port(app, None, what="s")[0]["name"] == "b"
    eighty = [{"name": "metrics", "port": 9090}, {"name": "web", "port": 80}]
    assert choose_port(eighty, None, what="s")[0]["name"] == "web"


def test_several_ports_none_http_asks_for_port() -> None:
    with pytest.raises(UsageError, match=r"none looks like HTTP: choose one with --port"):
        choose_port([{"name": "grpc", "port": 9000}, {"name": "redis", "port": 6379}],
                    None, what="s")


def test_single_port_is_used_without_a_note() -> None:
    chosen, note = choose_port([{"name": "redis", "port": 6379}], None, what="s")
    assert chosen["port"] == 6379 and note is None


def test_only_a_status_port() -> None:
    with pytest.raises(NotFoundError, match="only a status port"):
        choose_port([{"name": "status-port", "port": 15021}], None, what="s", skip_status=True)
    # asked for by name, it is given
    assert choose_port(GATEWAY_PORTS, "status-port", what="s", skip_status=True)[0]["port"]


@pytest.mark.parametrize(("port", "scheme"), [
    ({"name": "https", "port": 8443}, "https"),
    ({"name": "https-admin", "port": 9443}, "https"),
    ({"name": "web", "port": 443}, "https"),
    ({"name": "web", "port": 8443, "appProtocol": "https"}, "https"),
    ({"name": "http", "port": 80}, "http"),
    ({"name": "httpsish", "port": 8080}, "http"),
])
def test_scheme_by_port(port: dict[str, object], scheme: str) -> None:
    assert ports.port_scheme(port) == scheme


def test_parse_port() -> None:
    assert ports.parse_port("8080") == 8080
    assert ports.parse_port("http2") == "http2"
    assert ports.parse_port(None) is None
    with pytest.raises(UsageError):
        ports.parse_port("70000")
    with pytest.raises(UsageError):
        ports.parse_port(" ")


# -- service types -----------------------------------------------------------------------------


def test_load_balancer_ip_then_hostname() -> None:
    svc = o.service("web", type="LoadBalancer", lb=[{"ip": "203.0.113.7"}])
    ep = service_endpoint(svc)
    assert (ep.url, ep.source) == ("http://203.0.113.7", "status.loadBalancer.ingress[0].ip")
    svc = o.service("web", type="LoadBalancer", lb=[{"hostname": "a1.elb.example.com"}])
    ep = service_endpoint(svc, path="productpage")
    assert ep.url == "http://a1.elb.example.com/productpage"
    assert ep.source == "status.loadBalancer.ingress[0].hostname"
    both = o.service("web", type="LoadBalancer",
                     lb=[{"ip": "198.51.100.1", "hostname": "lb.example.com"}])
    assert service_endpoint(both).host == "198.51.100.1"


def test_load_balancer_pending() -> None:
    svc = o.service("web", type="LoadBalancer",
                    ports=[{"name": "http", "port": 80, "nodePort": 31080}])
    with pytest.raises(NotReadyError) as err:
        service_endpoint(svc)
    assert err.value.exit_code == EXIT_NOT_READY
    assert "no address yet" in err.value.message and "--wait" in err.value.message
    # --node-port: the node port instead
    pods = [o.pod("web-1", labels={"app": "web"}, host_ip="10.0.0.5")]
    ep = service_endpoint(svc, pods, [], node_port=True)
    assert (ep.host, ep.port) == ("10.0.0.5", 31080)
    assert any("--node-port" in n for n in ep.notes)


def test_node_port_skips_a_pending_pod_listed_first() -> None:
    svc = o.service("web", type="NodePort",
                    ports=[{"name": "http", "port": 80, "nodePort": 30080}])
    pods = [
        o.pod("web-a", labels={"app": "web"}, phase="Pending"),
        o.pod("web-b", labels={"app": "web"}, ready=False, host_ip="10.0.0.2"),
        o.pod("other", labels={"app": "other"}, host_ip="10.0.0.9"),
        o.pod("web-c", labels={"app": "web"}, host_ip="10.0.0.3", node="n3"),
    ]
    ep = service_endpoint(svc, pods, [o.node("n3", internal="10.0.0.3")])
    assert (ep.url, ep.source) == ("http://10.0.0.3:30080", "hostIP of pod web-c")


def test_node_port_prefers_the_pods_node_external_ip() -> None:
    svc = o.service("web", type="NodePort",
                    ports=[{"name": "http", "port": 80, "nodePort": 30080}])
    pods = [o.pod("web-1", labels={"app": "web"}, host_ip="10.0.0.3", node="n3")]
    nodes = [o.node("n1", internal="10.0.0.1", external="34.1.1.1"),
             o.node("n3", internal="10.0.0.3", external="34.3.3.3")]
    ep = service_endpoint(svc, pods, nodes)
    assert ep.host == "34.3.3.3" and "node n3" in ep.source
    # nodes unreadable (no permission): the hostIP
    assert service_endpoint(svc, pods, None).host == "10.0.0.3"


def test_node_port_no_ready_pod_says_why() -> None:
    svc = o.service("web", type="NodePort",
                    ports=[{"name": "http", "port": 80, "nodePort": 30080}])
    pods = [o.pod("web-a", labels={"app": "web"}, phase="Pending"),
            o.pod("web-b", labels={"app": "web"}, ready=False)]
    with pytest.raises(NotReadyError) as err:
        service_endpoint(svc, pods, [])
    assert err.value.message == (
        'no Ready pod behind service "web" in namespace "default" (selector app=web): '
        "web-a is Pending, web-b is Running but not Ready")
    with pytest.raises(NotReadyError, match="no pod matches the selector app=web"):
        service_endpoint(svc, [], [])


def test_node_port_without_selector_uses_a_node() -> None:
    svc = o.service("ext", type="NodePort", selector={},
                    ports=[{"name": "http", "port": 80, "nodePort": 30080}])
    nodes = [o.node("down", internal="10.0.0.1", external="34.0.0.1", ready=False),
             o.node("up", internal="10.0.0.2")]
    ep = service_endpoint(svc, [], nodes)
    assert (ep.host, ep.source) == ("34.0.0.1", "ExternalIP of node down")
    ep = service_endpoint(svc, [], [o.node("a", internal="10.0.0.7"),
                                    o.node("b", internal="10.0.0.8")])
    assert (ep.host, ep.source) == ("10.0.0.7", "InternalIP of node a")
    with pytest.raises(NotFoundError):
        service_endpoint(svc, [], [])


def test_cluster_ip_says_how_to_reach_it() -> None:
    svc = o.service("grafana", "istio-system", ports=[{"name": "service", "port": 3000}])
    with pytest.raises(NotExposedError) as err:
        service_endpoint(svc)
    assert isinstance(err.value, UsageError) and err.value.exit_code == EXIT_USAGE
    assert "\n" not in err.value.message
    assert "--port-forward" in err.value.message
    assert "kubectl port-forward -n istio-system svc/grafana LOCAL_PORT:3000" in err.value.message


def test_cluster_ip_with_external_ips() -> None:
    svc = o.service("web", externalIPs=["192.0.2.50"])
    ep = service_endpoint(svc)
    assert (ep.url, ep.source) == ("http://192.0.2.50", "spec.externalIPs[0]")


def test_external_name() -> None:
    svc = o.service("db", type="ExternalName", ports=[], externalName="db.example.com")
    assert service_endpoint(svc).url == "http://db.example.com"
    assert service_endpoint(svc, scheme="https").url == "https://db.example.com"


# -- ingress gateway ---------------------------------------------------------------------------


def test_ingress_gateway_by_name_then_label() -> None:
    modern = o.service("istio-ingressgateway", "istio-system")
    old = o.service("istio-ingress", "istio-system")
    labelled = o.service("gw-b", "istio-system", labels={"istio": "ingressgateway"})
    labelled2 = o.service("gw-a", "istio-system", labels={"istio": "ingressgateway"})
    assert find_ingress_gateway([old, modern], "istio-system")[0] is modern
    assert find_ingress_gateway([labelled, old], "istio-system")[0] is old
    found, note = find_ingress_gateway([labelled, labelled2], "istio-system")
    assert found is labelled2 and note is not None and "gw-a, gw-b" in note
    helm = o.service("my-ingress", "istio-ingress", labels={"istio": "ingress"})
    assert find_ingress_gateway([helm], "istio-ingress")[0] is helm


def test_no_ingress_gateway() -> None:
    with pytest.raises(NotFoundError) as err:
        find_ingress_gateway([o.service("web")], "istio-system")
    assert err.value.exit_code == EXIT_NOT_FOUND
    assert err.value.message.startswith('no Istio ingress gateway in namespace "istio-system"')
    assert "istio-ingressgateway or istio-ingress" in err.value.message
    assert "--istio-namespace" in err.value.message


def test_ingress_port_http2_then_http_and_env_ports() -> None:
    svc = o.service(
        "istio-ingressgateway", "istio-system", type="LoadBalancer", lb=[{"ip": "203.0.113.9"}],
        ports=[{"name": "status-port", "port": 15021}, {"name": "http", "port": 8080},
               {"name": "http2", "port": 80}, {"name": "https", "port": 443},
               {"name": "tcp", "port": 31400}])
    # what `meshctl url --ingress` asks for (commands/url.py)
    ep = service_endpoint(svc, preferred=ports.INGRESS_HTTP_PORT_NAMES, skip_status=True)
    assert (ep.port_name, ep.port, ep.secure_port, ep.tcp_port) == ("http2", 80, 443, 31400)
    assert ep.env() == {
        "INGRESS_HOST": "203.0.113.9", "INGRESS_PORT": "80", "SECURE_INGRESS_PORT": "443",
        "TCP_INGRESS_PORT": "31400", "GATEWAY_URL": "203.0.113.9:80"}
    https = service_endpoint(svc, port="https", preferred=ports.INGRESS_HTTP_PORT_NAMES,
                             skip_status=True)
    assert https.url == "https://203.0.113.9"


# -- Gateway API -------------------------------------------------------------------------------


def test_gateway_api_address_and_listener() -> None:
    gw = o.gateway(
        "bookinfo-gateway",
        listeners=[{"name": "https", "port": 443, "protocol": "HTTPS"},
                   {"name": "web", "port": 8080, "protocol": "HTTP"},
                   {"name": "http", "port": 80, "protocol": "HTTP"}],
        addresses=[{"type": "Hostname",
                    "value": "bookinfo-gateway-istio.default.svc.cluster.local"},
                   {"type": "IPAddress", "value": "198.51.100.20"}])
    ep = gateway_endpoint(gw, path="/productpage")
    assert ep.url == "http://198.51.100.20/productpage"
    assert (ep.source, ep.port_name, ep.secure_port) == ("status.addresses[1]", "http", 443)
    assert ep.notes and "3 listeners; using http (80)" in ep.notes[0]
    assert gateway_endpoint(gw, port="https").url == "https://198.51.100.20"
    assert gateway_endpoint(gw, port=8080).url == "http://198.51.100.20:8080"


def test_gateway_api_hostname_listener_note() -> None:
    gw = o.gateway("gw", listeners=[{"name": "http", "port": 80, "protocol": "HTTP",
                                     "hostname": "bookinfo.example.com"}],
                   addresses=[{"type": "Hostname", "value": "lb.example.net"}])
    ep = gateway_endpoint(gw)
    assert ep.url == "http://lb.example.net"
    assert ep.notes == ("listener http only accepts Host bookinfo.example.com",)


def test_gateway_api_pending() -> None:
    gw = o.gateway("gw", addresses=[{"type": "Hostname", "value": "gw-istio.default.svc"}],
                   programmed=False)
    with pytest.raises(NotReadyError) as err:
        gateway_endpoint(gw)
    assert "no address outside the cluster yet" in err.value.message
    assert "Programmed: False, Assigned to service(s) but no address assigned yet" in str(
        err.value)


# -- addons ------------------------------------------------------------------------------------


def test_addon_ports_modern_and_2017() -> None:
    modern = {d["metadata"]["name"]: d for d in o.modern_addons() if d["kind"] == "Service"}
    old = {d["metadata"]["name"]: d for d in o.walkthrough_2017() if d["kind"] == "Service"}
    assert addon_port(modern["grafana"], ADDONS["grafana"]) == "service"
    assert addon_port(old["grafana"], ADDONS["grafana"]) == "http"
    assert addon_port(modern["tracing"], ADDONS["jaeger"]) == "http-query"
    assert addon_port(modern["kiali"], ADDONS["kiali"]) == "http"
    assert addon_port(old["prometheus"], ADDONS["prometheus"]) == "prometheus"
    assert addon_port(o.service("grafana", ports=[{"name": "x", "port": 3000}]),
                      ADDONS["grafana"]) == 3000
    assert addon_port(o.service("grafana", ports=[{"name": "x", "port": 1}]),
                      ADDONS["grafana"]) is None


# -- output ------------------------------------------------------------------------------------


def _endpoint(**changes: object) -> Endpoint:
    base = Endpoint("http", "203.0.113.10", 80, "/productpage", "Service",
                    "istio-ingressgateway", "istio-system", "LoadBalancer",
                    "status.loadBalancer.ingress[0].ip", port_name="http2", secure_port=443)
    return base.replace(**changes)  # type: ignore[no-any-return]


def test_url_omits_default_ports_and_brackets_ipv6() -> None:
    assert _endpoint().url == "http://203.0.113.10/productpage"
    assert _endpoint(port=8080).url == "http://203.0.113.10:8080/productpage"
    assert _endpoint(scheme="https", port=443, path="").url == "https://203.0.113.10"
    assert _endpoint(scheme="https", port=80).url == "https://203.0.113.10:80/productpage"
    v6 = _endpoint(host="2001:db8::1", port=31380)
    assert v6.url == "http://[2001:db8::1]:31380/productpage"
    assert v6.env()["GATEWAY_URL"] == "[2001:db8::1]:31380"


def test_render_formats() -> None:
    ep = _endpoint(notes=("a note",))
    assert render(ep, "url") == "http://203.0.113.10/productpage\n"
    assert render(ep, "env") == (
        "export INGRESS_HOST=203.0.113.10\n"
        "export INGRESS_PORT=80\n"
        "export SECURE_INGRESS_PORT=443\n"
        "export GATEWAY_URL=203.0.113.10:80\n")
    data = json.loads(render(ep, "json"))
    assert data["url"] == "http://203.0.113.10/productpage"
    assert data["port_name"] == "http2" and data["notes"] == ["a note"]
    assert data["tcp_port"] is None and data["env"]["GATEWAY_URL"] == "203.0.113.10:80"
    with pytest.raises(UsageError, match="url, env, json"):
        render(ep, "yaml")


def test_env_quoting_survives_bash_eval() -> None:
    hosts = ["a.example.com", "it's $(rm -rf /) `x` \"q\"", "sp ace\ttab", "ünï", "", "a\nb"]
    script = "".join(render(_endpoint(host=h), "env") + 'printf "%s\\0" "$INGRESS_HOST"\n'
                     for h in hosts)
    out = subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout
    assert out.decode().split("\0")[:-1] == hosts
    assert all(shell_quote(w) == w for w in ("10.0.0.1", "a-b.example.com", "a1:80"))
    assert shell_quote("[::1]:80") == "'[::1]:80'"  # no glob in shells that would expand it
