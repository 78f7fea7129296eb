"""Probe rewriting: app probes and lifecycle hooks pointed at the agent (Istio's
``DumpAppProbers`` and ``applyRewrite``).

HTTP, TCP and gRPC probes (and HTTP/TCP lifecycle hooks) of the app containers are rewritten to
``/app-health/<container>/<kind>`` (``/app-lifecycle/...``) on the agent's status port; their
originals go into the proxy's ``ISTIO_KUBE_APP_PROBERS`` env var, which the agent serves from
and :mod:`meshctl.sidecar.uninject` restores from. Controlled by the annotation
``sidecar.istio.io/rewriteAppHTTPProbers`` and the value
``sidecarInjectorWebhook.rewriteAppHTTPProbe``.

Istio rewrites some probes without recording them: one on a named port the container does not
declare (the agent has nothing to run for it, so the probe fails: a warning says so) and one
already on the agent's port. The pod gets exactly what Istio gives it; their original actions
go into meshctl's record in ``sidecar.istio.io/status`` (``"meshctl": {..., "probes": {...}}``),
so that un-injection restores every probe it rewrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from meshctl.gotemplate.goyaml import go_json_ordered
from meshctl.sidecar.config.meshconfig import status_port
from meshctl.sidecar.names import (
    APP_PROBERS_ENV,
    PROXY,
    REWRITE_PROBES,
    STATUS,
    STATUS_PORT,
)
from meshctl.sidecar.pod import (
    containers,
    parse_bool,
    recorded_probes,
    sidecar_location,
    update_container,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final

    from meshctl.sidecar.pod import Pod


def should_rewrite_probes(annotations: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    if REWRITE_PROBES in annotations:
        parsed = parse_bool(annotations[REWRITE_PROBES])
        if parsed is not None:
            return parsed
    hook = values.get("sidecarInjectorWebhook")
    setting = hook.get("rewriteAppHTTPProbe") if isinstance(hook, Mapping) else None
    return bool(parse_bool(setting)) if setting is not None else False


def _prober(probe: Any, lifecycle: bool = False) -> dict[str, Any] | None:
    """``kubeProbeToInternalProber``: the action (and timeout) the agent will run."""
    if not isinstance(probe, Mapping):
        return None
    for key in ("httpGet", "tcpSocket") if lifecycle else ("httpGet", "tcpSocket", "grpc"):
        action = probe.get(key)
        if isinstance(action, Mapping):
            out: dict[str, Any] = {key: dict(action)}
            timeout = probe.get("timeoutSeconds")
            if not lifecycle and timeout:
                out["timeoutSeconds"] = timeout
            return out
    return None


def _resolve_named_port(prober: dict[str, Any] | None, ports: Mapping[str, Any],
                        target: int) -> dict[str, Any] | None:
    if prober is None:
        return None
    if "grpc" in prober:
        return prober
    key = "httpGet" if "httpGet" in prober else "tcpSocket"
    action = prober[key]
    port = action.get("port")
    if isinstance(port, str):  # a named port (Go's IntOrString keeps "8080" a name, too)
        if port not in ports:
            return None
        action["port"] = ports[port]
    elif _as_int(port) == target:
        return None
    return prober


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_ACTION_ORDER: Final = {
    "httpGet": ("path", "port", "host", "scheme", "httpHeaders"),
    "tcpSocket": ("port", "host"),
    "grpc": ("port", "service"),
}


def _prober_json(prober: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("httpGet", "tcpSocket", "grpc"):
        action = prober.get(key)
        if not isinstance(action, Mapping):
            continue
        typed: dict[str, Any] = {}
        for field in _ACTION_ORDER[key]:
            value = action.get(field)
            if field == "port" or (key == "grpc" and field == "service"):
                typed[field] = value if field != "port" or value is not None else 0
            elif value not in (None, "", []):
                typed[field] = value
        out[key] = typed
    if prober.get("timeoutSeconds"):
        out["timeoutSeconds"] = prober["timeoutSeconds"]
    return out


def dump_app_probers(pod: Mapping[str, Any], target: int) -> str:
    """``DumpAppProbers``: the JSON of ``ISTIO_KUBE_APP_PROBERS`` ("" when there is none)."""
    out: dict[str, Any] = {}
    for c in [*containers(pod, "initContainers"), *containers(pod, "containers")]:
        if not isinstance(c, Mapping) or c.get("name") == PROXY:
            continue
        name = c.get("name")
        ports = {p["name"]: p.get("containerPort") for p in c.get("ports") or []
                 if isinstance(p, Mapping) and p.get("name")}
        for kind, probe in (("readyz", c.get("readinessProbe")),
                            ("livez", c.get("livenessProbe")),
                            ("startupz", c.get("startupProbe"))):
            p = _resolve_named_port(_prober(probe), ports, target)
            if p is not None:
                out[f"/app-health/{name}/{kind}"] = _prober_json(p)
        lifecycle = c.get("lifecycle")
        if isinstance(lifecycle, Mapping):
            for kind, hook in (("prestopz", lifecycle.get("preStop")),
                               ("poststartz", lifecycle.get("postStart"))):
                p = _resolve_named_port(_prober(hook, lifecycle=True), ports, target)
                if p is not None:
                    out[f"/app-lifecycle/{name}/{kind}"] = _prober_json(p)
    if not out:
        return ""
    return go_json_ordered({k: out[k] for k in sorted(out)})


def _merge_probers(previously_injected: bool, env: list[Any], probers: str) -> list[Any]:
    entry = {"name": APP_PROBERS_ENV, "value": probers}
    if not previously_injected:
        return [*env, entry]
    for i, e in enumerate(env):
        if isinstance(e, Mapping) and e.get("name") == APP_PROBERS_ENV:
            try:
                existing = json.loads(str(e.get("value")))
                new = json.loads(probers)
            except ValueError:
                return env
            if not isinstance(existing, dict) or not isinstance(new, dict):
                return env
            new.update(existing)
            env = list(env)
            env[i] = {"name": APP_PROBERS_ENV,
                      "value": go_json_ordered({k: new[k] for k in sorted(new)})}
            return env
    return [*env, entry]


def _rewrite_action(action: Mapping[str, Any] | None, path: str, port: int) -> dict[str, Any]:
    new = dict(action or {})
    new["port"] = port
    new["path"] = path
    if new.get("scheme") == "HTTPS":
        new["scheme"] = "HTTP"
    return new


def _convert(probe: Any, path: str, port: int, lifecycle: bool = False) -> Any:
    if not isinstance(probe, Mapping):
        return None
    if isinstance(probe.get("httpGet"), Mapping):
        new = dict(probe)
        new["httpGet"] = _rewrite_action(probe["httpGet"], path, port)
        return new
    kinds = ("tcpSocket",) if lifecycle else ("tcpSocket", "grpc")
    for key in kinds:
        if isinstance(probe.get(key), Mapping):
            new = {k: v for k, v in probe.items() if k != key}
            new["httpGet"] = _rewrite_action(None, path, port)
            return new
    return None


_PROBE_KINDS: Final = (("readinessProbe", "readyz"), ("livenessProbe", "livez"),
                       ("startupProbe", "startupz"))
_HOOK_KINDS: Final = (("preStop", "prestopz"), ("postStart", "poststartz"))


def _convert_container(c: Mapping[str, Any], port: int) -> dict[str, Any] | None:
    name = c.get("name")
    changed: dict[str, Any] = {}
    for field, kind in _PROBE_KINDS:
        new = _convert(c.get(field), f"/app-health/{name}/{kind}", port)
        if new is not None:
            changed[field] = new
    lifecycle = c.get("lifecycle")
    if isinstance(lifecycle, Mapping):
        new_lifecycle = dict(lifecycle)
        touched = False
        for field, kind in _HOOK_KINDS:
            new = _convert(lifecycle.get(field), f"/app-lifecycle/{name}/{kind}", port, True)
            if new is not None:
                new_lifecycle[field] = new
                touched = True
        if touched:
            changed["lifecycle"] = new_lifecycle
    if not changed:
        return None
    return {**c, **changed}


def _rewritten(c: Mapping[str, Any], port: int) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """Every probe and hook of ``c`` that :func:`_convert_container` rewrites: its key in
    ``ISTIO_KUBE_APP_PROBERS``, its field and the probe (or hook) itself."""
    name = c.get("name")
    for field, kind in _PROBE_KINDS:
        probe = c.get(field)
        path = f"/app-health/{name}/{kind}"
        if isinstance(probe, Mapping) and _convert(probe, path, port) is not None:
            yield path, field, probe
    lifecycle = c.get("lifecycle")
    if isinstance(lifecycle, Mapping):
        for field, kind in _HOOK_KINDS:
            hook = lifecycle.get(field)
            path = f"/app-lifecycle/{name}/{kind}"
            if isinstance(hook, Mapping) and _convert(hook, path, port, True) is not None:
                yield path, field, hook


def _actions(probe: Mapping[str, Any]) -> dict[str, Any]:
    return {k: probe[k] for k in ("httpGet", "tcpSocket", "grpc") if k in probe}


def _unrecorded(pod: Pod, port: int, probers: str, previous: Mapping[str, Any],
                ) -> tuple[dict[str, Any], list[str]]:
    """The original actions of the probes and hooks Istio rewrites without recording them in
    ``ISTIO_KUBE_APP_PROBERS`` (``probers``), and a warning for each one that names a port its
    container does not declare."""
    recorded = set(json.loads(probers)) if probers else set()
    originals: dict[str, Any] = {}
    warnings: list[str] = []
    for f in ("containers", "initContainers"):
        for c in containers(pod, f):
            if not isinstance(c, Mapping) or c.get("name") == PROXY:
                continue
            declared = {p.get("name") for p in c.get("ports") or [] if isinstance(p, Mapping)}
            for key, field, probe in _rewritten(c, port):
                if key in recorded:
                    continue
                if key in previous:  # recorded at a previous injection (merge)
                    originals[key] = previous[key]
                    continue
                actions = _actions(probe)
                action = next(iter(actions.values()), None)
                if (isinstance(action, Mapping) and action.get("path") == key
                        and _as_int(action.get("port")) == port):
                    continue  # already pointing at the agent: nothing to restore
                originals[key] = actions
                named = action.get("port") if isinstance(action, Mapping) else None
                if isinstance(named, str) and named not in declared:
                    warnings.append(
                        f"container {json.dumps(c.get('name'))}: {field} names port "
                        f"{json.dumps(named)}, which the container does not declare; Istio "
                        "points it at the agent, which cannot run it: the probe will fail")
    return originals, warnings


def apply_rewrite(pod: Pod, mesh: Mapping[str, Any], values: Mapping[str, Any],
                  ) -> tuple[dict[str, Any], list[str]]:
    """Rewrite the probes of ``pod``; the original actions of those Istio does not record (for
    meshctl's record, :data:`~meshctl.sidecar.names.PROVENANCE_PROBES`) and the warnings."""
    field, i = sidecar_location(pod)
    if i < 0:
        return {}, []
    annotations: dict[str, Any] = pod["metadata"]["annotations"]
    if not should_rewrite_probes(annotations, values):
        return {}, []
    default_port = status_port(mesh)
    probers = dump_app_probers(pod, default_port)
    if probers:
        proxy = dict(containers(pod, field)[i])
        proxy["env"] = _merge_probers(STATUS in annotations,
                                      list(proxy.get("env") or []), probers)
        update_container(pod, field, i, proxy)
    port = default_port
    if STATUS_PORT in annotations:
        port = _as_int(annotations[STATUS_PORT]) or 0
    previous = recorded_probes(annotations.get(STATUS, "{}"))
    originals, warnings = _unrecorded(pod, port, probers, previous)
    for f in ("containers", "initContainers"):
        items = containers(pod, f)
        new_items = list(items)
        touched = False
        for j, c in enumerate(items):
            if not isinstance(c, Mapping) or c.get("name") == PROXY:
                continue
            converted = _convert_container(c, port)
            if converted is not None:
                new_items[j] = converted
                touched = True
        if touched:
            pod["spec"] = {**pod["spec"], f: new_items}
    return {k: originals[k] for k in sorted(originals)}, warnings
