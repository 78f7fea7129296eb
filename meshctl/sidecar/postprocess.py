"""Post-process: what Istio does to the merged pod after its templates (``injectPod``).

In order, as ``reapplyOverwrittenContainers`` and ``postProcessPod`` do:

1. containers the user declared with a template's name (usually ``istio-proxy``) are merged back
   over the result, so the user's fields win; they are recorded in ``proxy.istio.io/overrides``
   for the next re-injection; the init container's uid follows the user's ``runAsUser``;
2. cluster and network env vars of the proxy are set from the values (and the
   ``topology.istio.io/network`` label);
3. Prometheus annotations are moved into ``ISTIO_PROMETHEUS_ANNOTATIONS`` and pointed at the agent
   (``prometheus.istio.io/merge-metrics``, mesh ``enablePrometheusMerge``);
4. HTTP/TCP/gRPC probes and lifecycle hooks of the app are rewritten to the agent's status port,
   their originals kept in ``ISTIO_KUBE_APP_PROBERS`` (``sidecar.istio.io/rewriteAppHTTPProbers``);
5. ``sidecar.istio.io/status`` records what the templates added;
6. containers are ordered: the proxy last (first with ``holdApplicationUntilProxyStarts``); for a
   native sidecar ``istio-init``/``istio-validation``, then the proxy, then the rest; otherwise
   ``istio-validation`` first and ``istio-init`` last.

Every function takes the pod being built (``{"metadata":..., "spec":...}``, whose own top-level
dicts and ``annotations``/``labels`` maps the caller owns) and replaces, never mutates, the
containers and lists it changes: those may still be shared with the user's input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from meshctl.gotemplate.goyaml import go_json_ordered
from meshctl.gotemplate.types import go_struct_json
from meshctl.sidecar.config.meshconfig import hold_application, interception_mode, status_port
from meshctl.sidecar.kubetypes import CONTAINER
from meshctl.sidecar.merge import strategic_merge
from meshctl.sidecar.names import (
    CORE_DUMP,
    INIT,
    INTERCEPTION_MODE,
    MERGE_METRICS,
    NETWORK,
    OVERRIDES,
    PROMETHEUS_ENV,
    PROVENANCE,
    PROXY,
    SECURE_METRICS_PORT,
    STATUS,
    VALIDATION,
)
from meshctl.sidecar.pod import (
    containers,
    find,
    find_in_pod,
    parse_bool,
    sidecar_location,
    update_container,
)
from meshctl.sidecar.quantity import canonical_quantity, respelt_resources

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final

    from meshctl.sidecar.pod import Pod

AUTO_IMAGE: Final = "auto"


_PROM_SCRAPE: Final = "prometheus_io_scrape"
_PROM_PORT: Final = "prometheus_io_port"
_PROM_PATH: Final = "prometheus_io_path"
_PROM_TARGETS: Final = "prometheus_istio_io_scrape_targets"
_PROM_SECURE_PORT: Final = "prometheus_istio_io_secure_port"
_PROM_ALL: Final = frozenset({_PROM_SCRAPE, _PROM_PORT, _PROM_PATH, _PROM_TARGETS})
_INVALID_LABEL_CHARS: Final = re.compile(r"[^a-zA-Z0-9_]")

#: Data-plane ports a metrics-merge target must not point at (pilot-agent's list).
RESERVED_PORTS: Final[Mapping[str, str]] = {
    "15000": "Envoy admin",
    "15001": "outbound traffic capture",
    "15004": "pilot debug",
    "15006": "inbound traffic capture",
    "15008": "HBONE tunnel",
    "15020": "pilot-agent status / merged Prometheus",
    "15021": "Envoy health",
    "15053": "DNS proxy",
    "15090": "Envoy Prometheus (already merged)",
}

class PostProcessError(ValueError):
    """A pod Istio refuses (e.g. a Prometheus port pointing at the agent); ``annotation``
    names the annotation at fault, if one is."""

    def __init__(self, message: str, annotation: str | None = None) -> None:
        super().__init__(message)
        self.annotation = annotation


def sanitize_label_name(name: str) -> str:
    """Prometheus' ``SanitizeLabelName``: ``prometheus.io/port`` -> ``prometheus_io_port``."""
    return _INVALID_LABEL_CHARS.sub("_", name)

def typed_container(container: Mapping[str, Any]) -> dict[str, Any]:
    """A container as Go writes it: empty fields left out (``omitempty``)."""
    return {k: v for k, v in container.items()
            if k == "name" or not (v is None or v == "" or v is False or v == []
                                   or (v == 0 and not isinstance(v, bool)))}


# --------------------------------------------------------------------------------------------
# 1. user's containers win


