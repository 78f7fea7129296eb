"""Un-injection: take a previous injection out of a pod, driven by ``sidecar.istio.io/status``.

The status annotation names what the templates added (init containers, containers, volumes,
image pull secrets). Those are removed, and what the post-processing rewrote is put back:

* app probes and lifecycle hooks get their original action back from ``ISTIO_KUBE_APP_PROBERS``
  (and from meshctl's record in the status annotation, for those Istio rewrites without
  recording them there);
* Prometheus annotations get their original values back from ``ISTIO_PROMETHEUS_ANNOTATIONS``
  (or are removed when they only point at the agent);
* containers the user had customized (``proxy.istio.io/overrides``) are restored: ``istio-proxy``
  into ``containers`` (where a user declares it), others where they were recorded;
* the metadata Istio's templates write is removed: ``istio.io/rev``, the default-container
  annotations when they name the first app container, the labels ``security.istio.io/tlsMode``,
  ``service.istio.io/canonical-*``, ``topology.istio.io/network``,
  ``networking.istio.io/tunnel``, and in CNI mode (an ``istio-validation`` init container) the
  interception annotations whose value is the one the template derives from the defaults.

With ``mark_disabled`` the result also behaves like Istio's former ``istioctl kube-uninject``:
every ``*sidecar.istio.io*`` annotation goes, the label ``sidecar.istio.io/inject: "false"`` is
set, and DNS search domains containing ``global`` are dropped.

A pod without the status annotation is returned unchanged (``None``).

Templates other than ``sidecar`` (Istio's ``gateway``, ``grpc-agent``, ``grpc-simple``, a custom
template of the user's Istio config) write metadata and pod fields the heuristics above do not
know: for a pod injected by Istio (no meshctl record) they are rendered on the un-injected pod,
and what they write is removed where the pod has exactly that (:func:`_without_template_writes`).

The rules above are what un-injects a pod injected by Istio. A pod injected by meshctl also
carries, where they are needed, what to undo beyond them (``undo`` in meshctl's record,
:mod:`meshctl.sidecar.provenance`): what injection added that the rules keep, and the source
texts injection changed in a way the rules would not give back. They are applied to the data as
an RFC 6902 patch (:mod:`jsonpatch`), and :func:`uninject` returns the texts for the document
pipeline to write back as they were.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from meshctl.errors import InputError, MeshctlError
from meshctl.gotemplate.values import go_sprint
from meshctl.manifests.find import get_path
from meshctl.sidecar.config.meshconfig import status_port
from meshctl.sidecar.config.settings import Settings
from meshctl.sidecar.names import (
    APP_PROBERS_ENV,
    CORE_DUMP,
    INIT,
    ISTIO_CNI_NETWORK,
    MULTUS_NETWORKS,
    NATIVE_SIDECAR,
    OVERRIDES,
    PROMETHEUS_ENV,
    PROVENANCE,
    PROXY,
    SIDECAR_VOLUMES,
    STATUS,
    TEMPLATE_LABELS,
    VALIDATION,
)
from meshctl.sidecar.pod import recorded_probes
from meshctl.sidecar.provenance import current_undo, recorded_undo, without_undo
from meshctl.sidecar.quantity import respelt_resources
from meshctl.sidecar.render import Renderer, select_templates, template_data
from meshctl.sidecar.workload import (
    PodContext,
    legacy_metadata_path,
    metadata_path,
    pod_context,
    replace_path,
)
from meshctl.yamltext.patch import parse_pointer, strict_equal
from meshctl.yamltext.recorded import verbatim_data
from meshctl.yamltext.source import copy_data

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final

    from meshctl.sidecar.provenance import UndoEntry

    #: source texts by their path in the object, each with the digest of what it must read
    #: as in its document (None: it reads alone), see :attr:`meshctl.outcomes.Outcome.texts`
    Texts = tuple[tuple[tuple[str | int, ...], str, str | None], ...]

_PROBES: Final = {"readyz": "readinessProbe", "livez": "livenessProbe",
                  "startupz": "startupProbe"}
#: What Istio's former kube-uninject removed by name, for pods without a status annotation.
LEGACY_STATUS: Final[Mapping[str, Any]] = {
    "initContainers": [INIT, VALIDATION, CORE_DUMP],
    "containers": [PROXY],
    "volumes": list(SIDECAR_VOLUMES),
}
_HOOKS: Final = {"prestopz": "preStop", "poststartz": "postStart"}
_ACTIONS: Final = ("httpGet", "tcpSocket", "grpc", "exec")


def _json(value: Any) -> Any:
    try:
        return json.loads(str(value))
    except ValueError:
        return None


def _env(container: Mapping[str, Any] | None, name: str) -> Any:
    for env in (container or {}).get("env") or ():
        if (type(env) is dict or isinstance(env, Mapping)) and env.get("name") == name:
            return env.get("value")
    return None


def _names(value: Any) -> set[str]:
    return {n for n in value or () if isinstance(n, str)}


def _cni_defaults(values: Mapping[str, Any], mesh: Mapping[str, Any]) -> dict[str, str]:
    """The interception annotations the sidecar template writes in CNI mode by default."""
    glob = values.get("global")
    proxy = glob.get("proxy") if isinstance(glob, Mapping) else None
    proxy = proxy if isinstance(proxy, Mapping) else {}

    def v(key: str) -> str:
        value = proxy.get(key)
        return "" if value is None else str(value)

    port = str(proxy.get("statusPort", status_port(mesh)))
    excluded = [p.strip() for p in v("excludeInboundPorts").split(",") if p.strip()]
    if port not in ("", "0") and port not in excluded:
        excluded.append(port)
    pc = mesh.get("defaultConfig") or {}
    mode = pc.get("interceptionMode") or "REDIRECT"
    return {
        "sidecar.istio.io/interceptionMode": str(mode),
        "traffic.sidecar.istio.io/includeOutboundIPRanges": v("includeIPRanges"),
        "traffic.sidecar.istio.io/excludeOutboundIPRanges": v("excludeIPRanges"),
        "traffic.sidecar.istio.io/includeInboundPorts": v("includeInboundPorts"),
        "traffic.sidecar.istio.io/excludeInboundPorts": ",".join(excluded),
        "traffic.sidecar.istio.io/includeOutboundPorts": v("includeOutboundPorts"),
        "traffic.sidecar.istio.io/excludeOutboundPorts": v("excludeOutboundPorts"),
    }


def _restore_probe(probe: Any, original: Mapping[str, Any], ports: Mapping[Any, str]) -> Any:
    """The probe with its original action; a port number the container names goes back to its
    name (Istio resolved named ports to numbers, the probe most likely named it)."""
    if not isinstance(probe, Mapping):
        return probe
    restored = {k: v for k, v in probe.items() if k not in _ACTIONS}
    for action in _ACTIONS:
        if isinstance(original.get(action), Mapping):
            act = {k: v for k, v in original[action].items() if v is not None}
            if action != "grpc" and act.get("port") in ports:
                act["port"] = ports[act["port"]]
            restored[action] = act
    return restored


def _restore_probes(items: list[Any], probers: Mapping[str, Any], *,
                    named_ports: bool = True, rebuild: bool = True) -> list[Any]:
    """``items`` (containers) with the probes Istio rewrote to the agent restored from
    ``probers``. ``rebuild``: a rewritten probe that is gone is built again, as Istio's former
    kube-uninject did (a pod injected by Istio); not for a pod meshctl injected, whose user
    deleted it since."""
    out = []
    for c in items:
        if not isinstance(c, Mapping):
            out.append(c)
            continue
        name = c.get("name")
        declared = [p for p in c.get("ports") or () if isinstance(p, Mapping)
                    and isinstance(p.get("containerPort"), (int, str))]
        numbers = [p["containerPort"] for p in declared]
        ports = {p["containerPort"]: p["name"] for p in declared
                 if named_ports and p.get("name") and numbers.count(p["containerPort"]) == 1}
        new = dict(c)
        for kind, field in _PROBES.items():
            original = probers.get(f"/app-health/{name}/{kind}")
            if isinstance(original, Mapping):
                current = new.get(field)
                if not isinstance(current, Mapping):  # as Istio's kube-uninject rebuilt it
                    if not rebuild:
                        continue
                    current = {k: v for k, v in original.items() if k == "timeoutSeconds"}
                new[field] = _restore_probe(current, original, ports)
        lifecycle = new.get("lifecycle")
        if isinstance(lifecycle, Mapping):
            hooks = dict(lifecycle)
            for kind, field in _HOOKS.items():
                original = probers.get(f"/app-lifecycle/{name}/{kind}")
                if isinstance(original, Mapping) and field in hooks:
                    hooks[field] = _restore_probe(hooks[field], original, ports)
            new["lifecycle"] = hooks
        out.append(new)
    return out


def _without_network(value: str, network: str) -> str | None:
    """``appendMultusNetwork`` undone: the annotation without Istio's CNI network."""
    if value.strip() == network:
        return None
    if value.rstrip().endswith("]"):
        nets = _json(value)
        if not isinstance(nets, list):
            return value
        ns, _, name = network.rpartition("/")
        kept = [n for n in nets if not (isinstance(n, Mapping) and n.get("name") == name
                                        and (n.get("namespace") or "") == ns)]
        if len(kept) == len(nets):
            return value
        suffix = (f', {{"name": "{name}", "namespace": "{ns}"}}' if ns
                  else f', {{"name": "{name}"}}')
        return value.replace(suffix, "", 1) if suffix in value else json.dumps(kept)
    parts = [p for p in value.split(",") if p.strip() != network]
    return ",".join(parts).strip() or None


