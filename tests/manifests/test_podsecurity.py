"""Pod Security Standards (meshctl.manifests.podsecurity): every control on its own, then the
warning a run gives when injection makes a real injected pod fail its namespace's level."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from meshctl.manifests.podsecurity import CONTROLS, check_pod, new_failures
from tests.clirunner import run_cli
from tests.conftest import ROOT, SHARED

#: a pod that passes "restricted"
GOOD: dict[str, Any] = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [{"name": "app", "image": "app:1", "securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}],
    "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "d"}}],
}


def _pod(**changes: Any) -> dict[str, Any]:
    """GOOD with changes: ``sc`` merges into the pod's securityContext, ``csc`` into the app
    container's, ``container`` into the app container, anything else into the spec."""
    spec = yaml.safe_load(yaml.safe_dump(GOOD))
    spec["securityContext"].update(changes.pop("sc", {}))
    app = spec["containers"][0]
    app["securityContext"].update(changes.pop("csc", {}))
    app.update(changes.pop("container", {}))
    spec.update(changes)
    return spec


#: control -> (level it belongs to, a spec that fails it, its problem)
FAILING: dict[str, tuple[str, dict[str, Any], str]] = {
    "HostProcess": ("baseline", _pod(csc={"windowsOptions": {"hostProcess": True}}),
                    'container "app" sets windowsOptions.hostProcess=true'),
    "host namespaces": ("baseline", _pod(hostPID=True), "the pod sets hostPID=true"),
    "privileged containers": ("baseline", _pod(csc={"privileged": True}),
                              'container "app" sets privileged=true'),
    "capabilities": ("baseline", _pod(csc={"capabilities": {"drop": ["ALL"],
                                                             "add": ["CHOWN", "SYS_ADMIN"]}}),
                     'container "app" adds SYS_ADMIN'),
    "hostPath volumes": ("baseline", _pod(volumes=[{"name": "h", "hostPath": {"path": "/"}}]),
                         'volume "h" is a hostPath'),
    "host ports": ("baseline", _pod(container={"ports": [{"containerPort": 80,
                                                          "hostPort": 8080}]}),
                   'container "app" uses hostPort 8080'),
    "AppArmor": ("baseline", _pod(csc={"appArmorProfile": {"type": "Unconfined"}}),
                 'container "app" sets appArmorProfile Unconfined'),
    "SELinux": ("baseline", _pod(sc={"seLinuxOptions": {"type": "spc_t"}}),
                "the pod sets seLinuxOptions.type spc_t"),
    "/proc mount type": ("baseline", _pod(csc={"procMount": "Unmasked"}),
                         'container "app" sets procMount Unmasked'),
    "seccomp": ("baseline", _pod(csc={"seccompProfile": {"type": "Unconfined"}}),
                'container "app" sets seccompProfile Unconfined'),
    "sysctls": ("baseline", _pod(sc={"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}),
                "the pod sets sysctls kernel.msgmax"),
    "volume types": ("restricted", _pod(volumes=[{"name": "n", "nfs": {"server": "x",
                                                                      "path": "/"}}]),
                     'volume "n" is a nfs'),
    "privilege escalation": ("restricted", _pod(csc={"allowPrivilegeEscalation": True}),
                             'container "app" does not set allowPrivilegeEscalation=false'),
    "running as non-root": ("restricted", _pod(csc={"runAsNonRoot": False}),
                            'container "app" sets runAsNonRoot=false'),
    "running as non-root user": ("restricted", _pod(sc={"runAsUser": 0}),
                                 "the pod sets runAsUser=0"),
}


def test_the_good_pod_passes_every_level() -> None:
    for level in ("privileged", "baseline", "restricted"):
        assert check_pod(level, {}, GOOD) == []


def test_every_control_is_tested() -> None:
    assert {name for _, name, _ in CONTROLS} == set(FAILING)


@pytest.mark.parametrize("control", FAILING)
def test_each_control(control: str) -> None:
    level, spec, problem = FAILING[control]
    assert (control, problem) in check_pod("restricted", {}, spec)
    if level == "baseline":
        assert check_pod("baseline", {}, spec) == [(control, problem)]
    else:
        assert check_pod("baseline", {}, spec) == []
    assert check_pod("privileged", {}, spec) == []


def test_restricted_details() -> None:
    # runAsNonRoot: the pod's true covers containers that do not say; without it each must
    bare = _pod(securityContext={"seccompProfile": {"type": "RuntimeDefault"}})
    assert check_pod("restricted", {}, bare) == [
        ("running as non-root", 'container "app" does not set runAsNonRoot=true (nor does the '
                                "pod)")]
    # seccomp: a container without its own takes the pod's
    no_pod_seccomp = _pod(securityContext={"runAsNonRoot": True})
    assert check_pod("restricted", {}, no_pod_seccomp) == [
        ("seccomp", 'container "app" sets no seccompProfile RuntimeDefault or Localhost (nor '
                    "does the pod)")]
    # capabilities: ALL dropped, only NET_BIND_SERVICE added back
    caps = _pod(csc={"capabilities": {"add": ["NET_BIND_SERVICE"]}})
    assert check_pod("restricted", {}, caps) == [
        ("capabilities", 'container "app" does not drop ALL')]
    # Windows pods are exempt from the Linux-only controls
    windows = _pod(os={"name": "windows"}, csc={"allowPrivilegeEscalation": True})
    assert check_pod("restricted", {}, windows) == []
    # AppArmor by annotation; init containers are containers too
    meta = {"annotations": {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}}
    assert check_pod("baseline", meta, GOOD) == [
        ("AppArmor", 'annotation container.apparmor.security.beta.kubernetes.io/app is '
                     '"unconfined"')]
    init = _pod(initContainers=[{"name": "init", "securityContext": {"privileged": True}}])
    assert ("privileged containers", 'init container "init" sets privileged=true') in \
        check_pod("baseline", {}, init)


def test_only_what_injection_adds_counts() -> None:
    before = ({}, _pod(hostPID=True))
    after = ({}, _pod(hostPID=True, csc={"privileged": True}))
    assert new_failures("baseline", before, after) == [
        ("privileged containers", 'container "app" sets privileged=true')]


# --- real injected pods ----------------------------------------------------------------------

NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    pod-security.kubernetes.io/enforce: {level}
"""
WORKLOAD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {namespace}
spec:
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile: {{type: RuntimeDefault}}
      containers:
      - name: app
        image: app:1
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {{drop: [ALL]}}
"""
PREFIX = ('warning: deployment/shop/web: the injected pod fails the Pod Security level '
          '"{level}" that namespace "shop" enforces (pod-security.kubernetes.io/enforce): ')
CLASSIC_BASELINE = 'capabilities: init container "istio-init" adds NET_ADMIN, NET_RAW'
CLASSIC_RESTRICTED = (CLASSIC_BASELINE + '; running as non-root: init container "istio-init" '
                      'sets runAsNonRoot=false; running as non-root user: init container '
                      '"istio-init" sets runAsUser=0')


@pytest.fixture(scope="module")
def cni_values(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in values with Istio CNI on."""
    values = yaml.safe_load((ROOT / "meshctl/sidecar/config/data/values.yaml").read_text())
    values["pilot"]["cni"]["enabled"] = True
    path = tmp_path_factory.mktemp("cni") / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def _warnings(text: str, *args: str) -> list[str]:
    res = run_cli(["kube-inject", "-f", "-", *args], stdin=text)
    assert res.rc == 0, res.stderr
    return [line for line in res.stderr.splitlines() if line.startswith("warning:")]


@pytest.mark.parametrize("level, expected", [("restricted", CLASSIC_RESTRICTED),
                                             ("baseline", CLASSIC_BASELINE)])
def test_classic_injection_fails_the_namespace_level(level: str, expected: str) -> None:
    text = NAMESPACE.format(level=level) + "---\n" + WORKLOAD.format(namespace="shop")
    assert _warnings(text) == [PREFIX.format(level=level) + expected]
    # the Namespace after its workloads, and a re-injection (up to date), warn the same
    res = run_cli(["kube-inject", "-f", "-"], stdin=WORKLOAD.format(namespace="shop"))
    again = res.stdout + "---\n" + NAMESPACE.format(level=level)
    assert _warnings(again) == [PREFIX.format(level=level) + expected]


@pytest.mark.parametrize("level", ["restricted", "baseline"])
def test_cni_mode_passes(level: str, cni_values: Path) -> None:
    text = NAMESPACE.format(level=level) + "---\n" + WORKLOAD.format(namespace="shop")
    assert _warnings(text, "--valuesFile", str(cni_values)) == []
    res = run_cli(["kube-inject", "-f", "-", "--valuesFile", str(cni_values)], stdin=text)
    pod = [d for d in yaml.safe_load_all(res.stdout)][1]["spec"]["template"]
    assert [c["name"] for c in pod["spec"]["initContainers"]] == ["istio-validation"]
    assert check_pod("restricted", pod["metadata"], pod["spec"]) == []


def test_no_warning_without_a_level_for_the_workloads_namespace() -> None:
    for text in (WORKLOAD.format(namespace="shop"),  # no Namespace in the input
                 NAMESPACE.format(level="privileged") + "---\n" +
                 WORKLOAD.format(namespace="shop"),
                 NAMESPACE.format(level="restricted") + "---\n" +
                 WORKLOAD.format(namespace="other")):
        assert _warnings(text) == []


def test_a_json_namespace_counts() -> None:
    ns = ('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": '
          '{"pod-security.kubernetes.io/enforce": "baseline"}}}\n')
    text = ns + "---\n" + WORKLOAD.format(namespace="shop")
    assert _warnings(text) == [PREFIX.format(level="baseline") + CLASSIC_BASELINE]


#: SECURITY.md's table: (extra pod annotation, CNI, passes baseline, passes restricted), for a
#: pod that itself meets restricted
MODES = {
    "classic": ("", False, False, False),
    "classic, native sidecars": ("sidecar.istio.io/nativeSidecar: 'true'", False, False, False),
    "CNI": ("", True, True, True),
    "CNI, native sidecars": ("sidecar.istio.io/nativeSidecar: 'true'", True, True, True),
    "TPROXY": ("sidecar.istio.io/interceptionMode: TPROXY", True, False, False),
    "capNetBindService": ("sidecar.istio.io/capNetBindService: 'true'", True, True, False),
    "grpc-agent": ("inject.istio.io/templates: grpc-agent", True, True, False),
    "grpc-simple": ("inject.istio.io/templates: grpc-simple", True, True, False),
}


@pytest.mark.parametrize("mode", MODES)
def test_the_levels_security_md_states(mode: str, cni_values: Path) -> None:
    annotation, cni, baseline, restricted = MODES[mode]
    text = WORKLOAD.format(namespace="shop")
    if annotation:
        text = text.replace("      labels: {app: web}\n", "      labels: {app: web}\n"
                            f"      annotations:\n        {annotation}\n")
    args = ["--valuesFile", str(cni_values)] if cni else []
    res = run_cli(["kube-inject", "-f", "-", *args], stdin=text)
    assert res.rc == 0, res.stderr
    pod = yaml.safe_load(res.stdout)["spec"]["template"]
    assert (not check_pod("baseline", pod["metadata"], pod["spec"]),
            not check_pod("restricted", pod["metadata"], pod["spec"])) == (baseline, restricted)


def test_istios_gateway_chart_meets_baseline_and_all_of_restricted_but_seccomp() -> None:
    chart = SHARED / "realworld/istio-gateway/istio-ingressgateway-chart.yaml"
    res = run_cli(["kube-inject", "-f", str(chart)])
    assert res.rc == 0, res.stderr
    (deployment,) = [d for d in yaml.safe_load_all(res.stdout)
                     if d and d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]
    assert check_pod("baseline", pod["metadata"], pod["spec"]) == []
    assert {control for control, _ in check_pod("restricted", pod["metadata"],
                                                 pod["spec"])} == {"seccomp"}
