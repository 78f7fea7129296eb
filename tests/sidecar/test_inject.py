"""The engine end to end on plain data (meshctl.sidecar.inject): outcomes, errors, strip."""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import pytest
import yaml

from meshctl.manifests.find import pod_template_path
from meshctl.sidecar.config.settings import load_settings
from meshctl.sidecar.inject import InjectionError, Injector
from meshctl.sidecar.workload import deploy_meta_from_pod
from tests.conformance.semantic import diff
from tests.conftest import SHARED

GOLDEN = SHARED / "istio-golden"
PATH = ("spec", "template")


@functools.cache
def injector(native: bool = True) -> Injector:
    s = GOLDEN / "settings"
    return Injector(load_settings(s / "inject-config.yaml", s / "values.json", s / "mesh.yaml",
                                  native_sidecars=native))


def deployment(annotations: dict[str, Any] | None = None, labels: dict[str, Any] | None = None,
               **spec: Any) -> dict[str, Any]:
    pod_spec = {"containers": [{"name": "app", "image": "app:1",
                                "ports": [{"name": "http", "containerPort": 8080}],
                                "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"},
                                                   "periodSeconds": 5}}], **spec}
    meta: dict[str, Any] = {"labels": {"app": "web", **(labels or {})}}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": meta, "spec": pod_spec}}}


def proxy(pod_spec: dict[str, Any]) -> dict[str, Any]:
    for field in ("initContainers", "containers"):
        for c in pod_spec.get(field) or ():
            if c["name"] == "istio-proxy":
                return dict(c)
    raise AssertionError("no istio-proxy")


