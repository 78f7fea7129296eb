"""Find: which documents carry a pod template, and where.

ONE table maps a kind to the path of its pod template (linkerd keeps the same idea as a table of
path prefixes). The apiVersion does not matter: ``apps/v1``, ``extensions/v1beta1`` and
``apps.openshift.io/v1`` Deployments are found the same way.

Anything else that has ``spec.template.spec.containers`` is reported as an unknown workload and
passed through unchanged (with a warning), never guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

PodPath = tuple[str, ...]

#: kind -> path from the object root to the pod template (``metadata`` + ``spec``).
#: An empty path means the object is the pod itself.
POD_TEMPLATE_PATHS: Final[Mapping[str, PodPath]] = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "DeploymentConfig": ("spec", "template"),  # OpenShift
    "Rollout": ("spec", "template"),  # Argo Rollouts
}

#: Generic detection for kinds we do not know: a pod template at the usual place.
GENERIC_POD_PATH: Final[PodPath] = ("spec", "template")


def get_path(obj: Any, path: PodPath) -> Any:
    """Return ``obj`` at ``path`` or None when any step is missing or not a mapping."""
    cur = obj
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def pod_template_path(obj: Mapping[str, Any]) -> PodPath | None:
    """The pod-template path of a known workload kind, or None."""
    kind = obj.get("kind")
    if not isinstance(kind, str):
        return None
    return POD_TEMPLATE_PATHS.get(kind)


def looks_like_workload(obj: Mapping[str, Any]) -> bool:
    """True for an object of a kind we do not know that nevertheless has a pod template."""
    tmpl = get_path(obj, GENERIC_POD_PATH)
    spec = get_path(tmpl, ("spec",))
    return isinstance(spec, Mapping) and isinstance(spec.get("containers"), list)
