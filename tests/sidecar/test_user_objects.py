"""The user's data is never lost (issue 10 item 7): volumes and containers named like the
sidecar's, and probes Istio rewrites without recording them, through inject, re-inject and
uninject, with the built-in profile and with Istio's own injector config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.clirunner import run_cli
from tests.conftest import SHARED

SETTINGS = SHARED / "istio-golden/settings"
ISTIO = ["--injectConfigFile", str(SETTINGS / "inject-config.yaml"),
         "--valuesFile", str(SETTINGS / "values.json"),
         "--meshConfigFile", str(SETTINGS / "mesh.yaml")]
PROFILES = {"builtin": [], "istio": ISTIO}

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
{spec}"""

APP = """\
  containers:
  - name: app
    image: app:1
"""


def _inject(text: str, *args: str) -> tuple[int, str, str]:
    res = run_cli(["kube-inject", "-f", "-", *args], stdin=text)
    return res.rc, res.stdout, res.stderr


def _uninject(text: str) -> tuple[int, str, str]:
    res = run_cli(["kube-uninject", "-f", "-"], stdin=text)
    return res.rc, res.stdout, res.stderr


def _round_trip(text: str, *args: str) -> str:
    """inject; inject again (a fixed point); uninject: the user's objects as they were. (As
    data: that uninject gives the same *bytes* back is the property suite's, which names the
    shapes where it does not yet, e.g. a comment on a restored probe's key line.)"""
    rc, once, err = _inject(text, *args)
    assert rc == 0, err
    rc, twice, err = _inject(once, *args)
    assert (rc, twice) == (0, once), err
    rc, back, err = _uninject(once)
    assert rc == 0, err
    assert list(yaml.safe_load_all(back)) == list(yaml.safe_load_all(text))
    return once


# --- volumes ---------------------------------------------------------------------------------

VOLUMES = {
    "pvc": ("istio-data", "persistentVolumeClaim:\n      claimName: data"),
    "same-type": ("istio-envoy", "emptyDir:\n      sizeLimit: 1Gi"),
    "configmap": ("istiod-ca-cert", "configMap:\n      name: my-ca"),
}


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("case", VOLUMES)
def test_a_volume_named_like_the_sidecars_is_an_error(case: str, profile: str) -> None:
    name, source = VOLUMES[case]
    text = POD.format(spec=APP + f"  volumes:\n  - name: {name}\n    {source}\n")
    rc, out, err = _inject(text, *PROFILES[profile])
    assert (rc, out) == (3, "")
    assert err == (
        f'meshctl: error: <stdin>: document 1 (line 10): the pod\'s volume "{name}" has the name '
        'of the volume that the "sidecar" template adds: Istio would merge the two into one '
        "volume (yours changed, or with two sources) and kube-uninject would delete it; "
        "rename yours\n")


def test_a_volume_merged_by_an_earlier_injection_is_not_deleted() -> None:
    """istioctl (and meshctl before this check) merged the sidecar's istio-data into the
    user's PVC: uninject and re-injection refuse to delete it."""
    text = POD.format(spec=APP + "  volumes:\n  - name: mine\n    emptyDir: {}\n")
    rc, injected, err = _inject(text)
    assert rc == 0, err
    old_style = injected.replace(
        "- name: istio-data\n    emptyDir: {}",
        "- name: istio-data\n    persistentVolumeClaim:\n      claimName: data\n    emptyDir: {}")
    assert old_style != injected
    expected = ('volume "istio-data" has 2 sources (persistentVolumeClaim, emptyDir): an '
                "earlier injection merged the sidecar's volume of that name into yours; remove "
                "the sidecar's source by hand (and rename your volume)\n")
    for rc, out, err in (_uninject(old_style), _inject(old_style)):
        assert (rc, out) == (3, "")
        assert err.startswith("meshctl: error: <stdin>: document 1 (line ")
        assert err.endswith(expected)


def test_a_previous_injections_volumes_are_the_sidecars() -> None:
    """Re-injection with Istio's merge semantics sees the sidecar's volumes of the previous
    injection in the pod: they are not the user's and are no clash."""
    text = POD.format(spec=APP)
    once = _round_trip(text, *ISTIO)
    rc, again, err = _inject(once, *ISTIO, "--reinject", "merge")
    assert (rc, again) == (0, once), err


# --- containers ------------------------------------------------------------------------------

OVERRIDES = """\
  initContainers:
  - name: istio-init
    image: busybox
    command: [sh, -c, echo mine]
  containers:
  - name: app
    image: app:1
  - name: istio-proxy   # Istio's override mechanism: the user's fields win
    image: auto
    resources:
      limits:
        memory: 2Gi
"""


