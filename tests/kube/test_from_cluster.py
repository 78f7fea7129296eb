"""``meshctl kube-inject --from-cluster``: Istio's injector config read from the cluster (through
real kubectl and the loopback API server) gives, byte for byte, what the same ConfigMaps
exported to files give (``kubectl get cm -o yaml`` + ``--injectConfigFile/--valuesFile/
--meshConfigFile``), on Istio's golden inputs; a missing ConfigMap is named with the namespace
searched."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from meshctl.errors import EXIT_NOT_FOUND, EXIT_UNREACHABLE, EXIT_USAGE
from tests.clirunner import run_cli, run_main
from tests.conftest import SHARED
from tests.kube import objects as o
from tests.kube.emulator import EmulatorServer

SETTINGS = SHARED / "istio-golden" / "settings"
INPUTS = sorted((SHARED / "istio-golden" / "inject").glob("*.yaml"))
ISTIO_NS = "istio-system"


def _istio_configmaps(suffix: str = "", ns: str = ISTIO_NS) -> list[dict[str, object]]:
    return [
        o.namespace(ns),
        o.configmap(f"istio-sidecar-injector{suffix}", ns, {
            "config": (SETTINGS / "inject-config.yaml").read_text(encoding="utf-8"),
            "values": (SETTINGS / "values.json").read_text(encoding="utf-8"),
        }),
        o.configmap(f"istio{suffix}", ns,
                    {"mesh": (SETTINGS / "mesh.yaml").read_text(encoding="utf-8")}),
    ]


def _export(cluster: EmulatorServer, name: str, path: Path) -> Path:
    """The documented recipe: ``kubectl -n istio-system get cm NAME -o yaml > FILE``."""
    out = subprocess.run(["kubectl", "--kubeconfig", str(cluster.kubeconfig), "-n", ISTIO_NS,
                          "get", "cm", name, "-o", "yaml"],
                         capture_output=True, text=True, check=True).stdout
    path.write_text(out, encoding="utf-8")
    return path


def _files_args(cluster: EmulatorServer, tmp_path: Path, suffix: str = "") -> list[str]:
    inject = _export(cluster, f"istio-sidecar-injector{suffix}", tmp_path / "inject.yaml")
    mesh = _export(cluster, f"istio{suffix}", tmp_path / "mesh.yaml")
    return ["--injectConfigFile", str(inject), "--valuesFile", str(inject),
            "--meshConfigFile", str(mesh)]


def test_from_cluster_equals_the_exported_files_on_istios_goldens(
        cluster: EmulatorServer, tmp_path: Path) -> None:
    cluster.add(_istio_configmaps())
    files = _files_args(cluster, tmp_path)
    # the golden inputs that inject without an error (the error cases fail either way)
    usable = [p for p in INPUTS
              if run_main(["kube-inject", "-q", "-f", str(p), *files]).rc == 0]
    assert len(usable) > 80
    inputs = [arg for p in usable for arg in ("-f", str(p))]
    by_file = run_main(["kube-inject", *inputs, *files])
    by_cluster = run_main(["kube-inject", *inputs, "--from-cluster",
                           "--kubeconfig", str(cluster.kubeconfig)])
    assert by_file.rc == 0 and by_cluster.rc == 0, by_cluster.stderr
    assert by_cluster.stdout == by_file.stdout
    assert by_cluster.stderr == by_file.stderr
    assert "istio-proxy" in by_cluster.stdout


def test_revision_and_explicit_names(cluster: EmulatorServer, tmp_path: Path) -> None:
    cluster.add(_istio_configmaps("-canary"))
    app = str(SHARED / "istio-golden" / "inject" / "hello.yaml")
    files = _files_args(cluster, tmp_path, "-canary")
    want = run_cli(["kube-inject", "-f", app, "-r", "canary", *files])
    got = run_cli(["kube-inject", "-f", app, "-r", "canary", "--from-cluster",
                   "--kubeconfig", str(cluster.kubeconfig)])
    assert (got.rc, got.stdout) == (0, want.stdout)
    named = run_cli(["kube-inject", "-f", app, "-r", "canary", "--from-cluster",
                     "--injectConfigMapName", "istio-sidecar-injector-canary",
                     "--meshConfigMapName", "istio-canary",
                     "--kubeconfig", str(cluster.kubeconfig)])
    assert (named.rc, named.stdout) == (0, want.stdout)


@pytest.mark.parametrize("flag", ["--istio-namespace", "--istioNamespace"])
def test_istio_in_another_namespace(cluster: EmulatorServer, tmp_path: Path, flag: str) -> None:
    cluster.add(_istio_configmaps())
    cluster.add(_istio_configmaps(ns="istio-control"))  # the same ConfigMaps elsewhere
    app = str(SHARED / "istio-golden" / "inject" / "hello.yaml")
    want = run_cli(["kube-inject", "-f", app, *_files_args(cluster, tmp_path)])
    kubeconfig = ["--kubeconfig", str(cluster.kubeconfig)]
    got = run_cli(["kube-inject", "-f", app, "--from-cluster", flag, "istio-control", *kubeconfig])
    assert (got.rc, got.stdout) == (0, want.stdout), got.stderr
    res = run_cli(["kube-inject", "-f", app, "--from-cluster", flag, "istio-other", *kubeconfig])
    assert (res.rc, res.stdout) == (EXIT_NOT_FOUND, "")
    assert "istio-other" in res.stderr


def test_a_missing_configmap_is_named(cluster: EmulatorServer) -> None:
    cluster.add(_istio_configmaps())
    app = str(SHARED / "istio-golden" / "inject" / "hello.yaml")
    res = run_cli(["kube-inject", "-f", app, "--from-cluster", "-r", "blue",
                   "--kubeconfig", str(cluster.kubeconfig)])
    assert (res.rc, res.stdout) == (EXIT_NOT_FOUND, "")
    assert "istio-sidecar-injector-blue" in res.stderr and ISTIO_NS in res.stderr
    assert res.stderr.count("\n") == 1


def test_unreachable_cluster(closed_port_kubeconfig: Path) -> None:
    app = str(SHARED / "istio-golden" / "inject" / "hello.yaml")
    res = run_cli(["kube-inject", "-f", app, "--from-cluster",
                   "--kubeconfig", str(closed_port_kubeconfig), "--request-timeout", "5s"])
    assert (res.rc, res.stdout) == (EXIT_UNREACHABLE, "")
    assert res.stderr.startswith("meshctl: error: ") and res.stderr.count("\n") == 1


@pytest.mark.parametrize("flag", ["--kubeconfig", "--context", "--injectConfigMapName"])
def test_cluster_flags_need_from_cluster(flag: str) -> None:
    res = run_cli(["kube-inject", "-f", "app.yaml", flag, "x"])
    assert (res.rc, res.stdout) == (EXIT_USAGE, "")
    assert "--from-cluster" in res.stderr