def _template_labels(labels: Mapping[str, Any], ctx_name: str,
                     values: Mapping[str, Any]) -> dict[str, str]:
    """The labels the sidecar template writes when the pod does not set them."""
    def first(*keys: str) -> str:
        for key in keys:
            if labels.get(key):
                return str(labels[key])
        return ""

    glob = values.get("global")
    network = glob.get("network") if isinstance(glob, Mapping) else None
    name = first("app.kubernetes.io/name", "app") or ctx_name
    return {
        "security.istio.io/tlsMode": "istio",
        "networking.istio.io/tunnel": "http",
        "service.istio.io/canonical-name": name[:63].strip("-_."),
        "service.istio.io/canonical-revision": first("app.kubernetes.io/version", "version")
        or "latest",
        "topology.istio.io/network": str(network or ""),
    }


def _check_merged_volumes(spec: Mapping[str, Any], added: set[str]) -> None:
    """Refuse to delete a volume the injection added that has more than one source: an earlier
    injection (istioctl's, or an older meshctl's) merged the sidecar's volume into the user's
    volume of the same name; deleting it would delete the user's."""
    volumes = spec.get("volumes")
    for i, v in enumerate(volumes if isinstance(volumes, list) else ()):
        if not isinstance(v, Mapping) or v.get("name") not in added:
            continue
        sources = [k for k in v if k != "name"]
        if len(sources) > 1:
            raise InputError(
                f"volume {json.dumps(v.get('name'))} has {len(sources)} sources "
                f"({', '.join(map(str, sources))}): an earlier injection merged the sidecar's "
                "volume of that name into yours; remove the sidecar's source by hand (and "
                "rename your volume)", path=("volumes", i))


