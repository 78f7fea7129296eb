"""Small helpers over a pod being built (``{"metadata": ..., "spec": ...}``): find a container,
replace one without mutating the lists the caller may share with the user's input."""

from __future__ import annotations

import json
from collections.abc import Mapping

from meshctl.sidecar.names import PROVENANCE, PROVENANCE_PROBES, PROXY

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any
    Pod = dict[str, Any]


def containers(pod: Mapping[str, Any], field: str) -> list[Any]:
    spec = pod.get("spec") or {}
    value = spec.get(field) if isinstance(spec, Mapping) else None
    return value if isinstance(value, list) else []


def find(name: str, items: list[Any]) -> int:
    for i, c in enumerate(items):
        if isinstance(c, Mapping) and c.get("name") == name:
            return i
    return -1


def find_in_pod(name: str, pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """``FindContainerFromPod``: containers first, then init containers."""
    for field in ("containers", "initContainers"):
        items = containers(pod, field)
        i = find(name, items)
        if i >= 0:
            item: Mapping[str, Any] = items[i]
            return item
    return None


def sidecar_location(pod: Mapping[str, Any]) -> tuple[str, int]:
    for field in ("containers", "initContainers"):
        i = find(PROXY, containers(pod, field))
        if i >= 0:
            return field, i
    return "", -1


def update_container(pod: Pod, field: str, index: int, container: dict[str, Any]) -> None:
    items = list(containers(pod, field))
    items[index] = container
    spec = pod["spec"] = dict(pod["spec"])
    spec[field] = items




def parse_bool(value: Any) -> bool | None:
    """Go's ``strconv.ParseBool``."""
    if isinstance(value, bool):
        return value
    text = str(value)
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


def recorded_probes(status: Any) -> dict[str, Any]:
    """The probes meshctl's record in a ``sidecar.istio.io/status`` value keeps (see
    :data:`meshctl.sidecar.names.PROVENANCE_PROBES`); empty when there are none."""
    if not isinstance(status, Mapping):
        try:
            status = json.loads(str(status))
        except ValueError:
            return {}
    record = status.get(PROVENANCE) if isinstance(status, Mapping) else None
    probes = record.get(PROVENANCE_PROBES) if isinstance(record, Mapping) else None
    return {k: v for k, v in probes.items() if isinstance(v, Mapping)} if isinstance(
        probes, Mapping) else {}
