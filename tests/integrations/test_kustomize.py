"""kustomize's exec transformer plugin, run by the real ``kubectl kustomize`` (kubectl 1.37,
kustomize 5.8) with ``--enable-alpha-plugins``.

The plugin is the executable integrations/kustomize/meshctl.dev/v1/sidecarinjector/
SidecarInjector (the legacy exec layout; it runs ``meshctl fn CONFIG``); the tests point
``KUSTOMIZE_PLUGIN_HOME`` at a copy of integrations/kustomize, as the docs tell users to. The
overlay (fixtures/integrations/kustomize) holds a Deployment, a Service and a CronJob and a
``SidecarInjector`` transformer config. kustomize re-serializes and re-orders what a plugin
prints, so results are compared as objects.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.integrations.tools import FIXTURES, INTEGRATIONS, kube_inject, objects, run, script
from tests.integrations.tools import tool as find_tool

PLUGIN = Path("meshctl.dev", "v1", "sidecarinjector", "SidecarInjector")


@pytest.fixture
def plugin_home(tmp_path: Path) -> Path:
    home = tmp_path / "plugins"
    shutil.copytree(INTEGRATIONS / "kustomize", home)
    script("meshctl")
    return home


@pytest.fixture
def overlay(tmp_path: Path) -> Path:
    target = tmp_path / "overlay"
    shutil.copytree(FIXTURES / "kustomize", target)
    return target


def _build(tmp_path: Path, overlay: Path, plugin_home: Path, *flags: str) -> tuple[int, str, str]:
    res = run([find_tool("kubectl"), "kustomize", *flags, overlay], tmp_path,
              KUSTOMIZE_PLUGIN_HOME=str(plugin_home))
    return res.returncode, res.stdout, res.stderr


def _without_transformer(tmp_path: Path, overlay: Path, plugin_home: Path) -> str:
    """The overlay built without meshctl's transformer."""
    plain = tmp_path / "plain"
    shutil.copytree(overlay, plain)
    kustomization = plain / "kustomization.yaml"
    text = kustomization.read_text()
    kustomization.write_text(text.replace("transformers:\n  - inject.yaml\n", ""))
    code, out, err = _build(tmp_path, plain, plugin_home)
    assert code == 0, err
    return out


def test_the_shipped_plugin_is_executable() -> None:
    path = INTEGRATIONS / "kustomize" / PLUGIN
    assert os.access(path, os.X_OK), f"chmod +x {path} (and commit the mode)"
    assert path.read_text().startswith("#!/bin/sh\n")


def test_kustomize_runs_the_transformer(tmp_path: Path, overlay: Path, plugin_home: Path) -> None:
    code, out, err = _build(tmp_path, overlay, plugin_home, "--enable-alpha-plugins")
    assert code == 0, err
    plain = _without_transformer(tmp_path, overlay, plugin_home)
    expected = kube_inject(plain, tmp_path, "--revision", "canary", "--native-sidecars", "true")
    injected = objects(out)
    assert injected == objects(expected)
    assert {key[1:] for key in injected} == {("Deployment", "shop", "web"),
                                             ("Service", "shop", "web"),
                                             ("CronJob", "shop", "report")}
    assert "istio.io/rev: canary" in out
    assert "restartPolicy: Always" in out  # nativeSidecars: istio-proxy is an init container


def test_kustomize_shows_meshctls_error(tmp_path: Path, overlay: Path, plugin_home: Path) -> None:
    config = overlay / "inject.yaml"
    config.write_text(config.read_text().replace("revision: canary", "revison: canary"))
    code, out, err = _build(tmp_path, overlay, plugin_home, "--enable-alpha-plugins")
    assert code == 1 and out == ""
    assert "meshctl: error: " in err
    assert "SidecarInjector spec: unknown key 'revison'; known keys: injectConfigFile" in err
    assert "failure in plugin configured via" in err and "exit status 3" in err


def test_kustomize_fails_on_a_bad_workload(tmp_path: Path, overlay: Path,
                                           plugin_home: Path) -> None:
    app = overlay / "app.yaml"
    app.write_text(app.read_text().replace(
        "      labels: {app: web}\n",
        "      labels: {app: web}\n"
        "      annotations: {traffic.sidecar.istio.io/includeOutboundIPRanges: 10.0.0.0/33}\n",
        1))
    code, out, err = _build(tmp_path, overlay, plugin_home, "--enable-alpha-plugins")
    assert code == 1 and out == ""
    assert "meshctl: error: <stdin>: document " in err
    assert "invalid value '10.0.0.0/33' for annotation" in err


def test_kustomize_needs_alpha_plugins(tmp_path: Path, overlay: Path, plugin_home: Path) -> None:
    code, _, err = _build(tmp_path, overlay, plugin_home)
    assert code == 1
    assert "external plugins disabled" in err
