"""The injection engine: one workload object in, the injected object out (plain data).

:class:`Injector` reproduces ``istioctl kube-inject`` (Istio's ``IntoObject`` + ``injectPod``):

1. find who owns the pod (``.TypeMeta``, ``.DeploymentMeta``: :mod:`meshctl.sidecar.workload`);
2. decide (:mod:`meshctl.sidecar.policy`): host-network and disabled pods are skipped, with
   Istio's warning and a reason code (:class:`meshctl.outcomes.Reason`);
3. merge ``proxy.istio.io/config`` over the mesh's ``defaultConfig``; validate the annotations;
4. strip a previous injection from the copy the templates see (Istio's ``stripPod``), render
   each selected template (:mod:`meshctl.sidecar.render`) and strategic-merge it into the pod
   (:mod:`meshctl.sidecar.merge`);
5. post-process (:mod:`meshctl.sidecar.postprocess`, :mod:`meshctl.sidecar.probes`): user
   overrides, Prometheus, probes, status, order.

Like Istio, the templates are merged over the pod as it is: re-injecting an injected pod merges
the new sidecar into the old one. meshctl also re-applies the user's container customizations
recorded in ``proxy.istio.io/overrides`` on re-injection (Istio forgets them), so that
``inject(inject(x)) == inject(x)``. Un-injection is :mod:`meshctl.sidecar.uninject`.

Errors about an annotation carry the annotation's path in the object (``MeshctlError.path``),
so that the error names its line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from meshctl.errors import DocPath, MeshctlError
from meshctl.gotemplate.goyaml import load_yaml
from meshctl.gotemplate.values import go_sprint
from meshctl.manifests.find import get_path
from meshctl.outcomes import Action, Outcome, Reason
from meshctl.sidecar import provenance
from meshctl.sidecar.config.meshconfig import merge_proxy_config, status_port
from meshctl.sidecar.config.settings import Settings
from meshctl.sidecar.merge import strategic_merge
from meshctl.sidecar.names import (
    INJECT,
    NATIVE_SIDECAR,
    NETWORK,
    OVERRIDES,
    PROVENANCE_PROBES,
    PROXY,
    PROXY_CONFIG,
    STATUS,
    TEMPLATES,
)
from meshctl.sidecar.pod import find
from meshctl.sidecar.policy import decide
from meshctl.sidecar.postprocess import (
    PostProcessError,
    apply_metadata,
    apply_prometheus_merge,
    apply_secure_prometheus_annotation,
    clear_prometheus_annotations,
    overwrite_cluster_info,
    parse_overrides,
    parse_status,
    prometheus_port,
    reapply_overwritten_containers,
    reorder,
)
from meshctl.sidecar.probes import apply_rewrite
from meshctl.sidecar.render import InjectionError, Renderer, select_templates, template_data
from meshctl.sidecar.uninject import uninject_workload
from meshctl.sidecar.validate import validate_annotations
from meshctl.sidecar.workload import (
    PodContext,
    legacy_metadata_path,
    metadata_path,
    outer_metadata_path,
    pod_context,
    replace_path,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final

__all__ = ["InjectionError", "Injector"]

#: kinds whose pods run to completion: a classic sidecar keeps running after the job's
#: containers exit, so the pod never completes
RUN_TO_COMPLETION: Final = frozenset({"Job", "CronJob"})
CLASSIC_SIDECAR_IN_JOB: Final = (
    "the istio-proxy sidecar keeps the pods from completing (it runs on after the job's "
    "containers exit): inject it as a native sidecar with --native-sidecars true (Kubernetes "
    "1.29 or later; 1.28 with the SidecarContainers feature gate)")


def _native_for(meta: Mapping[str, Any], default: bool) -> bool:
    value = (meta.get("annotations") or {}).get(NATIVE_SIDECAR)
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
    if STATUS not in annotations:
        return dict(pod)
    status = parse_status(annotations[STATUS])
    spec = dict(pod.get("spec") or {})
    for field in ("containers", "initContainers"):
        names = set(status[field])
        if names and isinstance(spec.get(field), list):
            spec[field] = [c for c in spec[field]
                           if not (isinstance(c, Mapping) and c.get("name") in names)]
    new_annotations = dict(annotations)
    if prometheus_port(new_annotations) == str(status_port(mesh)):
        clear_prometheus_annotations(new_annotations)
    new_annotations.pop(STATUS, None)
    return {**pod, "metadata": {**meta, "annotations": new_annotations}, "spec": spec}


def reinsert_overrides(pod: dict[str, Any]) -> dict[str, Any]:
    """Istio's ``reinsertOverrides``: user containers recorded at the previous injection."""
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    if OVERRIDES not in annotations:
        return pod
    overrides = parse_overrides(annotations[OVERRIDES])
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
    if isinstance(labels, Mapping) and NETWORK in labels:
        network = go_sprint(labels[NETWORK])
    envs: dict[str, str] = {}
    if cluster:
        envs["ISTIO_META_CLUSTER_ID"] = cluster
    if network:
        envs["ISTIO_META_NETWORK"] = network
    return envs