def parse_status(value: Any) -> dict[str, list[str]]:
    """Container and volume names recorded in a ``sidecar.istio.io/status`` annotation."""
    fields = ("containers", "initContainers", "volumes")
    try:
        data = json.loads(str(value))
    except ValueError:
        data = None
    if not isinstance(data, Mapping):
        return {k: [] for k in fields}
    return {k: [str(n) for n in data.get(k) or [] if isinstance(n, str)] for k in fields}


def parse_overrides(value: Any) -> dict[str, list[Mapping[str, Any]]]:
    """``proxy.istio.io/overrides``; raises ValueError when it is not valid JSON."""
    data = json.loads(str(value))
    if not isinstance(data, Mapping):
        raise ValueError("proxy.istio.io/overrides must be a JSON object")
    return {k: [c for c in data.get(k) or [] if isinstance(c, Mapping)]
            for k in ("containers", "initContainers")}


def reapply_overwritten_containers(final: Pod, original: Mapping[str, Any],
                                   template: Mapping[str, Any], mesh: Mapping[str, Any]) -> Pod:
    annotations = (original.get("metadata") or {}).get("annotations") or {}
    existing: dict[str, list[Mapping[str, Any]]] = {"containers": [], "initContainers": []}
    if OVERRIDES in annotations:
        existing = parse_overrides(annotations[OVERRIDES])
    already = STATUS in annotations
    status = parse_status(annotations[STATUS]) if already else {
        "containers": [], "initContainers": []}
    overrides: dict[str, list[dict[str, Any]]] = {"containers": [], "initContainers": []}
    for field in ("containers", "initContainers"):
        for c in containers(template, field):
            name = c.get("name") if isinstance(c, Mapping) else None
            if name is None:
                continue
            idx = find(name, list(existing[field]))
            match: Mapping[str, Any] | None = existing[field][idx] if idx >= 0 else None
            if name in status[field]:
                # Istio lets the new template win over what it injected before. meshctl also
                # re-applies the overrides recorded at the first injection, so that injecting
                # again gives the same pod (Istio forgets them on its second pass).
                if match is not None:
                    overlay = typed_container(match)
                    current = find_in_pod(name, original)
                    if "resources" in overlay and current is not None:
                        # the user's own spelling of the quantities is still in the pod
                        overlay["resources"] = respelt_resources(overlay["resources"],
                                                                 current.get("resources"))
                    final = strategic_merge(final, {"spec": {field: [overlay]}})
                continue
            if match is None:
                if field == "containers":
                    items = containers(original, "containers")
                    i = find(name, items)
                    match = items[i] if i >= 0 else None
                else:
                    match = find_in_pod(name, original)
            if match is None:
                continue
            overlay = typed_container(match)
            if overlay.get("image") == AUTO_IMAGE:
                del overlay["image"]
            overrides[field].append(overlay)
            patch: dict[str, Any] = {field: [overlay]}
            final = strategic_merge(final, {"spec": patch})
    if not already and (overrides["containers"] or overrides["initContainers"]):
        meta = final["metadata"] = dict(final.get("metadata") or {})
        meta["annotations"] = dict(meta.get("annotations") or {})
        meta["annotations"][OVERRIDES] = overrides_json(overrides)
    user = find_in_pod(PROXY, original)
    if already:
        # after an injection, the pod's proxy is Istio's; the user's own is the recorded one
        for field in ("containers", "initContainers"):
            i = find(PROXY, list(existing[field]))
            if i >= 0:
                user = existing[field][i]
                break
    return adjust_init_container_user(final, user, mesh)


def overrides_json(overrides: Mapping[str, list[dict[str, Any]]]) -> str:
    """The annotation as Go writes it: typed containers, canonical quantities."""
    out: dict[str, Any] = {}
    for field in ("containers", "initContainers"):
        if overrides[field]:
            out[field] = [_typed_json(c) for c in overrides[field]]
    return go_json_ordered(out)


def _typed_json(container: Mapping[str, Any]) -> Any:
    data = dict(go_struct_json(container, CONTAINER))
    resources = data.get("resources")
    if isinstance(resources, Mapping):
        data["resources"] = {
            k: ({q: canonical_quantity(v[q]) for q in sorted(v)} if isinstance(v, Mapping) else v)
            for k, v in resources.items()
        }
    return data