def test_injects_without_touching_the_input() -> None:
    obj = deployment()
    before = copy.deepcopy(obj)
    out = injector().inject(obj, PATH)
    assert obj == before
    assert (out.action, out.reason) == ("injected", "injected")
    assert out.obj is not None and out.obj is not obj
    spec = out.obj["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["initContainers"]] == ["istio-init", "istio-proxy"]
    assert spec["containers"][0]["readinessProbe"] == {
        "httpGet": {"path": "/app-health/app/readyz", "port": 15020}, "periodSeconds": 5}
    env = {e["name"]: e.get("value") for e in proxy(spec)["env"]}
    assert json.loads(env["ISTIO_KUBE_APP_PROBERS"]) == {
        "/app-health/app/readyz": {"httpGet": {"path": "/ready", "port": 8080}}}
    assert env["ISTIO_META_OWNER"] == "kubernetes://apis/apps/v1/namespaces/shop/deployments/web"
    meta = out.obj["spec"]["template"]["metadata"]
    assert json.loads(meta["annotations"]["sidecar.istio.io/status"])["revision"] == "default"
    assert meta["labels"]["service.istio.io/canonical-name"] == "web"
    # unchanged branches are shared, not copied
    assert out.obj["spec"]["selector"] is obj["spec"]["selector"]


def test_classic_layout_and_reinjection_is_a_fixed_point() -> None:
    inj = injector(native=False)
    once = inj.inject(deployment(), PATH).obj
    assert once is not None
    spec = once["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["containers"]] == ["app", "istio-proxy"]
    twice = inj.inject(once, PATH).obj
    assert twice == once


def test_hold_application_puts_the_proxy_first() -> None:
    obj = deployment({"proxy.istio.io/config": "holdApplicationUntilProxyStarts: true"})
    out = injector(native=False).inject(obj, PATH).obj
    assert out is not None
    spec = out["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["containers"]] == ["istio-proxy", "app"]
    assert proxy(spec)["lifecycle"]["postStart"]["exec"]["command"] == ["pilot-agent", "wait"]


@pytest.mark.parametrize(("obj", "reason"), [
    (deployment(labels={"sidecar.istio.io/inject": "false"}), "label_disabled"),
    (deployment({"sidecar.istio.io/inject": "false"}), "annotation_disabled"),
])
def test_skips_say_why(obj: dict[str, Any], reason: str) -> None:
    out = injector().inject(obj, PATH)
    assert (out.obj, out.action, out.reason) == (None, "skipped", reason)
    assert out.warnings[-1] == \
        'Skipping injection because Deployment "shop/web" has sidecar injection disabled'


def test_host_network_warning_is_istios() -> None:
    out = injector().inject(deployment(hostNetwork=True), PATH)
    assert (out.obj, out.reason) == (None, "host_network")
    assert out.warnings == (
        'Skipping injection because Deployment "shop/web" has host networking enabled',)


@pytest.mark.parametrize(("annotation", "value"), [
    ("traffic.sidecar.istio.io/includeOutboundIPRanges", "bad"),
    ("traffic.sidecar.istio.io/excludeInboundPorts", "80,x"),
    ("sidecar.istio.io/interceptionMode", "MAGIC"),
    ("sidecar.istio.io/proxyCPU", "lots"),
    ("status.sidecar.istio.io/port", "99999"),
])
def test_bad_annotation_is_named(annotation: str, value: str) -> None:
    with pytest.raises(InjectionError) as err:
        injector().inject(deployment({annotation: value}), PATH)
    assert annotation in str(err.value) and value in str(err.value)


def test_unknown_template_and_bad_prometheus_port() -> None:
    with pytest.raises(InjectionError, match="requested template 'nope' not found"):
        injector().inject(deployment({"inject.istio.io/templates": "sidecar,nope"}), PATH)
    with pytest.raises(InjectionError, match="reserved for Istio"):
        injector().inject(deployment({"prometheus.io/port": "15090"}), PATH)


def _cronjob() -> dict[str, Any]:
    cron: dict[str, Any] = yaml.safe_load((GOLDEN / "inject" / "cronjob.yaml").read_text())
    return cron


CRON_PATH = ("spec", "jobTemplate", "spec", "template")


def test_cronjob_metadata_goes_on_the_pod_template() -> None:
    """istioctl writes it on spec.jobTemplate.metadata, the Job's; the pods need it."""
    cron = _cronjob()
    assert pod_template_path(cron) == CRON_PATH
    out = injector().inject(cron, CRON_PATH).obj
    assert out is not None
    pod_meta = out["spec"]["jobTemplate"]["spec"]["template"]["metadata"]
    assert "sidecar.istio.io/status" in pod_meta["annotations"]
    assert pod_meta["labels"]["security.istio.io/tlsMode"] == "istio"
    assert "metadata" not in out["spec"]["jobTemplate"]
    assert injector().uninject(out, CRON_PATH) == cron
    assert injector().inject(out, CRON_PATH).obj == out


def _injected_the_old_way() -> dict[str, Any]:
    """What istioctl (and meshctl before the fix) wrote: the CronJob golden as it is."""
    docs = [d for d in yaml.safe_load_all(
        (GOLDEN / "inject" / "cronjob.yaml.injected").read_text()) if d]
    old: dict[str, Any] = docs[0]
    assert "sidecar.istio.io/status" in old["spec"]["jobTemplate"]["metadata"]["annotations"]
    return old


def test_uninject_cleans_up_a_cronjob_injected_the_old_way() -> None:
    out = injector().uninject(_injected_the_old_way(), CRON_PATH)
    assert diff(_cronjob(), out) == ""


def test_reinjection_moves_the_old_way_to_the_pod_template() -> None:
    old = _injected_the_old_way()
    fresh = injector().inject(_cronjob(), CRON_PATH).obj
    assert fresh is not None
    again = injector().inject(old, CRON_PATH)
    assert again.obj is not None
    assert diff(fresh, again.obj) == ""
    assert not any("jobTemplate.metadata" in w for w in again.warnings)


def test_inject_choice_on_the_job_template_still_disables() -> None:
    """``sidecar.istio.io/inject: "false"`` where istioctl read it (and istioctl kube-uninject
    wrote it) never reaches the pods; the workload is still not injected, with a warning."""
    cron = _cronjob()
    cron["spec"]["jobTemplate"]["metadata"] = {"labels": {"sidecar.istio.io/inject": "false"}}
    out = injector().inject(cron, CRON_PATH)
    assert (out.obj, out.reason) == (None, "label_disabled")
    assert any("label sidecar.istio.io/inject on spec.jobTemplate.metadata does not reach the "
               "pods; put it on spec.jobTemplate.spec.template.metadata" in w
               for w in out.warnings)


def test_pod_owner_heuristics() -> None:
    meta = {"name": "", "generateName": "web-5d4f-", "labels": {"pod-template-hash": "5d4f"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                 "name": "web-5d4f", "controller": True}]}
    ctx = deploy_meta_from_pod(meta)
    assert (ctx.kind, ctx.name, ctx.api_version) == ("Deployment", "web", "apps/v1")
    job = {"generateName": "x-", "ownerReferences": [
        {"apiVersion": "batch/v1", "kind": "Job", "name": "nightly-28999999", "controller": True}]}
    ctx = deploy_meta_from_pod(job)
    assert (ctx.kind, ctx.name) == ("CronJob", "nightly")
    assert deploy_meta_from_pod({"name": "solo"}).kind == "Pod"


def test_strip_reverses_injection() -> None:
    for native in (True, False):
        inj = injector(native)
        obj = deployment({"prometheus.io/port": "9090", "prometheus.io/scrape": "true"})
        out = inj.inject(obj, PATH).obj
        assert out is not None
        assert out["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == "15020"
        assert diff(obj, inj.uninject(out, PATH)) == ""
    plain = deployment()
    assert injector().uninject(plain, PATH) is plain


def test_own_proxy_keeps_its_quantities_through_reinjection_and_strip() -> None:
    """A gateway's own istio-proxy (as Istio's gateway chart declares it): the overrides
    annotation records Go's canonical quantities ("2", "1Gi"), the pod keeps the user's
    spelling, and strip restores that spelling, so that re-injection is a fixed point and
    strip gives back exactly the input."""
    own = {"name": "istio-proxy", "image": "auto",
           "resources": {"limits": {"cpu": "2000m", "memory": "1024Mi"},
                         "requests": {"cpu": "100m", "memory": "128Mi"}}}
    sysctl = {"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}  # the chart's too
    obj = deployment({"inject.istio.io/templates": "gateway"}, containers=[own],
                     securityContext={"sysctls": [sysctl]})
    inj = injector()
    once = inj.inject(obj, PATH).obj
    assert once is not None
    overrides = once["spec"]["template"]["metadata"]["annotations"]["proxy.istio.io/overrides"]
    assert '"limits":{"cpu":"2","memory":"1Gi"}' in overrides
    assert proxy(once["spec"]["template"]["spec"])["resources"] == own["resources"]
    assert inj.uninject(once, PATH) == obj
    assert inj.inject(once, PATH).obj == once
    assert inj.inject(inj.uninject(once, PATH), PATH).obj == once


# Un-injection on Istio's golden suite (every case, the case's settings; Istio's own output and
# meshctl's injection; istioctl's former kube-uninject pairs): tests/conformance/
# test_uninject_goldens.py


@pytest.mark.parametrize(("hub", "tag", "proxy_type", "ann_type", "want"), [
    ("r.io/release", 11, "", "", "r.io/release/proxyv2:11"),
    ("r.io/release", 1.12, "distroless", "", "r.io/release/proxyv2:1.12-distroless"),
    ("g.io/asm", "1.11.2-asm.17", "", "distroless", "g.io/asm/proxyv2:1.11.2-asm.17-distroless"),
    ("g.io/asm", "1.11.2-asm.17", "distroless", "debug", "g.io/asm/proxyv2:1.11.2-asm.17-debug"),
    ("g.io/asm", "1.11.2-asm.17", "debug", "default", "g.io/asm/proxyv2:1.11.2-asm.17"),
    ("g.io/asm", "1.11-distroless", "default", "", "g.io/asm/proxyv2:1.11"),
    ("r.io/release", "1.12-debug", "distroless", "", "r.io/release/proxyv2:1.12-distroless"),
    ("r.io/release", "1.12-distroless", "", "distroless", "r.io/release/proxyv2:1.12-distroless"),
    ("p/istio", "1.12-odd-tag", "", "", "p/istio/proxyv2:1.12-odd-tag"),
    ("p/istio", "1.12-odd-tag-distroless", "default", "", "p/istio/proxyv2:1.12-odd-tag"),
])
def test_proxy_image(hub: str, tag: Any, proxy_type: str, ann_type: str, want: str) -> None:
    from meshctl.sidecar.render import proxy_image

    values = {"global": {"hub": hub, "tag": tag}}
    pc = {"image": {"imageType": proxy_type}} if proxy_type else {}
    ann = {"sidecar.istio.io/proxyImageType": ann_type} if ann_type else {}
    assert proxy_image(values, pc, ann) == want


def test_jobs_with_a_classic_sidecar_get_a_warning() -> None:
    """A classic istio-proxy never exits, so a Job's pod never completes: the warning names the
    flag and the Kubernetes version native sidecars need. Not for other kinds, not for native
    sidecars (by flag or by annotation)."""
    from meshctl.sidecar.inject import CLASSIC_SIDECAR_IN_JOB

    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
           "spec": {"template": {"spec": {"restartPolicy": "Never",
                                          "containers": [{"name": "m", "image": "m:1"}]}}}}
    classic = injector(native=False).inject(job, PATH)
    assert CLASSIC_SIDECAR_IN_JOB in classic.warnings
    assert "--native-sidecars true" in CLASSIC_SIDECAR_IN_JOB
    assert "Kubernetes 1.29 or later" in CLASSIC_SIDECAR_IN_JOB
    assert CLASSIC_SIDECAR_IN_JOB not in injector(native=True).inject(job, PATH).warnings
    annotated = copy.deepcopy(job)
    annotated["spec"]["template"]["metadata"] = {
        "annotations": {"sidecar.istio.io/nativeSidecar": "true"}}
    assert CLASSIC_SIDECAR_IN_JOB not in injector(native=False).inject(annotated, PATH).warnings
    cron = injector(native=False).inject(_cronjob(), CRON_PATH)
    assert CLASSIC_SIDECAR_IN_JOB in cron.warnings
    assert CLASSIC_SIDECAR_IN_JOB not in injector(native=False).inject(deployment(), PATH).warnings
