"""``meshctl url --port-forward``: kubectl port-forward on a free local port, until stopped.

The emulator does not forward ports, so a stand-in kubectl (given as the kubectl path) plays
``port-forward``: it records its command line, serves HTTP on the local port and prints what
kubectl prints; every other command goes to the real kubectl and the emulator. Real kubectl's
own early failures (no such service, pod not running, no streaming upgrade) are checked too.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from meshctl.commands.url import UrlOptions, start_port_forward
from meshctl.errors import (
    EXIT_NOT_FOUND,
    EXIT_NOT_READY,
    EXIT_UNREACHABLE,
    KubectlError,
    MeshctlError,
    NotFoundError,
    NotReadyError,
    UnreachableError,
)
from meshctl.kube.kubectl import Access, Kubectl
from meshctl.kube.portforward import PortForward, free_local_port
from tests.kube import objects as o
from tests.kube.emulator import EmulatorServer

STAND_IN = '''#!{python}
"""kubectl for tests: port-forward is played here, everything else is the real kubectl."""
import http.server, json, os, sys, time

args = sys.argv[1:]
if "port-forward" not in args:
    os.execv({kubectl!r}, [{kubectl!r}, *args])
with open({log!r}, "a") as f:
    f.write(json.dumps(args) + "\\n")
mode = {mode!r}
calls = sum(1 for _ in open({log!r}))
local, remote = args[-1].split(":")
if mode == "fail":
    print("error: unable to forward port because pod is not running. Current status=Pending",
          file=sys.stderr)
    sys.exit(1)
if mode == "busy-once" and calls == 1:
    print("Unable to listen on port %s: Listeners failed to create with the following errors: "
          "[unable to create listener: Error listen tcp4 127.0.0.1:%s: bind: address already in "
          "use]" % (local, local), file=sys.stderr)
    print("error: unable to listen on any of the requested ports: [{{%s %s}}]" % (local, remote),
          file=sys.stderr)
    sys.exit(1)
if mode == "hang":
    time.sleep(60)
    sys.exit(0)
if mode == "ipv6-only":
    print("Forwarding from [::1]:%s -> %s" % (local, remote), flush=True)
    time.sleep(60)
    sys.exit(0)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        print("Handling connection for %s" % local, flush=True)
        body = json.dumps({{"service": args[args.index("port-forward") + 3], "remote": remote,
                           "path": self.path}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


server = http.server.HTTPServer(("127.0.0.1", int(local)), Handler)
print("Forwarding from 127.0.0.1:%s -> %s" % (local, remote), flush=True)
print("Forwarding from [::1]:%s -> %s" % (local, remote), flush=True)
if mode == "die":
    server.handle_request()
    print("error: lost connection to pod", file=sys.stderr)
    sys.exit(1)
server.serve_forever()
'''


class StandIn:
    def __init__(self, directory: Path, mode: str = "ok") -> None:
        self.path = directory / "kubectl"
        self.log = directory / "port-forward.log"
        real = shutil.which("kubectl")
        assert real is not None
        self.path.write_text(STAND_IN.format(
            python=sys.executable, kubectl=real, log=str(self.log), mode=mode))
        self.path.chmod(0o755)

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


MakeStandIn = Callable[..., StandIn]


@pytest.fixture
def stand_in(tmp_path: Path) -> MakeStandIn:
    def make(mode: str = "ok") -> StandIn:
        return StandIn(tmp_path, mode)
    return make


def _fetch(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@pytest.mark.parametrize(("addon", "service", "remote", "path"), [
    ("grafana", "grafana", 3000, "/"),
    ("prometheus", "prometheus", 9090, "/"),
    ("tracing", "tracing", 80, "/jaeger"),
    ("jaeger", "tracing", 80, "/jaeger"),
    ("zipkin", "zipkin", 9411, "/"),
    ("kiali", "kiali", 20001, "/kiali"),
])
def test_addon_port_forward(cluster: EmulatorServer, stand_in: MakeStandIn, addon: str,
                            service: str, remote: int, path: str) -> None:
    cluster.add(o.modern_addons())
    kubectl = stand_in()
    options = UrlOptions(addon, kubectl=str(kubectl.path), kubeconfig=str(cluster.kubeconfig),
                         port_forward=True)
    with start_port_forward(options) as forwarding:
        local = forwarding.endpoint.port
        assert forwarding.url == f"http://127.0.0.1:{local}{path}"
        assert kubectl.calls() == [[
            "--kubeconfig", str(cluster.kubeconfig), "port-forward", "-n", "istio-system",
            f"svc/{service}", f"{local}:{remote}"]]
        assert forwarding.command == [str(kubectl.path), *kubectl.calls()[0]]
        # the URL reaches what kubectl forwards to
        assert _fetch(forwarding.url) == {
            "service": f"svc/{service}", "remote": str(remote), "path": path}
        assert forwarding.endpoint.source == f"kubectl port-forward svc/{service} {local}:{remote}"
    assert forwarding.forward.process is not None
    assert forwarding.forward.process.poll() is not None  # stopped with the block


def test_local_port_given_and_ingress(cluster: EmulatorServer, stand_in: MakeStandIn) -> None:
    cluster.add(o.modern_gateway(ip=None))
    kubectl = stand_in()
    port = free_local_port()
    options = UrlOptions(ingress=True, kubectl=str(kubectl.path), local_port=port,
                         kubeconfig=str(cluster.kubeconfig), context="emulator",
                         port_forward=True, path="/productpage")
    with start_port_forward(options) as forwarding:
        assert forwarding.url == f"http://127.0.0.1:{port}/productpage"
        assert kubectl.calls() == [[
            "--kubeconfig", str(cluster.kubeconfig), "--context", "emulator", "port-forward",
            "-n", "istio-system", "svc/istio-ingressgateway", f"{port}:80"]]
        assert forwarding.endpoint.notes  # which of the gateway's ports, and how to choose


def test_ipv6_only_listener(cluster: EmulatorServer, stand_in: MakeStandIn) -> None:
    cluster.add(o.modern_addons())
    kubectl = stand_in("ipv6-only")
    options = UrlOptions("kiali", kubectl=str(kubectl.path), port_forward=True,
                         kubeconfig=str(cluster.kubeconfig))
    with start_port_forward(options) as forwarding:
        assert forwarding.url == f"http://[::1]:{forwarding.endpoint.port}/kiali"


def test_prefers_the_remote_port_locally_when_free(stand_in: MakeStandIn) -> None:
    preferred = free_local_port()
    assert free_local_port(preferred) == preferred
    assert free_local_port(80) != 80  # privileged: another port


def test_kubectl_exits_early(cluster: EmulatorServer, stand_in: MakeStandIn) -> None:
    cluster.add(o.modern_addons())
    kubectl = stand_in("fail")
    options = UrlOptions("grafana", kubectl=str(kubectl.path), port_forward=True,
                         kubeconfig=str(cluster.kubeconfig))
    with pytest.raises(NotReadyError) as err:
        start_port_forward(options)
    assert err.value.exit_code == EXIT_NOT_READY
    assert "pod is not running" in err.value.message


def test_port_taken_meanwhile_is_retried(cluster: EmulatorServer, stand_in: MakeStandIn) -> None:
    cluster.add(o.modern_addons())
    kubectl = stand_in("busy-once")
    options = UrlOptions("kiali", kubectl=str(kubectl.path), port_forward=True,
                         kubeconfig=str(cluster.kubeconfig))
    with start_port_forward(options) as forwarding:
        first, second = kubectl.calls()
        assert first[-1] != second[-1]
        assert second[-1] == f"{forwarding.endpoint.port}:20001"


def test_kubectl_dies_while_forwarding(cluster: EmulatorServer, stand_in: MakeStandIn) -> None:
    cluster.add(o.modern_addons())
    kubectl = stand_in("die")
    options = UrlOptions("grafana", kubectl=str(kubectl.path), port_forward=True,
                         kubeconfig=str(cluster.kubeconfig))
    with start_port_forward(options) as forwarding:
        _fetch(forwarding.url)
        with pytest.raises(KubectlError, match="lost connection to pod"):
            forwarding.wait()


def test_stop_ends_wait(cluster: EmulatorServer, stand_in: MakeStandIn) -> None:
    """What Ctrl-C does: the CLI leaves the block, kubectl is stopped, nothing is raised."""
    cluster.add(o.modern_addons())
    kubectl = stand_in()
    options = UrlOptions("grafana", kubectl=str(kubectl.path), port_forward=True,
                         kubeconfig=str(cluster.kubeconfig))
    forwarding = start_port_forward(options)
    timer = threading.Timer(0.2, forwarding.stop)
    timer.start()
    assert forwarding.wait() != 0  # terminated
    timer.join()


def test_not_ready_in_time(cluster: EmulatorServer, stand_in: MakeStandIn) -> None:
    cluster.add(o.modern_addons())
    kubectl = stand_in("hang")
    options = UrlOptions("grafana", kubectl=str(kubectl.path), port_forward=True,
                         kubeconfig=str(cluster.kubeconfig))
    with pytest.raises(UnreachableError, match="was not ready after 0.3 s"):
        start_port_forward(options, ready_timeout=0.3)


def test_wait_for_a_ready_pod_first(cluster: EmulatorServer, stand_in: MakeStandIn) -> None:
    labels = {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana"}
    cluster.add(o.modern_addons(),
                o.pod("grafana-1", "istio-system", labels=labels, phase="Pending"))
    kubectl = stand_in()
    seen: list[str] = []

    def progress(message: str, left: float) -> None:
        seen.append(message)
        cluster.add(o.pod("grafana-1", "istio-system", labels=labels))

    options = UrlOptions("grafana", kubectl=str(kubectl.path), port_forward=True, wait=30.0,
                         poll_interval=0.0, kubeconfig=str(cluster.kubeconfig))
    with start_port_forward(options, progress) as forwarding:
        assert forwarding.url.startswith("http://127.0.0.1:")
    assert seen == [
        'no Ready pod behind service "grafana" in namespace "istio-system" (selector '
        "app.kubernetes.io/instance=grafana,app.kubernetes.io/name=grafana): grafana-1 is "
        "Pending"]


# -- real kubectl's early failures -------------------------------------------------------------


@pytest.mark.parametrize(("objects", "error", "code"), [
    ([], NotFoundError, EXIT_NOT_FOUND),
    ([o.service("web"), o.pod("web-1", labels={"app": "web"}, phase="Pending")],
     NotReadyError, EXIT_NOT_READY),
    ([o.service("web"), o.pod("web-1", labels={"app": "web"})], UnreachableError,
     EXIT_UNREACHABLE),
])
def test_real_kubectl_port_forward_failures(
        cluster: EmulatorServer, objects: list[dict[str, Any]], error: type[MeshctlError],
        code: int) -> None:
    cluster.add(o.namespace("default"), *objects)
    forward = PortForward(Kubectl(Access(kubeconfig=str(cluster.kubeconfig))), "default",
                          "web", 80)
    with pytest.raises(error) as err:
        forward.start(timeout=20)
    assert err.value.exit_code == code
    assert "\n" not in err.value.message
    if error is NotFoundError:
        assert err.value.message == 'service "web" not found in namespace "default"'
