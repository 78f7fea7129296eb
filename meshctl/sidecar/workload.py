"""Where a workload's pod lives inside the object, and who owns it.

Istio injects a pod; a manifest holds a Deployment, a CronJob... The pod template is at the
path :mod:`meshctl.manifests.find` gives; its *metadata* is the pod template's own (see
:func:`metadata_path`; :func:`legacy_metadata_path` finds istioctl's CronJob records). This
module also knows what the templates see as ``.TypeMeta`` and ``.DeploymentMeta``
(:func:`pod_context`), and how to put a new pod back into a copy of the object.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from meshctl.gotemplate.values import go_sprint
from meshctl.records import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final

_CRONJOB_JOB_NAME: Final = re.compile(r"^(.+)-\d{8,10}$")


class PodContext(Frozen):
    """Who the pod belongs to: ``.TypeMeta`` and ``.DeploymentMeta`` of the template data."""

    __slots__ = ("kind", "api_version", "name", "namespace")

    kind: str
    api_version: str
    name: str
    namespace: str


def replace_path(obj: Mapping[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
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


def metadata_path(pod_path: tuple[str, ...]) -> tuple[str, ...]:
    """Where the pod's labels and annotations are read and written: the pod template's own
    ``metadata``, whatever the kind. (istioctl writes a CronJob's pod metadata onto
    ``spec.jobTemplate.metadata``, the Job's, where the pods never see it; meshctl does what the
    webhook does for the pod: docs/istio-config.md.)"""
    return (*pod_path, "metadata")


def outer_metadata_path(pod_path: tuple[str, ...]) -> tuple[str, ...] | None:
    """The metadata of the template that holds the pod template (a CronJob's
    ``spec.jobTemplate.metadata``), or None when the pod template is not nested in another."""
    if len(pod_path) < 4:
        return None
    return (*pod_path[:-2], "metadata")


def legacy_metadata_path(obj: Mapping[str, Any], pod_path: tuple[str, ...],
                         status: str) -> tuple[str, ...] | None:
    """The outer template's metadata when it holds the record of an injection done the old way
    (istioctl's: the ``status`` annotation on ``spec.jobTemplate.metadata``, none on the pod
    template), so that uninject and re-injection clean it up; else None."""
    outer = outer_metadata_path(pod_path)
    if outer is None:
        return None
    if _has_annotation(_get(obj, metadata_path(pod_path)), status):
        return None
    return outer if _has_annotation(_get(obj, outer), status) else None


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _has_annotation(meta: Any, name: str) -> bool:
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    return isinstance(annotations, Mapping) and name in annotations


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