def uninject_pod(meta: Mapping[str, Any], spec: Mapping[str, Any], mesh: Mapping[str, Any],
                 values: Mapping[str, Any], *, owner_name: str = "",
                 mark_disabled: bool = False) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The pod's ``(metadata, spec)`` without the injection, or None if it was not injected."""
    annotations = dict(meta.get("annotations") or {})
    status = _json(annotations.get(STATUS)) if STATUS in annotations else None
    has_proxy = any(isinstance(c, Mapping) and c.get("name") == PROXY
                    for c in spec.get("containers") or ())
    if not isinstance(status, Mapping) and mark_disabled and has_proxy:
        status = LEGACY_STATUS  # istioctl kube-uninject went by the well-known names
    if not isinstance(status, Mapping):
        return None
    labels = dict(meta.get("labels") or {})
    new_spec = dict(spec)
    containers = [c for c in spec.get("containers") or [] if isinstance(c, Mapping)]
    inits = [c for c in spec.get("initContainers") or [] if isinstance(c, Mapping)]
    proxy = next((c for c in (*containers, *inits) if c.get("name") == PROXY), None)
    cni = any(c.get("name") == VALIDATION for c in inits)

    probers = _json(_env(proxy, APP_PROBERS_ENV))
    if isinstance(probers, Mapping):
        rebuild = PROVENANCE not in status  # a pod meshctl injected: a probe gone was deleted
        containers = _restore_probes(containers, probers, rebuild=rebuild)
        inits = _restore_probes(inits, probers, rebuild=rebuild)
    originals = recorded_probes(status)
    if originals:  # recorded as they were: ports are not turned back into names
        containers = _restore_probes(containers, originals, named_ports=False)
        inits = _restore_probes(inits, originals, named_ports=False)

    added_containers = _names(status.get("containers"))
    added_inits = _names(status.get("initContainers"))
    injected = {c.get("name"): c for c in (*inits, *containers)}
    containers = [c for c in containers if c.get("name") not in added_containers | {PROXY}]
    inits = [c for c in inits if c.get("name") not in added_inits]

    overrides = _json(annotations.get(OVERRIDES)) if OVERRIDES in annotations else None
    if isinstance(overrides, Mapping):
        for field in ("containers", "initContainers"):
            for c in overrides.get(field) or ():
                if not isinstance(c, Mapping):
                    continue
                restored = {**c}
                if "resources" in c and c.get("name") in injected:
                    # the user's own spelling of the quantities is still in the pod
                    restored["resources"] = respelt_resources(
                        c["resources"], injected[c.get("name")].get("resources"))
                restored.setdefault("image", "auto")
                if not restored.get("resources"):
                    restored.pop("resources", None)
                if field == "containers" or c.get("name") == PROXY:
                    containers.append(restored)
                else:
                    inits.append(restored)
    for field, items in (("containers", containers), ("initContainers", inits)):
        if items or field == "containers":
            new_spec[field] = items
        else:
            new_spec.pop(field, None)

    _check_merged_volumes(spec, _names(status.get("volumes")))
    for field, key in (("volumes", "volumes"), ("imagePullSecrets", "imagePullSecrets")):
        added = _names(status.get(key))
        if added and isinstance(spec.get(field), list):
            kept = [v for v in spec[field]
                    if not (isinstance(v, Mapping) and v.get("name") in added)]
            if kept:
                new_spec[field] = kept
            else:
                new_spec.pop(field, None)

    # metadata written by the templates and the post-processing
    target = str(status_port(mesh))
    prometheus = _json(_env(proxy, PROMETHEUS_ENV))
    if annotations.get("prometheus.io/port") == target:
        for key in ("prometheus.io/port", "prometheus.io/path", "prometheus.io/scrape"):
            annotations.pop(key, None)
        if isinstance(prometheus, Mapping):
            targets = [t for t in prometheus.get("targets") or () if isinstance(t, Mapping)]
            if targets:
                annotations["prometheus.istio.io/scrape-targets"] = ",".join(
                    f"{t.get('port')}:{t.get('path')}" for t in targets)
            for key in ("scrape",) if targets else ("scrape", "path", "port"):
                if prometheus.get(key):
                    annotations[f"prometheus.io/{key}"] = str(prometheus[key])
    for key in (STATUS, OVERRIDES):
        annotations.pop(key, None)
    if annotations.get("istio.io/rev") == (status.get("revision") or "default"):
        annotations.pop("istio.io/rev")
    app = next((c.get("name") for c in containers if c.get("name") != PROXY), None)
    for key in ("kubectl.kubernetes.io/default-container",
                "kubectl.kubernetes.io/default-logs-container"):
        if app is not None and annotations.get(key) == app:
            annotations.pop(key)
    if cni:
        for key, default in _cni_defaults(values, mesh).items():
            if key in annotations and str(annotations[key]) == default:
                annotations.pop(key)
        if MULTUS_NETWORKS in annotations:
            rest = _without_network(str(annotations[MULTUS_NETWORKS]), ISTIO_CNI_NETWORK)
            if rest is None:
                annotations.pop(MULTUS_NETWORKS)
            else:
                annotations[MULTUS_NETWORKS] = rest
    defaults = _template_labels(labels, owner_name or str(meta.get("name") or ""), values)
    for key in TEMPLATE_LABELS:
        if key in labels and str(labels[key]) == defaults[key]:
            labels.pop(key)

    if mark_disabled:
        annotations = {k: v for k, v in annotations.items() if "sidecar.istio.io" not in k}
        labels["sidecar.istio.io/inject"] = "false"
        dns = new_spec.get("dnsConfig")
        if isinstance(dns, Mapping) and isinstance(dns.get("searches"), list):
            new_spec["dnsConfig"] = {**dns, "searches": [s for s in dns["searches"]
                                                         if "global" not in str(s)]}

    new_meta = dict(meta)
    for key, value in (("annotations", annotations), ("labels", labels)):
        if value:
            new_meta[key] = value
        else:
            new_meta.pop(key, None)
    return new_meta, new_spec


