"""Find: which documents carry a pod template, where, and whether it has the shape injection needs.

ONE table maps a kind to the path of its pod template (linkerd keeps the same idea as a table of
path prefixes). The apiVersion does not matter: ``apps/v1``, ``extensions/v1beta1`` and
``apps.openshift.io/v1`` Deployments are found the same way.

Anything else that has ``spec.template.spec.containers`` is reported as an unknown workload and
passed through unchanged (with a warning), never guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping

from meshctl.errors import InputError
from meshctl.manifests.read import Chunk

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
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


def needs_parse(chunk: Chunk) -> bool:
    """Whether a document may be a workload (or a ``List`` of them) and must be parsed; every
    other document is copied as text (libyaml has checked its syntax already)."""
    if not chunk.has_content():
        return False
    kind = chunk.kind_hint()
    if kind is None or kind == "List" or kind in POD_TEMPLATE_PATHS:
        return True
    # an unknown kind may still carry a pod template; it cannot without a containers key
    return "containers" in chunk.text


def object_ref(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    """``(kind, namespace, name)`` for the report; namespace ``default`` when none is given."""
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    name = meta.get("name") or meta.get("generateName") or "<unnamed>"
    namespace = meta.get("namespace") or "default"
    return str(obj.get("kind") or "<nokind>"), str(namespace), str(name)


#: fields of a pod template that injection reads or writes, and the shape they must have
_POD_SHAPE: Final[tuple[tuple[tuple[str, ...], type, str], ...]] = (
    (("metadata",), dict, "a mapping"),
    (("metadata", "labels"), dict, "a mapping"),
    (("metadata", "annotations"), dict, "a mapping"),
    (("spec",), dict, "a mapping"),
    (("spec", "containers"), list, "a list"),
    (("spec", "initContainers"), list, "a list"),
    (("spec", "volumes"), list, "a list"),
    (("spec", "imagePullSecrets"), list, "a list"),
)
_TYPE_NAMES: Final = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
                      int: "a number", float: "a number"}  # fmt: skip


def check_pod_shape(obj: Mapping[str, Any], path: PodPath) -> None:
    """Raise InputError, located by its ``path``, when a field injection touches has the wrong
    type (Istio's typed decoding refuses such a pod too)."""
    template = get_path(obj, path) if path else obj
    if template is None or not isinstance(template, dict):
        return
    for rel, want, what in _POD_SHAPE:
        value = get_path(template, rel)
        if value is not None and not isinstance(value, want):
            full = (*path, *rel)
            found = _TYPE_NAMES.get(type(value), "that")
            raise InputError(f"{'.'.join(full)} must be {what}, not {found}", path=full)
        if rel[-1] in ("containers", "initContainers") and isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, dict):
                    raise InputError(f"{'.'.join((*path, *rel))}[{i}] must be a mapping",
                                     path=(*path, *rel, i))
