"""docs/tutorial.md is a test: every ``$ meshctl ...`` line of its console blocks runs (in bash,
from the project root, against the loopback API server through real kubectl), and prints what
the page shows under it (stdout and stderr together). A command piped into ``kubectl`` runs up
to the pipe (the emulator does not apply objects) and must succeed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.kube import objects as o
from tests.kube.emulator import EmulatorServer

TUTORIAL = ROOT / "docs" / "tutorial.md"


def _steps() -> list[tuple[str, str]]:
    """(command, expected output) of every ``$ `` line of the page's console blocks."""
    steps: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```", TUTORIAL.read_text(), re.S):
        for part in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = part.partition("\n")
            steps.append((command, output))
    return steps


def test_the_tutorial_has_steps() -> None:
    commands = [c for c, _ in _steps()]
    assert any(c.startswith("meshctl kube-inject") for c in commands)
    assert any(c.startswith("meshctl create ingress") for c in commands)
    assert any(c.startswith("meshctl url") for c in commands)


def test_every_command_of_the_tutorial(cluster: EmulatorServer, tmp_path: Path) -> None:
    cluster.add(o.modern_gateway(), o.modern_addons(), [o.namespace("default")])
    bindir = str(Path(sys.executable).parent)
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig), "MESHCTL_NO_CACHE": "1",
           "PATH": os.pathsep.join([bindir, str(Path(kubectl).parent), os.environ["PATH"]])}
    for command, expected in _steps():
        piped_to_kubectl = " | kubectl " in command
        run = command.split(" | kubectl ")[0]
        res = subprocess.run(["bash", "-c", f"{{ {run} ; }} 2>&1"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
        if piped_to_kubectl:
            assert res.returncode == 0, f"{command}\n{res.stdout}"
            assert "istio-proxy" in res.stdout or "kind: Ingress" in res.stdout
        else:
            assert res.stdout == expected, f"$ {command}"
