"""The injection engine: one workload object in, the injected object out (plain data).

:class:`Injector` reproduces ``istioctl kube-inject`` (Istio's ``IntoObject`` + ``injectPod``):

1. find the pod template (``pod_path``) and who owns it (``.TypeMeta``, ``.DeploymentMeta``);
2. decide (:mod:`meshctl.policy`); ``hostNetwork`` and disabled pods are skipped with Istio's
   warning;
3. merge ``proxy.istio.io/config`` over the mesh's ``defaultConfig``; validate the annotations;
4. strip a previous injection from the copy the templates see (``stripPod``), render each selected
   template (:mod:`meshctl.render`) and strategic-merge it into the pod (:mod:`meshctl.merge`);
5. post-process (:mod:`meshctl.postprocess`): user overrides, Prometheus, probes, status, order.

Like Istio, the templates are merged over the pod as it is: re-injecting an injected pod merges
the new sidecar into the old one. meshctl also re-applies the user's container customizations
recorded in ``proxy.istio.io/overrides`` on re-injection (Istio forgets them), so that
``inject(inject(x)) == inject(x)``. :meth:`Injector.strip` takes an injection out again.

Skip reasons (``Outcome.reason``), stable codes:

``injected``               the sidecar was injected (``action == "injected"``)
``host_network``           ``spec.hostNetwork`` is true
``ignored_namespace``      kube-system, kube-public, kube-node-lease or local-path-storage
``label_disabled``         label ``sidecar.istio.io/inject: "false"``
``annotation_disabled``    annotation ``sidecar.istio.io/inject: "false"``
``never_inject_selector``  a ``neverInjectSelector`` matches the pod's labels
``policy_disabled``        policy ``disabled`` and nothing enables the pod
``no_pod_template``        ``pod_path`` does not lead to a pod template

A skipped workload has ``obj=None``; the warnings say why in Istio's words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from meshctl.errors import MeshctlError
from meshctl.istio.govalues import go_sprint
from meshctl.istio.goyaml import load_yaml
from meshctl.istio.meshconfig import merge_proxy_config, status_port
from meshctl.istio.settings import Settings
from meshctl.istio.strip import uninject_pod
from meshctl.istio.validate import validate_annotations
from meshctl.merge import strategic_merge
from meshctl.policy import decide
from meshctl.postprocess import (
    PROXY,
    STATUS_ANNOTATION,
    PostProcessError,
    apply_metadata,
    apply_prometheus_merge,
    apply_rewrite,
    apply_secure_prometheus_annotation,
    clear_prometheus_annotations,
    find,
    overwrite_cluster_info,
    parse_overrides,
    parse_status,
    prometheus_port,
    reapply_overwritten_containers,
    reorder,
)
from meshctl.records import Frozen
from meshctl.render import InjectionError, PodContext, Renderer, select_templates, template_data
from meshctl.workloads import get_path

__all__ = ["InjectionError", "Injector", "Outcome"]

PROXY_CONFIG_ANNOTATION: Final = "proxy.istio.io/config"
NATIVE_ANNOTATION: Final = "sidecar.istio.io/nativeSidecar"
NETWORK_LABEL: Final = "topology.istio.io/network"
OVERRIDES_ANNOTATION: Final = "proxy.istio.io/overrides"
_CRONJOB_JOB_NAME: Final = re.compile(r"^(.+)-\d{8,10}$")


class Outcome(Frozen):
    """The result of :meth:`Injector.inject` (reason codes: see the module docstring).

    Immutable (assigning raises); a plain slotted class because importing :mod:`dataclasses`
    costs every start-up milliseconds.
    """

    __slots__ = ("obj", "action", "reason", "warnings")

    obj: dict[str, Any] | None
    action: str
    reason: str
    warnings: tuple[str, ...]

    def __init__(self, obj: dict[str, Any] | None, action: str, reason: str,
                 warnings: tuple[str, ...] = ()) -> None:
        _set = object.__setattr__
        _set(self, "obj", obj)
        _set(self, "action", action)
        _set(self, "reason", reason)
        _set(self, "warnings", warnings)


# --------------------------------------------------------------------------------------------
# paths


def _replace(obj: Mapping[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of ``obj`` with ``path`` set to ``value``; only the dicts on the path are copied."""
    root = dict(obj)
    cur = root
    for key in path[:-1]:
        nxt = cur.get(key)
        nxt = dict(nxt) if isinstance(nxt, Mapping) else {}
        cur[key] = nxt
        cur = nxt
    cur[path[-1]] = value
    return root


