"""Find: which documents carry a pod template, where, and whether it has the shape injection needs.

ONE table maps a kind to the path of its pod template (linkerd keeps the same idea as a table of
path prefixes). The apiVersion does not matter: ``apps/v1``, ``extensions/v1beta1`` and
``apps.openshift.io/v1`` Deployments are found the same way.

Anything else that has ``spec.template.spec.containers`` is reported as an unknown workload and
passed through unchanged (with a warning), never guessed at.

Lists: ``kind: List`` and any ``<Kind>List`` with a top-level ``items`` list (what ``kubectl get
-o yaml`` and the API return) hold objects, handled one by one; items of a ``DeploymentList``
that carry no ``kind`` are Deployments (the API leaves it out).

:func:`check_pod_shape` refuses a workload that Kubernetes would refuse and injection cannot
handle: no pod template, no containers, fields of the wrong type, label and annotation values
that are not strings. A kind that may reference its pod template in another object instead (an
Argo Rollout's ``spec.workloadRef``) is not refused for it: :func:`template_reference`.
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
        if type(cur) is not dict and not isinstance(cur, Mapping):  # dict first: no ABC check
            return None
        cur = cur.get(key)
    return cur


def pod_template_path(obj: Mapping[str, Any]) -> PodPath | None:
    """The pod-template path of a known workload kind, or None."""
    kind = obj.get("kind")
    if not isinstance(kind, str):
        return None
    return POD_TEMPLATE_PATHS.get(kind)


def is_list(obj: Mapping[str, Any]) -> bool:
    """``kind: List`` or ``<Kind>List``, with ``items`` (a list, or null: an empty list)."""
    kind = obj.get("kind")
    return (isinstance(kind, str) and kind.endswith("List") and "items" in obj
            and (kind == "List" or len(kind) > 4))


def list_item_kind(obj: Mapping[str, Any]) -> str | None:
    """The kind of a typed list's items (``Deployment`` for ``DeploymentList``); None for a
    ``List``, whose items say what they are."""
    kind = str(obj.get("kind"))
    return None if kind == "List" else kind[: -len("List")]


def looks_like_workload(obj: Mapping[str, Any]) -> bool:
    """True for an object of a kind we do not know that nevertheless has a pod template."""
    tmpl = get_path(obj, GENERIC_POD_PATH)
    spec = get_path(tmpl, ("spec",))
    return isinstance(spec, Mapping) and isinstance(spec.get("containers"), list)


def needs_parse(chunk: Chunk) -> bool:
    """Whether a document may be a workload (or a list of them) and must be parsed; every other
    document is copied as text once its structure is checked (meshctl.yamltext.check)."""
    if chunk.parse is None:
        chunk.parse = _needs_parse(chunk)
    return chunk.parse


def _needs_parse(chunk: Chunk) -> bool:
    if not chunk.has_content():
        return False
    kind = chunk.kind_hint()
    if kind is None or kind.endswith("List") or kind in POD_TEMPLATE_PATHS:
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


def type_name(value: Any) -> str:
    """``a mapping``, ``a list``, ``a string``... as error messages say it."""
    return _TYPE_NAMES.get(type(value), "null" if value is None else type(value).__name__)


#: kinds that may take their pod template from another object instead of holding one:
#: kind -> the field that references it (Argo Rollouts: ``spec.workloadRef``, a Deployment)
POD_TEMPLATE_REFERENCES: Final[Mapping[str, PodPath]] = {
    "Rollout": ("spec", "workloadRef"),
}


def template_reference(obj: Mapping[str, Any], path: PodPath) -> str | None:
    """How a workload without a pod template at ``path`` names the object that holds it
    (``spec.workloadRef (Deployment web)``); None when it holds its own or names none."""
    ref_path = POD_TEMPLATE_REFERENCES.get(str(obj.get("kind")))
    if ref_path is None or get_path(obj, (*path, "spec", "containers")):
        return None  # holds a pod template of its own (an empty ``template: {}`` is none)
    ref = get_path(obj, ref_path)
    if not isinstance(ref, Mapping):
        return None
    target = " ".join(str(ref[k]) for k in ("kind", "name") if isinstance(ref.get(k), str))
    return _dotted(ref_path) + (f" ({target})" if target else "")


def _dotted(path: PodPath) -> str:
    return ".".join(path) if path else "the object"


def check_pod_shape(obj: Mapping[str, Any], path: PodPath) -> None:
    """Raise InputError, located by its ``path``, when a workload cannot be injected as it is:
    no pod template, no containers, a field injection touches of the wrong type (Istio's typed
    decoding refuses such a pod too), a label or annotation value that is not a string (the API
    server refuses those)."""
    kind = obj.get("kind")
    template = get_path(obj, path) if path else obj
    if path and template is None:
        depth = next(i for i in range(len(path), -1, -1) if get_path(obj, path[:i]) is not None)
        raise InputError(f"{kind} has no pod template ({_dotted(path)})", path=path[:depth])
    if not isinstance(template, dict):
        raise InputError(f"{_dotted(path)} must be a mapping (a pod template), not "
                         f"{type_name(template)}", path=path)
    for rel, want, what in _POD_SHAPE:
        value = get_path(template, rel)
        if value is not None and not isinstance(value, want):
            full = (*path, *rel)
            raise InputError(f"{_dotted(full)} must be {what}, not {type_name(value)}",
                             path=full)
        if rel[-1] in ("containers", "initContainers") and isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, dict):
                    raise InputError(f"{_dotted((*path, *rel))}[{i}] must be a mapping, not "
                                     f"{type_name(item)}", path=(*path, *rel, i))
    spec = template.get("spec")
    containers = spec.get("containers") if isinstance(spec, dict) else None
    if not containers and not (containers == [] and isinstance(spec, dict)
                               and spec.get("initContainers")):
        # (no containers but init containers: a pod whose only container became a native
        # sidecar, as injection writes it; injecting again and un-injecting take it)
        full = (*path, "spec", "containers")
        if isinstance(containers, list):
            state, at = "empty", full
        elif isinstance(spec, dict) and "containers" in spec:
            state, at = "null", full
        else:
            state, at = "missing", (*path, "spec") if spec is not None else path
        raise InputError(f"{_dotted(full)} is {state}: a pod needs at least one container",
                         path=at)
    metadata_paths = [("metadata",), (*path, "metadata")]
    if len(path) >= 4:  # the template that holds the pod template (a CronJob's jobTemplate)
        metadata_paths.insert(1, (*path[:-2], "metadata"))
    for meta_path in dict.fromkeys(metadata_paths):
        check_metadata_values(obj, meta_path)


def check_metadata_values(obj: Mapping[str, Any], meta_path: PodPath) -> None:
    """Label and annotation values are strings (null reads as ""); anything else is refused
    with the quoted form to write instead."""
    meta = get_path(obj, meta_path)
    if not isinstance(meta, Mapping):
        return
    for field in ("labels", "annotations"):
        values = meta.get(field)
        if not isinstance(values, Mapping):
            continue
        for key, value in values.items():
            if value is None or isinstance(value, str):
                continue
            where = (*meta_path, field, key)
            hint = ""
            if isinstance(value, bool):
                hint = f': write "{str(value).lower()}"'
            elif isinstance(value, (int, float)):
                hint = ": write it in quotes"
            raise InputError(f"{field[:-1]} {key} must be a string, not {type_name(value)}"
                             f"{hint}", path=where)