class Injector:
    """Injects with one :class:`Settings`; every template is compiled here, once. ``profile``
    names where the settings came from, for the provenance record
    (:mod:`meshctl.sidecar.provenance`)."""

    def __init__(self, settings: Settings, *, compiled_templates: bool = False,
                 profile: str = "") -> None:
        self.settings = settings
        self.renderer = Renderer(settings, compiled=compiled_templates)
        self.provenance = provenance.record(settings, profile)

    def previous_record(self, obj: Mapping[str, Any],
                        pod_path: tuple[str, ...]) -> dict[str, Any] | None:
        """The provenance record of the workload's previous injection (``{}``: injected
        without one), or None when it was not injected."""
        for path in (metadata_path(pod_path), outer_metadata_path(pod_path)):
            annotations = get_path(obj, (*path, "annotations")) if path is not None else None
            if isinstance(annotations, Mapping) and STATUS in annotations:
                return provenance.previous_record(annotations)
        return None

    def inject(self, obj: dict[str, Any], pod_path: tuple[str, ...]) -> Outcome:
        """Inject the workload ``obj`` whose pod template is at ``pod_path`` (not mutated)."""
        settings = self.settings
        template = get_path(obj, pod_path) if pod_path else obj
        if not isinstance(template, Mapping):
            return Outcome(None, Action.SKIPPED, Reason.NO_POD_TEMPLATE)
        if legacy_metadata_path(obj, pod_path, STATUS) is not None:
            # injected the old way (istioctl: the record on spec.jobTemplate.metadata): take
            # that injection out completely, whatever the re-injection mode, then inject anew
            obj = uninject_workload(obj, pod_path, settings)
        meta_path = metadata_path(pod_path)
        spec_path = (*pod_path, "spec")
        meta = get_path(obj, meta_path)
        spec = get_path(obj, spec_path)
        meta = meta if isinstance(meta, Mapping) else {}
        if not isinstance(spec, Mapping):
            return Outcome(None, Action.SKIPPED, Reason.NO_POD_TEMPLATE)
        outer_warnings, meta_for_policy = _outer_metadata(obj, pod_path, meta)

        ctx = pod_context(obj, pod_path, meta)
        pod_name = go_sprint(meta.get("name") or "") or ctx.name
        namespace = go_sprint(meta.get("namespace") or "") or ctx.namespace
        full_name = f"{ctx.namespace}/{pod_name}" if ctx.namespace else pod_name
        subject = f"{ctx.kind} {json.dumps(full_name)}" if ctx.kind else json.dumps(full_name)

        decision = decide(meta_for_policy, spec, namespace=namespace, policy=settings.policy,
                          never_inject=settings.never_inject_selector,
                          always_inject=settings.always_inject_selector)
        if decision.reason is Reason.HOST_NETWORK:
            return Outcome(None, Action.SKIPPED, decision.reason, (
                f"Skipping injection because {subject} has host networking enabled",))

        at = _Locator(meta_path, spec_path)
        mesh = settings.mesh
        annotations = meta.get("annotations") or {}
        if isinstance(annotations, Mapping) and PROXY_CONFIG in annotations:
            mesh = _mesh_with_annotation(annotations[PROXY_CONFIG], mesh, at)

        if not decision.inject:
            return Outcome(None, Action.SKIPPED, decision.reason, (
                *outer_warnings, *decision.warnings,
                f"Skipping injection because {subject} has sidecar injection disabled"))

        warnings = [*outer_warnings, *decision.warnings]
        dns = spec.get("dnsPolicy")
        if dns not in (None, "", "ClusterFirst"):
            warnings.append(f"dnsPolicy of {subject} is {json.dumps(go_sprint(dns))}, not "
                            '"ClusterFirst": the sidecar may not reach istiod')
        try:
            new_meta, new_spec = self._inject_pod(meta, spec, ctx, mesh, at, warnings)
        except PostProcessError as exc:
            path = at.annotation(exc.annotation) if exc.annotation else None
            raise InjectionError(f"failed to process pod: {exc}", path=path) from None
        new_obj = replace_path(replace_path(obj, meta_path, new_meta), spec_path, new_spec)
        if ctx.kind in RUN_TO_COMPLETION and find(PROXY, new_spec.get("containers") or []) >= 0:
            warnings.append(CLASSIC_SIDECAR_IN_JOB)
        return Outcome(new_obj, Action.INJECTED, Reason.INJECTED, tuple(warnings))

    def uninject(self, obj: dict[str, Any], pod_path: tuple[str, ...], *,
                 mark_disabled: bool = False) -> dict[str, Any]:
        """:func:`meshctl.sidecar.uninject.uninject_workload` with these settings."""
        return uninject_workload(obj, pod_path, self.settings, mark_disabled=mark_disabled,
                                 renderer=self.renderer)

    def _inject_pod(self, meta: Mapping[str, Any], spec: Mapping[str, Any], ctx: PodContext,
                    mesh: Mapping[str, Any], at: _Locator, warnings: list[str],
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
        settings = self.settings
        annotations = meta.get("annotations") or {}
        errors = validate_annotations(annotations if isinstance(annotations, Mapping) else {})
        if errors:
            raise InjectionError("; ".join(message for _name, message in errors),
                                 path=at.annotation(errors[0][0]))

        proxy_envs = _cluster_and_network(settings, meta)
        original: dict[str, Any] = {"metadata": meta, "spec": spec}
        try:
            stripped = reinsert_overrides(strip_pod(original, mesh))
        except ValueError as exc:
            raise InjectionError(f"invalid annotation {OVERRIDES}: {exc}",
                                 path=at.annotation(OVERRIDES)) from None
        data = template_data(stripped["metadata"], stripped["spec"], ctx, mesh, settings,
                             settings.native_sidecars)

        selected = select_templates(annotations, settings)
        for name in selected:
            if name not in settings.templates:
                where = TEMPLATES in annotations
                raise InjectionError(self.renderer.not_found(name),
                                     path=at.annotation(TEMPLATES) if where else None)
        merged: dict[str, Any] = original
        template_pod: dict[str, Any] = {}
        added_by: dict[tuple[str, Any], str] = {}  # (field, name) -> the template adding it
        for name in selected:
            patch = self.renderer.render(name, data)
            patch_spec = patch.get("spec")
            for field in _ADDED_FIELDS:
                items = patch_spec.get(field) if isinstance(patch_spec, Mapping) else None
                for item in items if isinstance(items, list) else ():
                    if isinstance(item, Mapping):
                        added_by.setdefault((field, item.get("name")), name)
            template_pod = strategic_merge(template_pod, patch, copy=False)
            native = _native_for(merged.get("metadata") or {}, settings.native_sidecars)
            if native and find(PROXY, (template_pod.get("spec") or {}).get("initContainers")
                               or []) >= 0 and \
                    find(PROXY, (merged.get("spec") or {}).get("containers") or []) >= 0:
                merged = _move_proxy_to_init(merged)
            merged = strategic_merge(merged, patch)

        _check_clashes(meta, spec, added_by, at,
                       _native_for(meta, settings.native_sidecars))
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
        probes, probe_warnings = apply_rewrite(pod, mesh, settings.values)
        warnings.extend(probe_warnings)
        record = {**self.provenance, PROVENANCE_PROBES: probes} if probes else self.provenance
        apply_metadata(pod, template_pod, settings.revision, proxy_envs,
                       settings.injected_annotations, record)
        reorder(pod, mesh, settings.values)
        return pod["metadata"], pod["spec"]


_ADDED_FIELDS: Final = ("containers", "initContainers", "volumes")
_WHAT: Final = {"containers": "container", "initContainers": "init container",
                "volumes": "volume"}


def _check_clashes(meta: Mapping[str, Any], spec: Mapping[str, Any],
                   added_by: Mapping[tuple[str, Any], str], at: _Locator,
                   native: bool) -> None:
    """Refuse a pod whose own volume, container or init container has the name of one that
    the templates add, where Istio's merge would lose or break it.

    A container of the user's named like one the templates add *in the same list* is Istio's
    override mechanism (``istio-proxy``, ``istio-init`` with the user's own fields) and stays
    as Istio has it (recorded in ``proxy.istio.io/overrides``, restored by kube-uninject), as
    does the user's ``istio-proxy`` in ``containers`` that a native sidecar moves to the init
    containers. Anything else would be merged into the template's object or sit beside it
    under the same name: a volume with two sources (or the user's source rewritten), deleted
    by kube-uninject with the sidecar's; two containers of one name. What a previous injection
    added (its status record) is the sidecar's, not the user's.
    """
    annotations = meta.get("annotations")
    previous = parse_status(annotations[STATUS]) if isinstance(annotations, Mapping) and \
        STATUS in annotations else {k: [] for k in _ADDED_FIELDS}
    for field in _ADDED_FIELDS:
        items = spec.get(field)
        for i, item in enumerate(items if isinstance(items, list) else ()):
            name = item.get("name") if isinstance(item, Mapping) else None
            if name is None or name in previous[field]:
                continue
            clash: str | None
            if field == "volumes":
                clash = field if (field, name) in added_by else None
            else:
                other = "initContainers" if field == "containers" else "containers"
                clash = other if (other, name) in added_by and (field, name) not in \
                    added_by else None
                if clash and name == PROXY and field == "containers" and native:
                    clash = None  # moved to the init containers, as Istio does
            if clash is None:
                continue
            template = added_by[(clash, name)]
            if field == "volumes":
                why = ("Istio would merge the two into one volume (yours changed, or with two "
                       "sources) and kube-uninject would delete it")
            else:
                why = "the pod would have two containers of that name"
            raise InjectionError(
                f"the pod's {_WHAT[field]} {json.dumps(name)} has the name of the "
                f"{_WHAT[clash]} that the {json.dumps(template)} template adds: {why}; "
                f"rename yours", path=at.spec(field, i))


def _outer_metadata(obj: Mapping[str, Any], pod_path: tuple[str, ...], meta: Mapping[str, Any],
                    ) -> tuple[list[str], Mapping[str, Any]]:
    """Istio labels and annotations on the metadata of an outer template (a CronJob's
    ``spec.jobTemplate.metadata``, where istioctl reads and writes them) never reach the pods:
    a warning each. A ``sidecar.istio.io/inject`` choice found only there still counts, so that
    a workload someone disabled the istioctl way is never injected; the metadata the policy
    reads is returned with it."""
    outer_path = outer_metadata_path(pod_path)
    outer = get_path(obj, outer_path) if outer_path is not None else None
    if outer_path is None or not isinstance(outer, Mapping):
        return [], meta
    warnings = []
    where, pod_where = ".".join(outer_path), ".".join(metadata_path(pod_path))
    found: dict[str, Any] = {}
    for field in ("labels", "annotations"):
        values = outer.get(field)
        if not isinstance(values, Mapping):
            continue
        for key in values:
            if "istio.io/" in str(key):
                warnings.append(f"{field[:-1]} {key} on {where} does not reach the pods; put it "
                                f"on {pod_where}")
        if INJECT in values:
            found[field] = values[INJECT]
    own = [f for f in ("labels", "annotations")
           if isinstance(meta.get(f), Mapping) and INJECT in meta[f]]
    if not found or own:
        return warnings, meta
    policy_meta = dict(meta)
    for field, value in found.items():
        current = meta.get(field)
        policy_meta[field] = {**(current if isinstance(current, Mapping) else {}), INJECT: value}
    return warnings, policy_meta


class _Locator:
    """Paths in the object of the pod's annotations and spec fields, for errors."""

    __slots__ = ("meta_path", "spec_path")

    def __init__(self, meta_path: tuple[str, ...], spec_path: tuple[str, ...]) -> None:
        self.meta_path = meta_path
        self.spec_path = spec_path

    def annotation(self, name: str) -> DocPath:
        return (*self.meta_path, "annotations", name)

    def spec(self, field: str, index: int) -> DocPath:
        return (*self.spec_path, field, index)


def _mesh_with_annotation(value: Any, mesh: Mapping[str, Any], at: _Locator) -> dict[str, Any]:
    path = at.annotation(PROXY_CONFIG)
    try:
        overlay = load_yaml(go_sprint(value), f"annotation {PROXY_CONFIG}")
    except MeshctlError as exc:
        raise InjectionError(f"invalid value for annotation {PROXY_CONFIG}: {exc}",
                             path=path) from None
    if overlay is not None and not isinstance(overlay, Mapping):
        raise InjectionError(f"invalid value for annotation {PROXY_CONFIG}: "
                             "could not parse proxy config: not a mapping", path=path)
    new = dict(mesh)
    new["defaultConfig"] = merge_proxy_config(overlay, mesh.get("defaultConfig") or {})
    return new