def adjust_init_container_user(final: Pod, user: Mapping[str, Any] | None,
                               mesh: Mapping[str, Any]) -> Pod:
    """Make the init/validation container follow the user's ``runAsUser``/``runAsGroup``
    (``user`` is the user's own ``istio-proxy`` container, if any)."""
    if user is None:
        return final
    sc = user.get("securityContext")
    if not isinstance(sc, Mapping) or (sc.get("runAsUser") is None
                                       and sc.get("runAsGroup") is None):
        return final
    inits = containers(final, "initContainers")
    index = -1
    for name in (INIT, VALIDATION):
        index = find(name, inits)
        if index >= 0:
            break
    if index < 0:
        return final
    init = dict(inits[index])
    annotations = (final.get("metadata") or {}).get("annotations") or {}
    tproxy = interception_mode(mesh) == "TPROXY" or annotations.get(INTERCEPTION_MODE) == \
        "TPROXY"
    if tproxy and sc.get("runAsUser") is not None:
        field, i = sidecar_location(final)
        if i >= 0:
            proxy = dict(containers(final, field)[i])
            psc = dict(proxy.get("securityContext") or {})
            psc["runAsUser"] = 0
            proxy["securityContext"] = psc
            update_container(final, field, i, proxy)
            inits = containers(final, "initContainers")
    if not tproxy and init.get("name") == VALIDATION:
        isc = dict(init.get("securityContext") or {})
        if sc.get("runAsUser") is not None:
            isc["runAsUser"] = sc["runAsUser"]
        if sc.get("runAsGroup") is not None:
            isc["runAsGroup"] = sc["runAsGroup"]
        init["securityContext"] = isc
    uid = sc.get("runAsUser")
    if uid is not None and uid != 0:
        args = list(init.get("args") or [])
        for i, arg in enumerate(args):
            if arg == "-u" and i + 1 < len(args):
                args[i + 1] = str(uid)
                init["args"] = args
                break
    update_container(final, "initContainers", index, init)
    return final


# --------------------------------------------------------------------------------------------
# 2. cluster/network env


def overwrite_cluster_info(pod: Pod, proxy_envs: Mapping[str, str]) -> None:
    if not proxy_envs:
        return
    field, i = sidecar_location(pod)
    if i < 0:
        return
    proxy = dict(containers(pod, field)[i])
    env = [e for e in proxy.get("env") or [] if not (isinstance(e, Mapping)
                                                       and e.get("name") in proxy_envs)]
    env.extend({"name": k, "value": proxy_envs[k]} for k in sorted(proxy_envs))
    proxy["env"] = env
    update_container(pod, field, i, proxy)


# --------------------------------------------------------------------------------------------
# 3. Prometheus


def _prometheus_scrape(annotations: Mapping[str, Any]) -> bool:
    for key, value in annotations.items():
        if sanitize_label_name(key) == _PROM_SCRAPE:
            parsed = parse_bool(value)
            if parsed is not None:
                return parsed
    return True


def _merge_enabled(mesh: Mapping[str, Any], annotations: Mapping[str, Any]) -> bool:
    if MERGE_METRICS in annotations:
        parsed = parse_bool(annotations[MERGE_METRICS])
        if parsed is not None:
            return parsed
    value = mesh.get("enablePrometheusMerge")
    if value is not None:
        return bool(parse_bool(value)) if not isinstance(value, bool) else value
    return True


def prometheus_port(annotations: Mapping[str, Any]) -> str | None:
    for key, value in annotations.items():
        if sanitize_label_name(key) == _PROM_PORT:
            return str(value)
    return None


def clear_prometheus_annotations(annotations: dict[str, Any]) -> None:
    for key in [k for k in annotations if sanitize_label_name(k) in _PROM_ALL]:
        del annotations[key]


def _scrape_targets(raw: str) -> list[dict[str, str]] | None:
    targets: list[dict[str, str]] = []
    for entry in raw.split(","):
        entry = entry.strip()
        if not entry:
            continue
        port, _, path = entry.partition(":")
        port = port.strip()
        if not port:
            return None
        targets.append({"port": port, "path": path.strip() or "/metrics"})
    return targets


def _check_port(port: str, target: str, *, targets: bool, annotation: str) -> None:
    """The checks of ``applyPrometheusMerge`` on a port the agent would scrape."""
    what, name = ("targets", "target port") if targets else ("configuration", "port")
    try:
        number = int(port)
    except ValueError:
        number = 0
    if not 1 <= number <= 65535:
        raise PostProcessError(f"invalid prometheus scrape {what}: invalid {name} "
                               f"{json.dumps(port)}", annotation)
    canon = str(number)
    if canon == target:
        raise PostProcessError(
            f"invalid prometheus scrape {what}: {name} {port} conflicts with agent port",
            annotation)
    if canon in RESERVED_PORTS:
        raise PostProcessError(
            f"invalid prometheus scrape {what}: {name} {port} is reserved for Istio "
            f"({RESERVED_PORTS[canon]}) and cannot be scraped", annotation)


