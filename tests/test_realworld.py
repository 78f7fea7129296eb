"""Every public manifest in ../shared/realworld (and our BookInfo example) goes through.

For each: every workload is injected, the output is a fixed point of kube-inject and
kube-uninject gives back the input byte for byte, every original line survives in order (lines
inside rewritten probes excepted, the pod's ``prometheus.io/*`` annotations, which Istio's
Prometheus merge points at the agent and keeps in ``ISTIO_PROMETHEUS_ANNOTATIONS``, and the
``image: auto`` placeholder of a gateway's own ``istio-proxy`` container, which injection fills
in), every comment is kept, and the built-in
kinds validate against Kubernetes 1.33's schema (strict). A file without workloads comes out
byte-identical.

Istio's gateway Helm chart (``realworld/istio-gateway``, a Deployment annotated
``inject.istio.io/templates: gateway``) is also injected with Istio's own injector config: the
built-in profile's ``gateway`` template must give the same objects.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest
import yaml

from tests import k8svalidate
from tests.clirunner import run_cli
from tests.conftest import ROOT, SHARED

FILES = sorted((SHARED / "realworld").rglob("*.yaml")) + [ROOT / "examples/bookinfo/bookinfo.yaml"]
GATEWAY_CHART = SHARED / "realworld/istio-gateway/istio-ingressgateway-chart.yaml"
ISTIO_SETTINGS = SHARED / "istio-golden/settings"
WORKLOAD_KINDS = {
    "Deployment",
    "Pod",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "ReplicaSet",
    "ReplicationController",
    "DeploymentConfig",
    "Rollout",
}
_PROMETHEUS = re.compile(r"^\s*prometheus\.io/(port|path|scrape):")
_PROBE = re.compile(r"^(\s*)(?:- )?(readinessProbe|livenessProbe|startupProbe):")
#: the image Istio's gateway chart gives its istio-proxy container, for injection to fill in
_AUTO_IMAGE = re.compile(r"^\s*image: *([\"']?)auto\1\s*$")


def _probe_lines(lines: list[str]) -> set[int]:
    """Indices of lines inside a probe block (the probe key line and everything deeper)."""
    inside: set[int] = set()
    i = 0
    while i < len(lines):
        m = _PROBE.match(lines[i])
        if not m:
            i += 1
            continue
        indent = len(m.group(1))
        inside.add(i)
        i += 1
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
        ):
            inside.add(i)
            i += 1
    return inside


def _pod_spec(obj: dict) -> dict:
    kind = obj["kind"]
    if kind == "Pod":
        return obj["spec"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_realworld(path: Path) -> None:
    res = run_cli(["kube-inject", "-f", str(path)])
    assert res.rc == 0, res.stderr
    out = res.stdout
    text = path.read_text()

    docs = [d for d in yaml.safe_load_all(out) if d]
    workloads = [d for d in docs if d.get("kind") in WORKLOAD_KINDS]
    if not workloads:
        assert out == text
        assert res.stderr == ""
    for obj in workloads:
        spec = _pod_spec(obj)
        names = [c["name"] for c in spec.get("containers", [])] + [
            c["name"] for c in spec.get("initContainers", []) or []
        ]
        assert "istio-proxy" in names, f"{obj['kind']}/{obj['metadata']['name']} not injected"
    injected = [ln for ln in res.stderr.splitlines() if ln.endswith(": injected")]
    assert len(injected) == len(workloads), res.stderr

    # fixed point
    again = run_cli(["kube-inject", "-f", "-"], stdin=out)
    assert again.rc == 0, again.stderr
    assert again.stdout == out

    # kube-uninject gives back the bytes
    back = run_cli(["kube-uninject", "-q", "-f", "-"], stdin=out)
    assert back.rc == 0, back.stderr
    assert back.stdout == text

    # every original line kept in order, except inside rewritten probes
    old_lines = text.splitlines()
    new_lines = out.splitlines()
    allowed = _probe_lines(old_lines) | {
        i for i, line in enumerate(old_lines) if _PROMETHEUS.match(line) or _AUTO_IMAGE.match(line)
    } | {  # an empty workload ``annotations`` that meshctl's undo record fills (chart output)
        i for i, line in enumerate(old_lines)
        if line.strip() == "{}" and i and old_lines[i - 1].strip() == "annotations:"
    }
    sm = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, _j1, _j2 in sm.get_opcodes():
        if tag in ("delete", "replace"):
            lost = [old_lines[i] for i in range(i1, i2) if i not in allowed]
            assert not lost, f"original lines lost or changed: {lost[:5]}"
    for line in old_lines:
        if line.lstrip().startswith("#"):
            assert line in new_lines, f"comment lost: {line!r}"

    # schema validation of the built-in kinds (Kubernetes 1.33, strict)
    for obj in docs:
        if not k8svalidate.has_schema(obj):
            continue
        errs = k8svalidate.errors(obj)
        assert not errs, f"{obj['kind']}/{obj['metadata'].get('name')}: {errs[:3]}"


def test_gateway_chart_injects_like_istios_gateway_template() -> None:
    """The built-in profile and Istio's own injector config, values and mesh config give the
    gateway chart the same objects (compared as in the conformance suite)."""
    from tests.conformance.semantic import diff

    images = ["--hub", "registry.istio.io/testing", "--tag", "latest"]  # as the goldens
    builtin = run_cli(["kube-inject", "-f", str(GATEWAY_CHART), *images])
    istio = run_cli([
        "kube-inject", "-f", str(GATEWAY_CHART), *images,
        "--injectConfigFile", str(ISTIO_SETTINGS / "inject-config.yaml"),
        "--valuesFile", str(ISTIO_SETTINGS / "values.json"),
        "--meshConfigFile", str(ISTIO_SETTINGS / "mesh.yaml"),
    ])  # fmt: skip
    assert (builtin.rc, istio.rc) == (0, 0), builtin.stderr + istio.stderr
    assert builtin.stderr == istio.stderr == (
        "deployment/istio-system/istio-ingressgateway: injected\n")
    want = [d for d in yaml.safe_load_all(istio.stdout) if d]
    got = [d for d in yaml.safe_load_all(builtin.stdout) if d]
    assert [d["kind"] for d in got] == [d["kind"] for d in want]
    problems = [f"{w['kind']}: {d}" for w, g in zip(want, got, strict=True) if (d := diff(w, g))]
    assert not problems, "\n".join(problems)
    (deployment,) = [d for d in got if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]
    (proxy,) = pod["spec"]["containers"]
    assert proxy["image"] == "registry.istio.io/testing/proxyv2:latest"
    assert proxy["args"][:2] == ["proxy", "router"]
    assert "initContainers" not in pod["spec"]  # a gateway captures no traffic
    assert pod["metadata"]["annotations"]["inject.istio.io/templates"] == "gateway"