def uninject_workload(obj: dict[str, Any], pod_path: tuple[str, ...], settings: Settings, *,
                      mark_disabled: bool = False, renderer: Renderer | None = None,
                      ) -> dict[str, Any]:
    """``obj`` without its previous injection (:func:`uninject_pod` on its pod template); ``obj``
    itself when it was not injected. With ``mark_disabled``, also behave like Istio's former
    ``istioctl kube-uninject``.

    A CronJob injected by istioctl (or an older meshctl) has its injection's metadata on
    ``spec.jobTemplate.metadata``: it is taken out from there."""
    return uninject(obj, pod_path, settings, mark_disabled=mark_disabled,
                    renderer=renderer)[0]


def uninject(obj: dict[str, Any], pod_path: tuple[str, ...], settings: Settings, *,
             mark_disabled: bool = False, renderer: Renderer | None = None,
             ) -> tuple[dict[str, Any], Texts]:
    """:func:`uninject_workload`, and the source texts meshctl's record keeps, each with its
    path in the result (their data is in the result already). ``renderer``: the templates of
    ``settings``, if compiled already (else they are, when a pod needs them)."""
    meta_path = legacy_metadata_path(obj, pod_path, STATUS) or metadata_path(pod_path)
    spec_path = (*pod_path, "spec")
    meta = get_path(obj, meta_path)
    spec = get_path(obj, spec_path)
    if not isinstance(meta, Mapping) or not isinstance(spec, Mapping):
        return obj, ()
    ctx = pod_context(obj, pod_path, meta)
    try:
        result = uninject_pod(meta, spec, settings.mesh, settings.values,
                              owner_name=ctx.name, mark_disabled=mark_disabled)
    except MeshctlError as exc:
        raise exc.located(path=spec_path) from None
    if result is None:
        return obj, ()
    new_meta, new_spec = result
    annotations = meta.get("annotations")
    annotations = annotations if isinstance(annotations, Mapping) else {}
    status = _json(annotations.get(STATUS)) if STATUS in annotations else None
    if not (isinstance(status, Mapping) and PROVENANCE in status):  # injected by Istio
        names = [n for n in select_templates(annotations, settings)
                 if n != SIDECAR_TEMPLATE and n in settings.templates]
        if names:
            new_meta, new_spec = _without_template_writes(
                new_meta, new_spec, names, ctx, settings, renderer)
    new_obj = replace_path(obj, spec_path, new_spec)
    if new_meta or len(meta_path) == 1:
        new_obj = replace_path(new_obj, meta_path, new_meta)
    else:
        parent = dict(get_path(new_obj, meta_path[:-1]) or {})  # a template left without metadata
        parent.pop(meta_path[-1], None)
        new_obj = replace_path(new_obj, meta_path[:-1], parent)
    new_obj = without_undo(new_obj)
    undo = recorded_undo(obj) if not mark_disabled else []
    return apply_undo(new_obj, undo) if undo else (new_obj, ())


