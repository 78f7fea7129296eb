"""``meshctl url`` through the command line (both the click-free path and click, compared by
``run_cli``), against the loopback API server through real kubectl: what is printed where,
one-line errors with their exit codes, and the port-forward loop in a real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from meshctl.errors import EXIT_INTERRUPTED, EXIT_NOT_FOUND, EXIT_NOT_READY, EXIT_USAGE
from tests.clirunner import run_cli, run_in_pty
from tests.conftest import ROOT
from tests.kube import objects as o
from tests.kube.emulator import EmulatorServer


def _url(cluster: EmulatorServer, *args: str) -> tuple[int, str, str]:
    res = run_cli(["url", *args, "--kubeconfig", str(cluster.kubeconfig)])
    return res.rc, res.stdout, res.stderr


def test_walkthrough_gateway_url(cluster: EmulatorServer) -> None:
    cluster.add(o.walkthrough_2017())
    rc, out, err = _url(cluster, "--ingress", "--path", "/productpage")
    assert (rc, out) == (0, "http://10.128.0.4:32000/productpage\n")
    assert err.startswith("note: ") and "using http (80)" in err  # not the https port


def test_modern_gateway_status_port_first(cluster: EmulatorServer) -> None:
    cluster.add(o.modern_gateway())
    rc, out, err = _url(cluster, "--ingress")
    assert (rc, out) == (0, "http://203.0.113.10\n")  # http2 (80), not status-port (15021)


def test_env_format_evals_in_bash(cluster: EmulatorServer) -> None:
    cluster.add(o.modern_gateway(ip=None, hostname="a1b2.elb.example.com"))
    rc, out, _ = _url(cluster, "--ingress", "--format", "env")
    assert rc == 0
    shown = subprocess.run(["bash", "-c", out + 'echo "$INGRESS_HOST|$INGRESS_PORT|$GATEWAY_URL"'],
                           capture_output=True, text=True, check=True).stdout
    assert shown == "a1b2.elb.example.com|80|a1b2.elb.example.com:80\n"
    assert "SECURE_INGRESS_PORT=443" in out


def test_notes_go_to_stderr(cluster: EmulatorServer) -> None:
    cluster.add(o.namespace("default"),
                o.service("web", type="LoadBalancer", lb=[{"ip": "198.51.100.7"}],
                          ports=[{"name": "metrics", "port": 9090},
                                 {"name": "http-web", "port": 8080}]))
    rc, out, err = _url(cluster, "web", "-n", "default")
    assert (rc, out) == (0, "http://198.51.100.7:8080\n")
    assert err.startswith("note: ") and "http-web" in err


@pytest.mark.parametrize(("args", "code", "start"), [
    (["nope", "-n", "default"], EXIT_NOT_FOUND, 'meshctl: error: service "nope" not found'),
    (["grafana"], EXIT_USAGE, "meshctl: error: "),  # ClusterIP: says how to reach it
    (["--ingress", "productpage"], EXIT_USAGE, "meshctl: error: SERVICE and --ingress"),
    (["--ingress", "--format", "yaml"], EXIT_USAGE, "meshctl: error: Invalid value"),
    (["--ingress", "--wait=soon"], EXIT_USAGE, "meshctl: error: --wait=soon: not a duration"),
])
def test_errors_are_one_line_with_their_code(cluster: EmulatorServer, args: list[str],
                                             code: int, start: str) -> None:
    cluster.add(o.modern_addons(), o.namespace("default"))
    rc, out, err = _url(cluster, *args)
    assert (rc, out) == (code, "")
    assert err.startswith(start) and err.count("\n") == 1, err


def test_pending_address(cluster: EmulatorServer) -> None:
    cluster.add(o.modern_gateway(ip=None))
    rc, out, err = _url(cluster, "--ingress", "--wait=1s")
    assert (rc, out) == (EXIT_NOT_READY, "")
    assert err.startswith("meshctl: error: timed out after 1s: ")


def test_wait_on_a_pipe_prints_nothing_while_waiting(cluster: EmulatorServer) -> None:
    cluster.add(o.modern_gateway(ip=None))
    env = {**os.environ, "MESHCTL_NO_CACHE": "1"}
    res = subprocess.run([sys.executable, "-m", "meshctl", "url", "--ingress", "--wait=2s",
                          "--kubeconfig", str(cluster.kubeconfig)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == EXIT_NOT_READY and res.stdout == ""
    assert "\x1b" not in res.stderr and res.stderr.count("\n") == 1


def _stand_in_kubectl(tmp_path: Path) -> tuple[Path, Path]:
    """A kubectl that answers `get` from the emulator's real kubectl and, for port-forward,
    records its command line and says it forwards, then sleeps."""
    log = tmp_path / "port-forward.args"
    real = subprocess.run(["which", "kubectl"], capture_output=True, text=True).stdout.strip()
    script = tmp_path / "kubectl"
    script.write_text(f"""#!/bin/bash
for a in "$@"; do if [ "$a" = port-forward ]; then
  printf '%s\\n' "$@" > {log}
  for b in "$@"; do case "$b" in *:*) port=${{b%%:*}};; esac; done
  echo "Forwarding from 127.0.0.1:$port -> 3000"
  exec sleep 300
fi; done
exec {real} "$@"
""", encoding="utf-8")
    script.chmod(0o755)
    return script, log


def test_port_forward_prints_the_url_and_stops_on_ctrl_c(
        cluster: EmulatorServer, tmp_path: Path) -> None:
    cluster.add(o.modern_addons())
    cluster.add(o.pod("grafana-1", "istio-system",
                      labels={"app.kubernetes.io/name": "grafana",
                              "app.kubernetes.io/instance": "grafana"}))
    kubectl, log = _stand_in_kubectl(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "meshctl", "url", "grafana", "--port-forward", "--local-port",
         "38123", "--kubectl", str(kubectl), "--kubeconfig", str(cluster.kubeconfig)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "MESHCTL_NO_CACHE": "1"})
    assert proc.stdout is not None
    line = proc.stdout.readline()  # printed as soon as kubectl forwards
    assert line == "http://127.0.0.1:38123/\n"
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == EXIT_INTERRUPTED and out == ""
    args = log.read_text().split("\n")
    assert "port-forward" in args and "svc/grafana" in args and "38123:3000" in args
    assert "-n" in args and args[args.index("-n") + 1] == "istio-system"
    assert "--kubeconfig" in args
    assert "forwarding http://127.0.0.1:38123" in err


def test_wait_on_a_terminal_shows_a_spinner(cluster: EmulatorServer) -> None:

    cluster.add(o.modern_gateway(ip=None))
    out, code = run_in_pty(["url", "--ingress", "--wait=3s", "--kubeconfig",
                            str(cluster.kubeconfig)], env={"MESHCTL_NO_CACHE": "1"})
    assert code == EXIT_NOT_READY
    assert b"waiting: " in out and b"\x1b[" in out  # rich's status line, redrawn
    assert b"meshctl: error: timed out after 3s" in out