def apply_prometheus_merge(pod: Pod, mesh: Mapping[str, Any]) -> None:
    annotations: dict[str, Any] = pod["metadata"]["annotations"]
    if not (_prometheus_scrape(annotations) and _merge_enabled(mesh, annotations)):
        return
    target = str(status_port(mesh))
    if prometheus_port(annotations) == target:
        return
    scrape: dict[str, Any] = {"scrape": "", "path": "", "port": ""}
    port_key = targets_key = ""
    for key, value in annotations.items():
        name = sanitize_label_name(key)
        if name == _PROM_PORT:
            scrape["port"] = str(value)
            port_key = key
        elif name == _PROM_SCRAPE:
            scrape["scrape"] = str(value)
        elif name == _PROM_PATH:
            scrape["path"] = str(value)
        elif name == _PROM_TARGETS:
            targets = _scrape_targets(str(value))
            targets_key = key
            if targets:
                scrape["targets"] = targets
    if scrape.get("targets"):
        scrape["port"] = scrape["targets"][0]["port"]
        scrape["path"] = scrape["targets"][0]["path"]
        for t in scrape["targets"]:
            _check_port(t["port"], target, targets=True, annotation=targets_key)
    elif scrape["port"]:
        _check_port(scrape["port"], target, targets=False, annotation=port_key)
    field, i = sidecar_location(pod)
    if i >= 0 and any(scrape.get(k) for k in ("scrape", "path", "port", "targets")):
        proxy = dict(containers(pod, field)[i])
        proxy["env"] = [*(proxy.get("env") or []),
                        {"name": PROMETHEUS_ENV, "value": go_json_ordered(scrape)}]
        update_container(pod, field, i, proxy)
    clear_prometheus_annotations(annotations)
    annotations["prometheus.io/port"] = target
    annotations["prometheus.io/path"] = "/stats/prometheus"
    annotations["prometheus.io/scrape"] = "true"


def apply_secure_prometheus_annotation(pod: Pod) -> None:
    annotations: dict[str, Any] = pod["metadata"]["annotations"]
    if any(sanitize_label_name(k) == _PROM_SECURE_PORT for k in annotations):
        return
    field, i = sidecar_location(pod)
    if i < 0:
        return
    for env in containers(pod, field)[i].get("env") or ():
        if isinstance(env, Mapping) and env.get("name") == "ENVOY_SECURE_MERGED_METRICS_PORT":
            value = env.get("value")
            if value not in (None, "", "0"):
                annotations[SECURE_METRICS_PORT] = value
                return


# --------------------------------------------------------------------------------------------
# 5. status annotation, 6. order


def injection_status(template: Mapping[str, Any], revision: str,
                     provenance: Mapping[str, Any] | None = None) -> str:
    """``sidecar.istio.io/status``: names of what the templates added, and meshctl's provenance
    record (Istio reads the fields it knows and ignores this one)."""
    spec = template.get("spec") or {}

    def names(field: str) -> list[str] | None:
        items = [c.get("name") for c in spec.get(field) or [] if isinstance(c, Mapping)]
        return [n if n is not None else "" for n in items] or None

    status: dict[str, Any] = {
        "initContainers": names("initContainers"),
        "containers": names("containers"),
        "volumes": names("volumes"),
        "imagePullSecrets": names("imagePullSecrets"),
        "revision": revision or "default",
    }
    if provenance:
        status[PROVENANCE] = dict(provenance)
    return go_json_ordered(status)


def apply_metadata(pod: Pod, template: Mapping[str, Any], revision: str,
                   proxy_envs: Mapping[str, str], injected: Mapping[str, str],
                   provenance: Mapping[str, Any] | None = None) -> None:
    if "ISTIO_META_NETWORK" in proxy_envs:
        pod["metadata"]["labels"][NETWORK] = proxy_envs["ISTIO_META_NETWORK"]
    annotations = pod["metadata"]["annotations"]
    annotations[STATUS] = injection_status(template, revision, provenance)
    annotations.update(injected)


def _move(items: list[Any], name: str, first: bool) -> list[Any]:
    i = find(name, items)
    if i < 0:
        return items
    rest = [c for c in items if not (isinstance(c, Mapping) and c.get("name") == name)]
    return [items[i], *rest] if first else [*rest, items[i]]


def reorder(pod: Pod, mesh: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    glob = values.get("global")
    proxy_values = glob.get("proxy") if isinstance(glob, Mapping) else None
    hold_value = proxy_values.get("holdApplicationUntilProxyStarts") if isinstance(
        proxy_values, Mapping) else None
    hold = hold_application(mesh) or (hold_value is not None and bool(parse_bool(hold_value)))
    spec = dict(pod["spec"])
    if isinstance(spec.get("containers"), list):
        spec["containers"] = _move(spec["containers"], PROXY, first=hold)
    inits = spec.get("initContainers")
    if isinstance(inits, list):
        if find(PROXY, inits) >= 0:
            for name in (CORE_DUMP, PROXY, VALIDATION, INIT):
                inits = _move(inits, name, first=True)
        else:
            inits = _move(inits, VALIDATION, first=True)
            inits = _move(inits, INIT, first=False)
            inits = _move(inits, CORE_DUMP, first=False)
        spec["initContainers"] = inits
    pod["spec"] = spec