#: the template whose writes :func:`uninject_pod` knows
SIDECAR_TEMPLATE: Final = "sidecar"
#: pod fields the status annotation accounts for
_STATUS_FIELDS: Final = ("containers", "initContainers", "volumes", "imagePullSecrets")
_RENDERERS: dict[int, tuple[Settings, Renderer]] = {}


def _renderer(settings: Settings) -> Renderer:
    """The templates of ``settings``, compiled once (un-injection needs them rarely)."""
    found = _RENDERERS.get(id(settings))
    if found is None or found[0] is not settings:
        found = _RENDERERS[id(settings)] = (settings, Renderer(settings))
    return found[1]


def _without_template_writes(meta: dict[str, Any], spec: dict[str, Any], names: list[str],
                             ctx: PodContext, settings: Settings, renderer: Renderer | None,
                             ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The un-injected pod without what the templates ``names`` write into it (rendered for
    it): annotations and labels of the same value, pod fields (but the containers, volumes and
    pull secrets the status accounts for) and their members of the same value."""
    renderer = renderer or _renderer(settings)
    annotations = meta.get("annotations") or {}
    native = settings.native_sidecars
    if annotations.get(NATIVE_SIDECAR) in ("true", "false"):
        native = annotations[NATIVE_SIDECAR] == "true"
    data = template_data(meta, spec, ctx, settings.mesh, settings, native)
    meta, spec = dict(meta), dict(spec)
    for name in names:
        try:
            patch = renderer.render(name, data)
        except MeshctlError:
            continue
        written = patch.get("metadata")
        for field in ("annotations", "labels"):
            values = written.get(field) if isinstance(written, Mapping) else None
            if not isinstance(values, Mapping) or not isinstance(meta.get(field), Mapping):
                continue
            kept = {k: v for k, v in meta[field].items()
                    if not (k in values and go_sprint(values[k]) == go_sprint(v))}
            if kept:
                meta[field] = kept
            else:
                meta.pop(field)
        pod = patch.get("spec")
        for key, value in pod.items() if isinstance(pod, Mapping) else ():
            if key not in _STATUS_FIELDS and key in spec:
                rest = _subtract(spec[key], value)
                if rest is None:
                    del spec[key]
                else:
                    spec[key] = rest
    return meta, spec


def _subtract(value: Any, written: Any) -> Any:
    """``value`` without what ``written`` says (None: nothing left)."""
    if strict_equal(value, written):
        return None
    if isinstance(value, Mapping) and isinstance(written, Mapping):
        rest = {}
        for k, v in value.items():
            left = _subtract(v, written[k]) if k in written else v
            if left is not None:
                rest[k] = left
        return rest or None
    return value


def apply_undo(obj: dict[str, Any], recorded: list[UndoEntry],
               ) -> tuple[dict[str, Any], Texts]:
    """``obj`` (un-injected by the rules) with a recorded ``undo`` applied (``(JSON Pointer,
    None)``: remove what is there; ``(JSON Pointer, recorded form)``: put the text's data
    there), and the texts by path. An entry whose place changed since it was recorded is left
    out (the change is the user's: :func:`meshctl.sidecar.provenance.current_undo`), so is one
    whose place is gone, and a text that does not read on its own (an alias) keeps the data
    ``obj`` has there. (``obj`` is not changed.)"""
    import jsonpatch

    undo = current_undo(obj, recorded)
    if not undo:
        return obj, ()
    obj = copy_data(obj)
    removals = [{"op": "remove", "path": p} for p, text, _reads in undo if text is None]
    try:
        jsonpatch.apply_patch(obj, removals, in_place=True)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException):
        return obj, ()
    ops: list[dict[str, Any]] = []
    kept: list[tuple[tuple[str | int, ...], str, str | None]] = []
    for pointer, text, reads in undo:
        found = _place(obj, pointer) if text is not None else None
        if found is None:
            continue
        path, exists = found
        assert text is not None
        readable, value = verbatim_data(text)
        if readable:
            ops.append({"op": "replace" if exists else "add", "path": pointer, "value": value})
        elif not exists:  # a place for the text, which the document pipeline reads in place
            ops.append({"op": "add", "path": pointer, "value": _placeholder(text)})
        kept.append((path, text, reads))
    try:
        jsonpatch.apply_patch(obj, ops, in_place=True)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException):
        return obj, ()
    return obj, tuple(kept)


def _placeholder(text: str) -> Any:
    """Data standing for a recorded text that reads only in its document (an alias or a ``<<``
    merge of an anchor elsewhere): an empty collection of the text's kind."""
    body = text[1:].lstrip(" \t\r\n") if text[:1] in (":", "-") else text[1:]
    return [] if body[:1] in ("-", "[") else {}


def _place(obj: Any, pointer: str) -> tuple[tuple[str | int, ...], bool] | None:
    """The path a JSON Pointer names in ``obj`` (list indexes as numbers), and whether there is
    something there; None when its parent is missing."""
    try:
        tokens = parse_pointer(pointer)
    except ValueError:
        return None
    if not tokens:
        return None
    path: list[str | int] = []
    parent = obj
    for tok in tokens[:-1]:
        step: str | int = tok
        if isinstance(parent, list) and tok.isdigit() and int(tok) < len(parent):
            step = int(tok)
        elif not (isinstance(parent, Mapping) and tok in parent):
            return None
        parent = parent[step]
        path.append(step)
    last = tokens[-1]
    if isinstance(parent, Mapping):
        return (*path, last), last in parent
    if isinstance(parent, list) and last.isdigit():
        return (*path, int(last)), int(last) < len(parent)
    return None