def metadata_path(obj: Mapping[str, Any], pod_path: tuple[str, ...],
                  settings: Settings) -> tuple[str, ...]:
    """Where the pod's labels and annotations are read and written (see the CronJob quirk)."""
    if obj.get("kind") == "CronJob" and settings.cronjob_metadata_on_job_template and \
            len(pod_path) >= 2:
        return (*pod_path[:-2], "metadata")
    return (*pod_path, "metadata")


def pod_context(obj: Mapping[str, Any], pod_path: tuple[str, ...],
                meta: Mapping[str, Any]) -> PodContext:
    """``.TypeMeta`` and ``.DeploymentMeta``: the object's own, or guessed from a bare Pod."""
    obj_meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    assert isinstance(obj_meta, Mapping)
    name = go_sprint(obj_meta.get("name") or "")
    namespace = go_sprint(obj_meta.get("namespace") or "")
    if pod_path:
        return PodContext(go_sprint(obj.get("kind") or ""), go_sprint(obj.get("apiVersion") or ""),
                          name, namespace)
    return deploy_meta_from_pod(meta)


def deploy_meta_from_pod(meta: Mapping[str, Any]) -> PodContext:
    """Istio's ``GetDeployMetaFromPod``: the controller of a generated pod, by heuristics."""
    name = go_sprint(meta.get("name") or "")
    namespace = go_sprint(meta.get("namespace") or "")
    kind, api_version = "Pod", "v1"
    labels = meta.get("labels") if isinstance(meta.get("labels"), Mapping) else {}
    assert isinstance(labels, Mapping)
    if meta.get("generateName"):
        ref = next((r for r in meta.get("ownerReferences") or []
                    if isinstance(r, Mapping) and r.get("controller") is True), None)
        if ref is not None:
            api_version = go_sprint(ref.get("apiVersion") or "")
            kind = go_sprint(ref.get("kind") or "")
            name = go_sprint(ref.get("name") or "")
            hash_ = go_sprint(labels.get("pod-template-hash") or "")
            rollout = go_sprint(labels.get("rollouts-pod-template-hash") or "")
            if kind == "ReplicaSet" and hash_ and name.endswith(hash_):
                name, kind = name.removesuffix("-" + hash_), "Deployment"
            elif kind == "ReplicaSet" and rollout and name.endswith(rollout):
                name, kind, api_version = name.removesuffix("-" + rollout), "Rollout", "v1alpha1"
            elif kind == "ReplicationController" and labels.get("deploymentconfig"):
                name, kind = go_sprint(labels["deploymentconfig"]), "DeploymentConfig"
            elif kind == "Job":
                m = _CRONJOB_JOB_NAME.match(name)
                if m:
                    name, kind, api_version = m.group(1), "CronJob", "batch/v1"
    if not name:
        name = go_sprint(meta.get("name") or "")
    return PodContext(kind, api_version, name, namespace)


# --------------------------------------------------------------------------------------------


def _native_for(meta: Mapping[str, Any], default: bool) -> bool:
    value = (meta.get("annotations") or {}).get(NATIVE_ANNOTATION)
    if value == "true":
        return True
    if value == "false":
        return False
    return default


def _move_proxy_to_init(pod: dict[str, Any]) -> dict[str, Any]:
    spec = pod.get("spec") or {}
    conts = list(spec.get("containers") or [])
    i = find(PROXY, conts)
    if i < 0:
        return pod
    proxy = conts.pop(i)
    inits = [*(spec.get("initContainers") or []), proxy]
    return {**pod, "spec": {**spec, "containers": conts, "initContainers": inits}}


def strip_pod(pod: Mapping[str, Any], mesh: Mapping[str, Any]) -> dict[str, Any]:
    """Istio's ``stripPod``: the pod as the templates should see it on re-injection."""
    meta = pod.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    if STATUS_ANNOTATION not in annotations:
        return dict(pod)
    status = parse_status(annotations[STATUS_ANNOTATION])
    spec = dict(pod.get("spec") or {})
    for field in ("containers", "initContainers"):
        names = set(status[field])
        if names and isinstance(spec.get(field), list):
            spec[field] = [c for c in spec[field]
                           if not (isinstance(c, Mapping) and c.get("name") in names)]
    new_annotations = dict(annotations)
    if prometheus_port(new_annotations) == str(status_port(mesh)):
        clear_prometheus_annotations(new_annotations)
    new_annotations.pop(STATUS_ANNOTATION, None)
    return {**pod, "metadata": {**meta, "annotations": new_annotations}, "spec": spec}


