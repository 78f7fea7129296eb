"""Istio's injection template functions (``pkg/kube/inject/template.go``), on plain data.

Each function takes what a template hands it (plain values or the Go-shaped views of
:mod:`meshctl.gotemplate.types`) and returns what Istio's Go function returns. Parameters are typed
``Any`` on purpose: gotpl enforces concrete annotations, and Go would convert.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Mapping

from meshctl.gotemplate.environ import getenv
from meshctl.gotemplate.goyaml import go_json, go_json_ordered, to_yaml
from meshctl.gotemplate.limits import check_size
from meshctl.gotemplate.native import function_table
from meshctl.gotemplate.types import (
    GoDuration,
    GoMap,
    GoStruct,
    ProtoView,
    go_duration_string,
    go_struct_json,
    parse_duration,
    unwrap,
)
from meshctl.gotemplate.values import go_sprint, is_missing
from meshctl.sidecar.config.meshconfig import proxy_config_json
from meshctl.sidecar.names import PROXY

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final


def format_duration(value: Any) -> str:
    d = value if isinstance(value, GoDuration) else parse_duration(unwrap(value))
    return go_duration_string(d if d is not None else GoDuration(0))


def isset(m: Any, key: Any) -> bool:
    return isinstance(m, Mapping) and key in m


def directory(path: Any) -> str:
    head, _ = posixpath.split(str(path))
    text = str(path)
    return text[: text.rfind("/") + 1] if "/" in text else "" if head == "" else head


def flipped_contains(needle: Any, haystack: Any) -> bool:
    return go_sprint(needle) in go_sprint(haystack)


def to_lower(value: Any) -> str:
    return go_sprint(value).lower()


def exclude_inbound_port(port: Any, excluded: Any) -> str:
    port_str = go_sprint(port).strip()
    excluded_str = "" if is_missing(excluded) else go_sprint(excluded)
    if not port_str or port_str == "0":
        return excluded_str
    out: list[str] = []
    for item in excluded_str.split(","):
        if item == port_str:
            return excluded_str
        item = item.strip()
        if item:
            out.append(item)
    out.append(port_str)
    return ",".join(out)


def value_or_default(value: Any, default: Any) -> Any:
    if is_missing(value) or (isinstance(value, str) and value == ""):
        return default
    return value


def to_json(m: Any) -> str:
    if is_missing(m):
        return "{}"
    return go_json(unwrap(m))


def from_json(text: Any) -> Any:
    try:
        return json.loads(go_sprint(text))
    except ValueError:
        return "{}"


def indent(spaces: Any, source: Any) -> str:
    text = go_sprint(source)
    check_size("indent", max(int(spaces), 0) * (text.count("\n") + 1) + len(text))
    pad = " " * int(spaces)
    lines = text.split("\n")
    return "\n".join(lines[:1] + [pad + line for line in lines[1:]])


def to_yaml_fn(value: Any) -> str:
    if is_missing(value):
        return "null\n"
    if isinstance(value, GoStruct):
        return to_yaml(go_struct_json(value))
    return to_yaml(unwrap(value))


def annotation(meta: Any, name: Any, default: Any) -> str:
    annotations = meta.__gotemplate_lookup__("Annotations") if isinstance(meta, GoStruct) else {}
    if isinstance(annotations, Mapping) and name in annotations:
        return go_sprint(annotations[name])
    return go_sprint(default)


def append_multus_network(existing: Any, network: Any) -> str:
    existing_str = "" if is_missing(existing) else go_sprint(existing)
    network_str = go_sprint(network)
    if existing_str == "":
        return network_str
    close = existing_str.rfind("]")
    if close != -1:
        try:
            networks = json.loads(existing_str)
        except ValueError:
            return existing_str
        if not isinstance(networks, list):
            return existing_str
        ns, _, name = network_str.rpartition("/")
        for net in networks:
            if isinstance(net, Mapping) and net.get("name") == name and \
                    (net.get("namespace") or "") == ns:
                return existing_str
        entry = (f', {{"name": "{name}", "namespace": "{ns}"}}' if ns
                 else f', {{"name": "{name}"}}')
        return existing_str[:close] + entry + existing_str[close:]
    for net in existing_str.split(","):
        if net.strip() == network_str:
            return existing_str
    return existing_str + ", " + network_str


def _containers(value: Any) -> list[Mapping[str, Any]]:
    raw = unwrap(value)
    return [c for c in raw or () if isinstance(c, Mapping)] if isinstance(raw, list) else []


def container_ports(containers: Any, skip_proxy: bool) -> str:
    parts: list[str] = []
    for c in _containers(containers):
        if skip_proxy and c.get("name") == PROXY:
            continue
        for p in c.get("ports") or ():
            if not isinstance(p, Mapping) or p.get("protocol") in ("UDP", "SCTP"):
                continue
            parts.append(go_sprint(p.get("containerPort", 0)))
    return ",".join(parts)


def application_ports(containers: Any) -> str:
    return container_ports(containers, skip_proxy=True)


def include_inbound_ports(containers: Any) -> str:
    return container_ports(containers, skip_proxy=False)


def identity(value: Any) -> Any:
    return value


def struct_to_json(value: Any) -> str:
    if is_missing(value):
        return "{}"
    if isinstance(value, GoStruct):
        return go_json_ordered(go_struct_json(value))
    return go_json(unwrap(value))


def proto_to_json(value: Any) -> str:
    if is_missing(value):
        return "{}"
    if isinstance(value, ProtoView):
        return proxy_config_json(value.raw)
    return go_json(unwrap(value))


def env(key: Any, default: Any) -> str:
    """Istio's ``env``: istiod's environment variable ``key``, else ``default``. Offline there is
    no istiod, and meshctl's own environment may hold secrets: only the variables the user names
    with ``--template-env`` are read (:mod:`meshctl.gotemplate.environ`)."""
    return getenv(go_sprint(key)) or go_sprint(default)


def _str_map(value: Any) -> Mapping[str, Any]:
    raw = unwrap(value)
    return raw if isinstance(raw, Mapping) else {}


def omit(d: Any, *keys: Any) -> GoMap:
    drop = {go_sprint(k) for k in keys}
    return GoMap((k, v) for k, v in _str_map(d).items() if k not in drop)


def strdict(*values: Any) -> GoMap:
    out = GoMap()
    items = [go_sprint(v) for v in values]
    for i in range(0, len(items), 2):
        out[items[i]] = items[i + 1] if i + 1 < len(items) else ""
    return out


def merge_maps(*maps: Any) -> GoMap | None:
    if not maps:
        return None
    out = GoMap()
    for m in maps:
        out.update(_str_map(m))
    return out


def to_json_map(*maps: Any) -> str:
    merged = merge_maps(*maps)
    return "null" if merged is None else go_json(dict(merged))


def omit_nil(value: Any) -> Any:
    return _omit_nil(unwrap(value))


def _omit_nil(value: Any) -> Any:
    if isinstance(value, Mapping):
        out = {k: f for k, v in value.items() if (f := _omit_nil(v)) is not None}
        return out if out or not value else None
    if isinstance(value, list):
        items = [f for v in value if (f := _omit_nil(v)) is not None]
        return items if items or not value else None
    return value


def _image_tag_digest(image: str) -> tuple[str, str]:
    digest = ""
    at = image.find("@")
    if at >= 0:
        digest, image = image[at + 1 :], image[:at]
    slash, colon = image.rfind("/"), image.rfind(":")
    return (image[colon + 1 :] if colon > slash else ""), digest


def otel_resource_attributes(mesh: Any, annotations: Any, labels: Any, namespace: Any,
                             containers: Any) -> str:
    raw_mesh = unwrap(mesh)
    providers = raw_mesh.get("extensionProviders") if isinstance(raw_mesh, Mapping) else None
    if not any(
        isinstance(p, Mapping) and isinstance(p.get("opentelemetry"), Mapping)
        and p["opentelemetry"].get("serviceAttributeEnrichment") in ("OTEL_SEMANTIC_CONVENTIONS", 1)
        for p in providers or ()
    ):
        return ""
    ann, lab = _str_map(annotations), _str_map(labels)
    ns = "" if is_missing(namespace) else go_sprint(namespace)
    conts = _containers(containers)
    attrs: list[str] = []
    if ann.get("resource.opentelemetry.io/service.namespace"):
        attrs.append("service.namespace=" + str(ann["resource.opentelemetry.io/service.namespace"]))
    elif ns:
        attrs.append("service.namespace=" + ns)
    if ann.get("resource.opentelemetry.io/service.version"):
        attrs.append("service.version=" + str(ann["resource.opentelemetry.io/service.version"]))
    elif lab.get("app.kubernetes.io/version"):
        attrs.append("service.version=" + str(lab["app.kubernetes.io/version"]))
    elif len(conts) == 1:
        tag, digest = _image_tag_digest(str(conts[0].get("image") or ""))
        version = f"{tag}@{digest}" if tag and digest else digest or tag
        if version:
            attrs.append("service.version=" + version)
    if ann.get("resource.opentelemetry.io/service.instance.id"):
        attrs.append("service.instance.id="
                     + str(ann["resource.opentelemetry.io/service.instance.id"]))
    elif conts:
        attrs.append(f"service.instance.id={ns}.$(POD_NAME).{conts[0].get('name') or ''}")
    return ",".join(attrs)


#: The ``InjectionFuncmap`` of Istio's ``pkg/kube/inject/template.go``.
ISTIO_FUNCTIONS: Final[Mapping[str, Callable[..., Any]]] = {
    "formatDuration": format_duration,
    "isset": isset,
    "excludeInboundPort": exclude_inbound_port,
    "includeInboundPorts": include_inbound_ports,
    "kubevirtInterfaces": identity,
    "excludeInterfaces": identity,
    "applicationPorts": application_ports,
    "annotation": annotation,
    "valueOrDefault": value_or_default,
    "toJSON": to_json,
    "fromJSON": from_json,
    "structToJSON": struct_to_json,
    "protoToJSON": proto_to_json,
    "toYaml": to_yaml_fn,
    "indent": indent,
    "directory": directory,
    "contains": flipped_contains,
    "toLower": to_lower,
    "appendMultusNetwork": append_multus_network,
    "env": env,
    "omit": omit,
    "strdict": strdict,
    "toJsonMap": to_json_map,
    "mergeMaps": merge_maps,
    "omitNil": omit_nil,
    "otelResourceAttributes": otel_resource_attributes,
}

#: what a template compiled for the native runtime may call (no gotpl needed)
NATIVE_FUNCTIONS: Final[Mapping[str, Callable[..., Any]]] = function_table(ISTIO_FUNCTIONS)

#: built by :func:`gotpl_functions`; a module global, so that the persistent cache stores
#: compiled templates with a reference to it, not a copy
_gotpl_functions: Mapping[str, Callable[..., Any]] | None = None


def gotpl_functions() -> Mapping[str, Callable[..., Any]]:
    """Everything an Istio injection template can call with gotpl (Sprig, then Istio's, then the
    Go fixes); built on first use, since it imports gotpl."""
    global _gotpl_functions
    if _gotpl_functions is None:
        from meshctl.gotemplate.gotpl_adapter import function_map

        _gotpl_functions = function_map(ISTIO_FUNCTIONS)
    return _gotpl_functions
