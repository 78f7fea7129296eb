"""The executables other tools run (meshctl.cli.plugins) take meshctl's click-free path.

Helm runs its post-renderer on every ``template``/``install``/``upgrade``: it must cost no more
than ``meshctl kube-inject -f -`` (no click, start-up rule in meshctl/records.py), and print the
same bytes. ``kubectl-mesh`` is meshctl under kubectl's name.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from meshctl.cli.plugins import HELM_POST_RENDERER
from tests.cli.test_startup import ONE_DEPLOYMENT

BIN = Path(sys.executable).parent


def _run(script: str, args: list[str], tmp_path: Path,
         stdin: str = ONE_DEPLOYMENT) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    path = BIN / script
    assert os.access(path, os.X_OK), f"{path} missing: pip install -e ."
    env = {k: v for k, v in os.environ.items() if not k.startswith("_MESHCTL")}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    res = subprocess.run([sys.executable, "-X", "importtime", str(path), *args], input=stdin,
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
                         check=False)
    modules = {line.rsplit("|", 1)[1].strip() for line in res.stderr.splitlines()
               if line.startswith("import time:") and "|" in line}
    res.stderr = "".join(line + "\n" for line in res.stderr.splitlines()
                         if not line.startswith("import time:"))
    return res, modules


@pytest.mark.parametrize("args", [[], ["--revision", "canary", "-q"]])
def test_helm_post_renderer_is_kube_inject_of_stdin(args: list[str], tmp_path: Path) -> None:
    _run("meshctl", [*HELM_POST_RENDERER], tmp_path)  # warm the template cache
    direct, _ = _run("meshctl", [*HELM_POST_RENDERER, *args], tmp_path)
    res, modules = _run("meshctl-helm-post-renderer", args, tmp_path)
    assert direct.returncode == 0, direct.stderr
    assert (res.returncode, res.stdout, res.stderr) == (0, direct.stdout, direct.stderr)
    assert "meshctl.cli.main" in modules
    assert not {"click", "meshctl.cli.app"} & modules, "the post-renderer must not load click"


def test_helm_post_renderer_errors(tmp_path: Path) -> None:
    res, _ = _run("meshctl-helm-post-renderer", [], tmp_path, stdin="kind: [\n")
    assert res.returncode == 3 and res.stdout == ""
    assert res.stderr.startswith("meshctl: error: <stdin>:")
    res, _ = _run("meshctl-helm-post-renderer", ["--output-format", "xml"], tmp_path)
    assert res.returncode == 2 and "'xml' is not one of" in res.stderr


def test_kubectl_mesh_is_meshctl_named_kubectl_mesh(tmp_path: Path) -> None:
    _run("meshctl", ["kube-inject", "-f", "-"], tmp_path)
    direct, _ = _run("meshctl", ["kube-inject", "-f", "-"], tmp_path)
    res, modules = _run("kubectl-mesh", ["kube-inject", "-f", "-"], tmp_path)
    assert (res.returncode, res.stdout, res.stderr) == (0, direct.stdout, direct.stderr)
    assert "click" not in modules
    res, _ = _run("kubectl-mesh", ["--help"], tmp_path)
    assert res.returncode == 0 and res.stdout.startswith("Usage: kubectl mesh [OPTIONS] COMMAND")