def reinsert_overrides(pod: dict[str, Any]) -> dict[str, Any]:
    """Istio's ``reinsertOverrides``: user containers recorded at the previous injection."""
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    if OVERRIDES_ANNOTATION not in annotations:
        return pod
    overrides = parse_overrides(annotations[OVERRIDES_ANNOTATION])
    spec = dict(pod.get("spec") or {})
    for field in ("containers", "initContainers"):
        items = list(spec.get(field) or [])
        for c in overrides[field]:
            if find(str(c.get("name")), items) < 0:
                items.append(dict(c))
        if items or field in spec:
            spec[field] = items
    return {**pod, "spec": spec}


def _cluster_and_network(settings: Settings, meta: Mapping[str, Any]) -> dict[str, str]:
    glob = settings.values.get("global")
    glob = glob if isinstance(glob, Mapping) else {}
    multi = glob.get("multiCluster")
    cluster = go_sprint(multi.get("clusterName") or "") if isinstance(multi, Mapping) else ""
    network = go_sprint(glob.get("network") or "")
    labels = meta.get("labels") or {}
    if isinstance(labels, Mapping) and NETWORK_LABEL in labels:
        network = go_sprint(labels[NETWORK_LABEL])
    envs: dict[str, str] = {}
    if cluster:
        envs["ISTIO_META_CLUSTER_ID"] = cluster
    if network:
        envs["ISTIO_META_NETWORK"] = network
    return envs


