"""``kubectl mesh ...``: the ``kubectl-mesh`` console script as kubectl's plugin, run by the real
kubectl 1.37 with the venv's bin directory on PATH (as an installed meshctl would be)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integrations.tools import BIN, FIXTURES, run, script
from tests.integrations.tools import tool as find_tool

APP = FIXTURES / "kustomize" / "app.yaml"


@pytest.fixture
def kubectl() -> Path:
    script("kubectl-mesh")
    return find_tool("kubectl")


def test_kubectl_mesh_kube_inject(tmp_path: Path, kubectl: Path) -> None:
    direct = run([script("meshctl"), "kube-inject", "-f", APP], tmp_path)
    plugin = run([kubectl, "mesh", "kube-inject", "-f", APP], tmp_path)
    assert direct.returncode == 0, direct.stderr
    assert (plugin.returncode, plugin.stdout, plugin.stderr) == (0, direct.stdout, direct.stderr)
    assert "name: istio-proxy" in plugin.stdout


def test_stdin_and_exit_codes_pass_through(tmp_path: Path, kubectl: Path) -> None:
    text = APP.read_text()
    piped = run([kubectl, "mesh", "kube-inject", "-f", "-"], tmp_path, stdin=text)
    assert piped.returncode == 0 and "name: istio-proxy" in piped.stdout
    check = run([kubectl, "mesh", "kube-inject", "--check", APP], tmp_path)
    assert check.returncode == 1  # would change
    injected = tmp_path / "injected.yaml"
    injected.write_text(piped.stdout)
    assert run([kubectl, "mesh", "kube-inject", "--check", injected], tmp_path).returncode == 0
    missing = run([kubectl, "mesh", "kube-uninject", "-f", "nope.yaml"], tmp_path)
    assert missing.returncode == 3
    assert missing.stderr == "meshctl: error: nope.yaml: no such file or directory\n"
    version = run([kubectl, "mesh", "version", "--short"], tmp_path)
    assert version.returncode == 0 and version.stdout.strip()


def test_help_names_kubectl_mesh(tmp_path: Path, kubectl: Path) -> None:
    res = run([kubectl, "mesh", "kube-inject", "--help"], tmp_path)
    assert res.returncode == 0
    assert res.stdout.startswith("Usage: kubectl mesh kube-inject [OPTIONS]")
    usage = run([kubectl, "mesh", "kube-inject", "--bogus"], tmp_path)
    assert usage.returncode == 2
    assert "(see 'kubectl mesh kube-inject --help')" in usage.stderr


def test_kubectl_lists_the_plugin(tmp_path: Path, kubectl: Path) -> None:
    res = run([kubectl, "plugin", "list"], tmp_path, PATH=f"{BIN}:/usr/bin:/bin")
    assert res.returncode == 0, res.stderr
    assert str(BIN / "kubectl-mesh") in res.stdout
