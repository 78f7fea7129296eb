"""Helm post-renderers, run by the real Helm 3.17 and 4.1 on a small chart (fixtures/integrations/
chart: a Deployment, a Service, a CronJob; a hook Job and a bad annotation behind values).

* Helm 3: ``--post-renderer meshctl-helm-post-renderer`` (the console script, found on PATH);
  Helm hands the rendered manifests over as ``helm template`` prints them and prints what the
  post-renderer wrote, so the output is byte for byte ``helm template | meshctl kube-inject -f -``.
* Helm 4: the ``postrenderer/v1`` plugin of integrations/helm-plugin, installed with ``helm
  plugin install``; Helm 4 re-serializes the manifests on the way in and out, so the output is
  compared as objects.

Either way ``--post-renderer-args`` reach kube-inject, and an error fails the render (Helm 3
shows meshctl's message; Helm 4 discards a plugin's stderr and says only that it failed).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from meshctl import __version__
from tests.integrations.tools import FIXTURES, INTEGRATIONS, kube_inject, objects, run, script
from tests.integrations.tools import tool as find_tool

CHART = FIXTURES / "chart"
PLUGIN = INTEGRATIONS / "helm-plugin"
#: Helm 4 marks each object with its template file on the way to a post-renderer
HELM4_FILENAME = "postrenderer.helm.sh/postrender-filename"
BAD_RANGES = "invalid value '10.0.0.0/33' for annotation"


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    target = tmp_path / "shop"
    shutil.copytree(CHART, target)
    return target


def _containers(obj: dict[str, object]) -> list[str]:
    text = yaml.safe_dump(obj)
    return [line.split("name: ")[1] for line in text.splitlines()
            if line.strip().startswith("name: istio-")]


# --------------------------------------------------------------------------------------------
# Helm 3


def test_helm3_post_renderer_is_kube_inject_of_the_rendered_chart(tmp_path: Path,
                                                                   chart: Path) -> None:
    helm3 = find_tool("helm3")
    script("meshctl-helm-post-renderer")
    plain = run([helm3, "template", "rel", chart], tmp_path)
    assert plain.returncode == 0, plain.stderr
    res = run([helm3, "template", "rel", chart, "--post-renderer",
               "meshctl-helm-post-renderer"], tmp_path)
    assert res.returncode == 0, res.stderr
    expected = kube_inject(plain.stdout, tmp_path)
    assert res.stdout == expected  # Helm 3 prints the post-renderer's output as it is
    injected = objects(res.stdout)
    assert objects(expected) == injected
    kinds = {key[1]: obj for key, obj in injected.items()}
    assert set(kinds) == {"Deployment", "Service", "CronJob"}
    assert "istio-proxy" in yaml.safe_dump(kinds["Deployment"])
    assert "istio-proxy" in yaml.safe_dump(kinds["CronJob"])
    assert "# the selector below matches this" in res.stdout  # the chart's comments stay


def test_helm3_post_renderer_args_reach_kube_inject(tmp_path: Path, chart: Path) -> None:
    helm3 = find_tool("helm3")
    plain = run([helm3, "template", "rel", chart], tmp_path)
    res = run([helm3, "template", "rel", chart, "--post-renderer", "meshctl-helm-post-renderer",
               "--post-renderer-args", "--revision", "--post-renderer-args", "canary"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout == kube_inject(plain.stdout, tmp_path, "--revision", "canary")
    assert "istio.io/rev: canary" in res.stdout


def test_helm3_shows_meshctls_error(tmp_path: Path, chart: Path) -> None:
    helm3 = find_tool("helm3")
    res = run([helm3, "template", "rel", chart, "--set", "badRanges=true",
               "--post-renderer", "meshctl-helm-post-renderer"], tmp_path)
    assert res.returncode == 1
    assert res.stdout == ""
    assert "error while running post render" in res.stderr
    # meshctl's own line, exactly as `helm template | meshctl kube-inject -f -` prints it
    plain = run([helm3, "template", "rel", chart, "--set", "badRanges=true"], tmp_path)
    direct = run([script("meshctl"), "kube-inject", "-f", "-"], tmp_path, stdin=plain.stdout)
    assert direct.returncode == 3 and direct.stderr.startswith("meshctl: error: <stdin>: ")
    assert BAD_RANGES in direct.stderr
    assert direct.stderr in res.stderr


def test_helm3_does_not_post_render_hooks(tmp_path: Path, chart: Path) -> None:
    """Documented in docs/integrations.md: Helm 3 leaves hooks out of post-rendering."""
    helm3 = find_tool("helm3")
    res = run([helm3, "template", "rel", chart, "--set", "hook=true",
               "--post-renderer", "meshctl-helm-post-renderer"], tmp_path)
    assert res.returncode == 0, res.stderr
    hook = objects(res.stdout)[("batch/v1", "Job", "", "rel-migrate")]
    assert _containers(hook) == []


# --------------------------------------------------------------------------------------------
# Helm 4


def test_helm4_plugin_yaml_names_this_version() -> None:
    meta = yaml.safe_load((PLUGIN / "plugin.yaml").read_text())
    assert meta["version"] == __version__, "bump integrations/helm-plugin/plugin.yaml"
    assert meta["type"] == "postrenderer/v1" and meta["name"] == "meshctl"


@pytest.fixture
def helm4(tmp_path: Path) -> Path:
    """helm4, with the plugin installed from the checkout as the docs say."""
    helm = find_tool("helm4")
    script("meshctl-helm-post-renderer")
    res = run([helm, "plugin", "install", PLUGIN], tmp_path)
    assert res.returncode == 0, res.stderr
    assert "Installed plugin: meshctl" in res.stdout
    listed = run([helm, "plugin", "list"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert any(line.split()[:3] == ["meshctl", __version__, "postrenderer/v1"]
               for line in listed.stdout.splitlines()), listed.stdout
    return helm


def test_helm4_plugin_is_kube_inject_of_the_rendered_chart(tmp_path: Path, chart: Path,
                                                           helm4: Path) -> None:
    plain = run([helm4, "template", "rel", chart], tmp_path)
    assert plain.returncode == 0, plain.stderr
    res = run([helm4, "template", "rel", chart, "--post-renderer", "meshctl"], tmp_path)
    assert res.returncode == 0, res.stderr
    injected = objects(res.stdout)
    assert injected == objects(kube_inject(plain.stdout, tmp_path))
    assert {key[1] for key in injected} == {"Deployment", "Service", "CronJob"}
    assert all(HELM4_FILENAME not in yaml.safe_dump(obj) for obj in injected.values())
    # each object went back to its template file: meshctl kept Helm's annotation
    assert "# Source: shop/templates/deployment.yaml" in res.stdout
    assert "generated-by-postrender" not in res.stdout


def test_helm4_post_renderer_args_and_hooks(tmp_path: Path, chart: Path, helm4: Path) -> None:
    plain = run([helm4, "template", "rel", chart, "--set", "hook=true"], tmp_path)
    res = run([helm4, "template", "rel", chart, "--set", "hook=true", "--post-renderer",
               "meshctl", "--post-renderer-args", "--revision", "--post-renderer-args=canary"],
              tmp_path)
    assert res.returncode == 0, res.stderr
    injected = objects(res.stdout)
    assert injected == objects(kube_inject(plain.stdout, tmp_path, "--revision", "canary"))
    hook = injected[("batch/v1", "Job", "", "rel-migrate")]
    assert "istio-proxy" in _containers(hook)  # Helm 4 post-renders hooks
    assert "istio.io/rev: canary" in res.stdout


def test_helm4_fails_when_meshctl_fails(tmp_path: Path, chart: Path, helm4: Path) -> None:
    res = run([helm4, "template", "rel", chart, "--set", "badRanges=true",
               "--post-renderer", "meshctl"], tmp_path)
    assert res.returncode == 1
    assert res.stdout == ""
    # Helm 4 keeps a plugin's stderr to itself: this is all it says
    assert 'plugin "meshctl" exited with error' in res.stderr
    # what docs/integrations.md tells users to run to see meshctl's message
    plain = run([helm4, "template", "rel", chart, "--set", "badRanges=true"], tmp_path)
    direct = run([script("meshctl"), "kube-inject", "-f", "-"], tmp_path, stdin=plain.stdout)
    assert direct.returncode == 3 and BAD_RANGES in direct.stderr