class Injector:
    """Injects with one :class:`Settings`; every template is compiled here, once."""

    def __init__(self, settings: Settings, *, compiled_templates: bool = False) -> None:
        self.settings = settings
        self.renderer = Renderer(settings, compiled=compiled_templates)

    # ----------------------------------------------------------------------------------------

    def inject(self, obj: dict[str, Any], pod_path: tuple[str, ...]) -> Outcome:
        """Inject the workload ``obj`` whose pod template is at ``pod_path`` (not mutated)."""
        settings = self.settings
        template = get_path(obj, pod_path) if pod_path else obj
        if not isinstance(template, Mapping):
            return Outcome(None, "skipped", "no_pod_template")
        meta_path = metadata_path(obj, pod_path, settings)
        spec_path = (*pod_path, "spec")
        meta = get_path(obj, meta_path)
        spec = get_path(obj, spec_path)
        meta = meta if isinstance(meta, Mapping) else {}
        if not isinstance(spec, Mapping):
            return Outcome(None, "skipped", "no_pod_template")

        ctx = pod_context(obj, pod_path, meta)
        pod_name = go_sprint(meta.get("name") or "") or ctx.name
        namespace = go_sprint(meta.get("namespace") or "") or ctx.namespace
        full_name = f"{ctx.namespace}/{pod_name}" if ctx.namespace else pod_name
        subject = f"{ctx.kind} {json.dumps(full_name)}" if ctx.kind else json.dumps(full_name)

        if spec.get("hostNetwork") is True:
            return Outcome(None, "skipped", "host_network", (
                f"Skipping injection because {subject} has host networking enabled",))

        mesh = settings.mesh
        annotations = meta.get("annotations") or {}
        if isinstance(annotations, Mapping) and PROXY_CONFIG_ANNOTATION in annotations:
            mesh = self._mesh_with_annotation(annotations[PROXY_CONFIG_ANNOTATION], mesh)

        decision = decide(meta, spec, namespace=namespace, policy=settings.policy,
                          never_inject=settings.never_inject_selector,
                          always_inject=settings.always_inject_selector)
        if not decision.inject:
            return Outcome(None, "skipped", decision.reason, (
                *decision.warnings,
                f"Skipping injection because {subject} has sidecar injection disabled"))

        warnings = list(decision.warnings)
        dns = spec.get("dnsPolicy")
        if dns not in (None, "", "ClusterFirst"):
            warnings.append(f"dnsPolicy of {subject} is {json.dumps(go_sprint(dns))}, not "
                            '"ClusterFirst": the sidecar may not reach istiod')
        try:
            new_meta, new_spec = self._inject_pod(meta, spec, ctx, mesh)
        except PostProcessError as exc:
            raise InjectionError(f"failed to process pod: {exc}") from None
        new_obj = _replace(_replace(obj, meta_path, new_meta), spec_path, new_spec)
        return Outcome(new_obj, "injected", "injected", tuple(warnings))

    @staticmethod
    def _mesh_with_annotation(value: Any, mesh: Mapping[str, Any]) -> dict[str, Any]:
        try:
            overlay = load_yaml(go_sprint(value), "annotation proxy.istio.io/config")
        except MeshctlError as exc:
            raise InjectionError(f"invalid value for annotation {PROXY_CONFIG_ANNOTATION}: "
                                 f"{exc}") from None
        if overlay is not None and not isinstance(overlay, Mapping):
            raise InjectionError(f"invalid value for annotation {PROXY_CONFIG_ANNOTATION}: "
                                 "could not parse proxy config: not a mapping")
        new = dict(mesh)
        new["defaultConfig"] = merge_proxy_config(overlay, mesh.get("defaultConfig") or {})
        return new

    def _inject_pod(self, meta: Mapping[str, Any], spec: Mapping[str, Any], ctx: PodContext,
                    mesh: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        settings = self.settings
        annotations = meta.get("annotations") or {}
        errors = validate_annotations(annotations if isinstance(annotations, Mapping) else {})
        if errors:
            raise InjectionError("; ".join(errors))

        proxy_envs = _cluster_and_network(settings, meta)
        original: dict[str, Any] = {"metadata": meta, "spec": spec}
        try:
            stripped = reinsert_overrides(strip_pod(original, mesh))
        except ValueError as exc:
            raise InjectionError(f"invalid annotation {OVERRIDES_ANNOTATION}: {exc}") from None
        data = template_data(stripped["metadata"], stripped["spec"], ctx, mesh, settings,
                             settings.native_sidecars)

        merged: dict[str, Any] = original
        template_pod: dict[str, Any] = {}
        for name in select_templates(annotations, settings):
            patch = self.renderer.render(name, data)
            template_pod = strategic_merge(template_pod, patch, copy=False)
            native = _native_for(merged.get("metadata") or {}, settings.native_sidecars)
            if native and find(PROXY, (template_pod.get("spec") or {}).get("initContainers")
                               or []) >= 0 and \
                    find(PROXY, (merged.get("spec") or {}).get("containers") or []) >= 0:
                merged = _move_proxy_to_init(merged)
            merged = strategic_merge(merged, patch)

        try:
            merged = reapply_overwritten_containers(merged, original, template_pod, mesh)
        except ValueError as exc:
            raise InjectionError(f"failed to re apply container: {exc}") from None

        pod = dict(merged)
        pod["metadata"] = new_meta = dict(pod.get("metadata") or {})
        new_meta["annotations"] = dict(new_meta.get("annotations") or {})
        new_meta["labels"] = dict(new_meta.get("labels") or {})
        pod["spec"] = dict(pod.get("spec") or {})
        overwrite_cluster_info(pod, proxy_envs)
        apply_prometheus_merge(pod, mesh)
        apply_secure_prometheus_annotation(pod)
        apply_rewrite(pod, mesh, settings.values)
        apply_metadata(pod, template_pod, settings.revision, proxy_envs,
                       settings.injected_annotations)
        reorder(pod, mesh, settings.values)
        return pod["metadata"], pod["spec"]

    # ----------------------------------------------------------------------------------------

    def strip(self, obj: dict[str, Any], pod_path: tuple[str, ...], *,
              mark_disabled: bool = False) -> dict[str, Any]:
        """Remove a previous injection, driven by ``sidecar.istio.io/status`` (see
        :mod:`meshctl.istio.strip`); ``obj`` itself when it was not injected. With
        ``mark_disabled``, also behave like Istio's former ``istioctl kube-uninject``."""
        meta_path = metadata_path(obj, pod_path, self.settings)
        spec_path = (*pod_path, "spec")
        meta = get_path(obj, meta_path)
        spec = get_path(obj, spec_path)
        if not isinstance(meta, Mapping) or not isinstance(spec, Mapping):
            return obj
        ctx = pod_context(obj, pod_path, meta)
        result = uninject_pod(meta, spec, self.settings.mesh, self.settings.values,
                              owner_name=ctx.name, mark_disabled=mark_disabled)
        if result is None:
            return obj
        new_meta, new_spec = result
        new_obj = _replace(obj, spec_path, new_spec)
        if new_meta or len(meta_path) == 1:
            return _replace(new_obj, meta_path, new_meta)
        parent = dict(get_path(new_obj, meta_path[:-1]) or {})  # a template left without metadata
        parent.pop(meta_path[-1], None)
        return _replace(new_obj, meta_path[:-1], parent)
