"""Small helpers over a pod being built (``{"metadata": ..., "spec": ...}``): find a container,
replace one without mutating the lists the caller may share with the user's input."""

from __future__ import annotations

import json
from collections.abc import Mapping

from meshctl.sidecar.names import PROXY

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


def parse_original_probes(value: Any) -> dict[str, Any]:
    """``meshctl/original-probes`` (an empty mapping when it is not a JSON object)."""
    try:
        data = json.loads(str(value))
    except ValueError:
        return {}
    return {k: v for k, v in data.items() if isinstance(v, Mapping)} if isinstance(
        data, Mapping) else {}