@pytest.mark.parametrize("profile", PROFILES)
def test_istios_container_overrides_inject_reinject_and_uninject(profile: str) -> None:
    once = _round_trip(POD.format(spec=OVERRIDES), *PROFILES[profile])
    pod = yaml.safe_load(once)
    init = next(c for c in pod["spec"]["initContainers"] if c["name"] == "istio-init")
    proxy = next(c for c in pod["spec"]["containers"] if c["name"] == "istio-proxy")
    assert init["image"] == "busybox" and init["command"] == ["sh", "-c", "echo mine"]
    assert proxy["resources"]["limits"]["memory"] == "2Gi"
    recorded = json.loads(pod["metadata"]["annotations"]["proxy.istio.io/overrides"])
    assert [c["name"] for c in recorded["containers"]] == ["istio-proxy"]
    assert [c["name"] for c in recorded["initContainers"]] == ["istio-init"]


def test_the_users_istio_proxy_moves_to_the_init_containers_of_a_native_sidecar() -> None:
    _round_trip(POD.format(spec=OVERRIDES), "--native-sidecars", "true")


CROSSED = {
    "container named like the init container": (
        APP + "  - name: istio-init\n    image: busybox\n", 9,
        'the pod\'s container "istio-init" has the name of the init container'),
    "init container named like the proxy": (
        "  initContainers:\n  - name: istio-proxy\n    image: busybox\n" + APP, 7,
        'the pod\'s init container "istio-proxy" has the name of the container'),
}


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("case", CROSSED)
def test_a_container_in_the_other_list_is_an_error(case: str, profile: str) -> None:
    """The pod would have two containers of one name (invalid), and uninject would move the
    user's to the other list."""
    spec, line, what = CROSSED[case]
    rc, out, err = _inject(POD.format(spec=spec), *PROFILES[profile])
    assert (rc, out) == (3, "")
    assert err == (f"meshctl: error: <stdin>: document 1 (line {line}): {what} that the "
                   '"sidecar" template adds: the pod would have two containers of that name; '
                   "rename yours\n")


# --- probes ----------------------------------------------------------------------------------

PROBES = """\
  containers:
  - name: app
    image: app:1
    ports:
    - name: http
      containerPort: 8080
    readinessProbe:
      httpGet:
        path: /ready
        port: http
        scheme: HTTPS
      periodSeconds: 5
    livenessProbe:      # a port the container does not declare
      httpGet:
        path: /live
        port: http-missing
        httpHeaders: [{name: X-Probe, value: "1"}]
      timeoutSeconds: 2
    startupProbe:       # already on the agent's port
      tcpSocket:
        port: 15020
    lifecycle:
      preStop:
        tcpSocket:
          port: metrics
"""


@pytest.mark.parametrize("profile", PROFILES)
def test_every_rewritten_probe_is_restored(profile: str) -> None:
    text = POD.format(spec=PROBES)
    once = _round_trip(text, *PROFILES[profile])
    pod = yaml.safe_load(once)
    app = pod["spec"]["containers"][0]
    # what the pod gets is Istio's: every probe through the agent...
    assert app["livenessProbe"] == {
        "httpGet": {"path": "/app-health/app/livez", "port": 15020,
                    "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
        "timeoutSeconds": 2}
    assert app["startupProbe"] == {"httpGet": {"path": "/app-health/app/startupz",
                                               "port": 15020}}
    assert app["lifecycle"]["preStop"] == {"httpGet": {"path": "/app-lifecycle/app/prestopz",
                                                       "port": 15020}}
    proxy = next(c for c in pod["spec"]["containers"] if c["name"] == "istio-proxy")
    probers = json.loads(next(e["value"] for e in proxy["env"]
                              if e["name"] == "ISTIO_KUBE_APP_PROBERS"))
    assert list(probers) == ["/app-health/app/readyz"]  # ...and only what the agent can run
    # the others are recorded by meshctl (its record in the status annotation), as they were
    status = json.loads(pod["metadata"]["annotations"]["sidecar.istio.io/status"])
    assert status["meshctl"]["probes"] == {
        "/app-health/app/livez": {"httpGet": {
            "path": "/live", "port": "http-missing",
            "httpHeaders": [{"name": "X-Probe", "value": "1"}]}},
        "/app-health/app/startupz": {"tcpSocket": {"port": 15020}},
        "/app-lifecycle/app/prestopz": {"tcpSocket": {"port": "metrics"}},
    }


def test_a_probe_on_an_undeclared_port_is_warned_about() -> None:
    rc, _, err = _inject(POD.format(spec=PROBES))
    assert rc == 0
    assert err.splitlines()[:2] == [
        'warning: pod/default/web: container "app": livenessProbe names port "http-missing", '
        "which the container does not declare; Istio points it at the agent, which cannot run "
        "it: the probe will fail",
        'warning: pod/default/web: container "app": preStop names port "metrics", which the '
        "container does not declare; Istio points it at the agent, which cannot run it: the "
        "probe will fail",
    ]


def test_no_record_without_unrecorded_probes(tmp_path: Path) -> None:
    text = POD.format(spec=PROBES.split("    livenessProbe:")[0])
    once = _round_trip(text)
    status = json.loads(yaml.safe_load(once)["metadata"]["annotations"][
        "sidecar.istio.io/status"])
    assert "probes" not in status["meshctl"]
