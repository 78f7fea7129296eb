"""Istio's mesh config, kept in its JSON form: defaults, overlays, and the proxy-config JSON.

Istio holds ``MeshConfig``/``ProxyConfig`` as protobufs; meshctl keeps the same data as the JSON
(camelCase) dicts they serialize to, and reproduces what the injector relies on:

* :func:`default_mesh_config` is ``mesh.DefaultMeshConfig()``;
* :func:`apply_mesh_config` is ``mesh.ApplyMeshConfig``: fields of the user's mesh config replace
  the defaults, except ``defaultConfig`` (merged, ``proxyMetadata`` key by key),
  ``defaultProviders`` (merged), ``extensionProviders`` (by name) and ``trustDomainAliases``
  (sorted union);
* :func:`merge_proxy_config` is ``mesh.MergeProxyConfig`` (the ``proxy.istio.io/config``
  annotation on top of the mesh's ``defaultConfig``);
* :func:`proxy_config_json` is the template function ``protoToJSON .ProxyConfig``: fields equal
  to Istio's defaults are dropped (``cleanProxyConfig``), the rest is written as protobuf JSON in
  field-number order.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping

from meshctl.gotemplate.types import (
    K_DURATION,
    K_LIST,
    K_MAP,
    K_MESSAGE,
    K_SCALAR_BOOL,
    K_SCALAR_INT,
    K_SCALAR_STR,
    K_WRAPPER,
    EnumType,
    MessageType,
    duration_json,
    parse_duration,
)
from meshctl.sidecar.names import PROXY

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final

INTERCEPTION_MODE: Final = EnumType({"REDIRECT": 0, "TPROXY": 1, "NONE": 2})
AUTH_POLICY: Final = EnumType({"NONE": 0, "MUTUAL_TLS": 1, "INHERIT": 1000})
TRAFFIC_MODE_IN: Final = EnumType({"PASSTHROUGH": 0, "LOCALHOST": 1})
TRAFFIC_MODE_OUT: Final = EnumType({"REGISTRY_ONLY": 0, "ALLOW_ANY": 1})

S, N, B, D, W, M, L, G = (K_SCALAR_STR, K_SCALAR_INT, K_SCALAR_BOOL, K_DURATION, K_WRAPPER, K_MAP,
                          K_LIST, K_MESSAGE)

#: ProxyConfig (istio.io/api mesh/v1alpha1/proxy.proto): JSON name -> (number, kind, type).
PROXY_CONFIG: Final = MessageType("ProxyConfig", {
    "configPath": (1, S, None), "binaryPath": (2, S, None), "serviceCluster": (3, S, None),
    "tracingServiceName": (36, S, None), "drainDuration": (4, D, None),
    "discoveryAddress": (6, S, None), "discoveryRefreshDelay": (7, D, None),
    "zipkinAddress": (8, S, None), "statsdUdpAddress": (10, S, None),
    "envoyMetricsServiceAddress": (20, S, None), "proxyAdminPort": (11, N, None),
    "availabilityZone": (12, S, None), "controlPlaneAuthPolicy": (13, S, AUTH_POLICY),
    "customConfigFile": (14, S, None), "statNameLength": (15, N, None),
    "concurrency": (16, W, None), "proxyBootstrapTemplatePath": (17, S, None),
    "interceptionMode": (18, S, INTERCEPTION_MODE), "tracing": (19, G, None),
    "sds": (21, G, None), "envoyAccessLogService": (22, G, None),
    "envoyMetricsService": (23, G, None), "proxyMetadata": (24, M, None),
    "runtimeValues": (37, M, None), "statusPort": (26, N, None), "extraStatTags": (27, L, None),
    "gatewayTopology": (28, G, None), "terminationDrainDuration": (29, D, None),
    "meshId": (30, S, None), "readinessProbe": (31, G, None), "proxyStatsMatcher": (32, G, None),
    "holdApplicationUntilProxyStarts": (33, W, None), "caCertificatesPem": (34, L, None),
    "image": (35, G, None), "privateKeyProvider": (38, G, None), "proxyHeaders": (39, G, None),
    "fileFlushInterval": (40, D, None), "fileFlushMinSizeKb": (41, N, None),
    "statsCompression": (42, W, None), "connectionSettings": (43, G, None),
})
#: Oneof members are written even when they hold their zero value.
_ONEOF: Final = frozenset({"serviceCluster", "tracingServiceName"})

_TRAFFIC_IN: Final = MessageType("InboundTrafficPolicy", {"mode": (1, S, TRAFFIC_MODE_IN)})
_TRAFFIC_OUT: Final = MessageType("OutboundTrafficPolicy", {"mode": (1, S, TRAFFIC_MODE_OUT)})

#: The MeshConfig fields templates and the injector read (the rest is resolved by name).
MESH_CONFIG: Final = MessageType("MeshConfig", {
    "proxyListenPort": (4, N, None), "proxyInboundListenPort": (65, N, None),
    "proxyHttpPort": (5, N, None), "connectTimeout": (6, D, None),
    "protocolDetectionTimeout": (42, D, None), "ingressClass": (7, S, None),
    "ingressService": (8, S, None), "enableTracing": (12, B, None),
    "accessLogFile": (13, S, None), "accessLogFormat": (24, S, None),
    "defaultConfig": (14, G, PROXY_CONFIG), "outboundTrafficPolicy": (17, G, _TRAFFIC_OUT),
    "inboundTrafficPolicy": (66, G, _TRAFFIC_IN), "enableAutoMtls": (43, W, None),
    "trustDomain": (26, S, None), "trustDomainAliases": (46, L, None),
    "rootNamespace": (34, S, None), "dnsRefreshRate": (36, D, None),
    "enablePrometheusMerge": (51, W, None), "extensionProviders": (57, L, None),
    "defaultProviders": (60, G, None), "discoverySelectors": (59, L, None),
})

DEFAULT_STATUS_PORT: Final = 15020


def default_proxy_config() -> dict[str, Any]:
    """``mesh.DefaultProxyConfig()`` in JSON form."""
    return {
        "configPath": "./etc/istio/proxy",
        "serviceCluster": PROXY,
        "drainDuration": "45s",
        "terminationDrainDuration": "5s",
        "proxyAdminPort": 15000,
        "controlPlaneAuthPolicy": "MUTUAL_TLS",
        "discoveryAddress": "istiod.istio-system.svc:15012",
        "binaryPath": "/usr/local/bin/envoy",
        "statNameLength": 189,
        "statusPort": DEFAULT_STATUS_PORT,
    }


def default_mesh_config() -> dict[str, Any]:
    """``mesh.DefaultMeshConfig()`` in JSON form."""
    return {
        "enableTracing": True,
        "accessLogFile": "",
        "accessLogEncoding": "TEXT",
        "accessLogFormat": "",
        "enableEnvoyAccessLogService": False,
        "protocolDetectionTimeout": "0s",
        "ingressService": "istio-ingressgateway",
        "ingressControllerMode": "STRICT",
        "ingressClass": "istio",
        "trustDomain": "cluster.local",
        "trustDomainAliases": [],
        "enableAutoMtls": True,
        "outboundTrafficPolicy": {"mode": "ALLOW_ANY"},
        "inboundTrafficPolicy": {"mode": "PASSTHROUGH"},
        "localityLbSetting": {"enabled": True},
        "certificates": [],
        "defaultConfig": default_proxy_config(),
        "rootNamespace": "istio-system",
        "proxyListenPort": 15001,
        "proxyInboundListenPort": 15006,
        "connectTimeout": "10s",
        "defaultServiceExportTo": ["*"],
        "defaultVirtualServiceExportTo": ["*"],
        "defaultDestinationRuleExportTo": ["*"],
        "dnsRefreshRate": "60s",
        "serviceSettings": [],
        "enablePrometheusMerge": True,
        "defaultProviders": {},
        "extensionProviders": [
            {"name": "prometheus", "prometheus": {}},
            {"name": "stackdriver", "stackdriver": {}},
            {"name": "envoy", "envoyFileAccessLog": {"path": "/dev/stdout"}},
        ],
    }


_SNAKE: Final = re.compile(r"_([a-z0-9])")


def camel_keys(data: Mapping[str, Any]) -> dict[str, Any]:
    """Protobuf JSON accepts ``drain_duration`` for ``drainDuration``: one spelling here."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        k = str(key)
        if "_" in k and k == k.lower():
            k = _SNAKE.sub(lambda m: m.group(1).upper(), k)
        out[k] = value
    return out


def deep_merge(base: Any, overlay: Any) -> Any:
    """Protobuf-style merge of JSON messages: mappings merge, everything else replaces."""
    if isinstance(base, Mapping) and isinstance(overlay, Mapping):
        out = dict(base)
        for key, value in overlay.items():
            out[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(overlay)


def merge_proxy_config(overlay: Mapping[str, Any] | None,
                       base: Mapping[str, Any]) -> dict[str, Any]:
    """``mesh.MergeProxyConfig``: ``overlay`` on top of ``base``; proxyMetadata merges by key."""
    result = dict(base)
    if not overlay:
        return result
    overlay = camel_keys(overlay)
    orig_metadata = base.get("proxyMetadata")
    for key, value in overlay.items():
        if value is None:
            result.pop(key, None)
        elif key in result and isinstance(result[key], Mapping) and isinstance(value, Mapping):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    new_metadata = overlay.get("proxyMetadata")
    if orig_metadata is not None or new_metadata is not None:
        merged = dict(orig_metadata or {})
        merged.update(new_metadata or {})
        result["proxyMetadata"] = merged
    return result


def apply_mesh_config(overlay: Mapping[str, Any] | None,
                      base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``mesh.ApplyMeshConfig(overlay, base)`` (``base`` defaults to Istio's mesh defaults)."""
    mesh = copy.deepcopy(dict(base)) if base is not None else default_mesh_config()
    if not overlay:
        return mesh
    overlay = camel_keys(overlay)
    for key, value in overlay.items():
        if key in ("defaultConfig", "defaultProviders", "extensionProviders",
                   "trustDomainAliases"):
            continue
        if value is None:
            continue
        current = mesh.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            mesh[key] = deep_merge(current, value)
        else:
            mesh[key] = copy.deepcopy(value)
    if isinstance(overlay.get("defaultConfig"), Mapping):
        mesh["defaultConfig"] = merge_proxy_config(overlay["defaultConfig"],
                                                   mesh.get("defaultConfig") or {})
    if isinstance(overlay.get("defaultProviders"), Mapping):
        mesh["defaultProviders"] = deep_merge(mesh.get("defaultProviders") or {},
                                              overlay["defaultProviders"])
    providers = [dict(p) for p in mesh.get("extensionProviders") or []]
    for new in overlay.get("extensionProviders") or []:
        if not isinstance(new, Mapping):
            continue
        for i, old in enumerate(providers):
            if old.get("name") == new.get("name"):
                providers[i] = {"name": old.get("name"),
                                **{k: copy.deepcopy(v) for k, v in new.items() if k != "name"}}
                break
        else:
            providers.append(copy.deepcopy(dict(new)))
    mesh["extensionProviders"] = providers
    aliases = set(mesh.get("trustDomainAliases") or [])
    aliases.update(overlay.get("trustDomainAliases") or [])
    mesh["trustDomainAliases"] = sorted(str(a) for a in aliases)
    return mesh


def status_port(mesh: Mapping[str, Any]) -> int:
    """``meshConfig.GetDefaultConfig().GetStatusPort()``."""
    pc = mesh.get("defaultConfig") or {}
    try:
        return int(pc.get("statusPort") or 0)
    except (TypeError, ValueError):
        return 0


def _same_duration(a: Any, b: Any) -> bool:
    da, db = parse_duration(a), parse_duration(b)
    return da is not None and db is not None and (da.seconds, da.nanos) == (db.seconds, db.nanos)


def clean_proxy_config(pc: Mapping[str, Any]) -> dict[str, Any]:
    """``cleanProxyConfig``: drop the fields that equal Istio's defaults."""
    defaults = default_proxy_config()
    out = dict(pc)
    for key in ("configPath", "binaryPath", "serviceCluster", "discoveryAddress"):
        if out.get(key) == defaults[key]:
            out.pop(key, None)
    if AUTH_POLICY.make(out.get("controlPlaneAuthPolicy", 0)) == AUTH_POLICY.make("MUTUAL_TLS"):
        out.pop("controlPlaneAuthPolicy", None)
    for key in ("drainDuration", "terminationDrainDuration"):
        if key in out and _same_duration(out[key], defaults[key]):
            out.pop(key)
    for key in ("envoyMetricsService", "envoyAccessLogService", "tracing", "concurrency"):
        if out.get(key) is None:
            out.pop(key, None)
    for key in ("proxyAdminPort", "statNameLength", "statusPort"):
        if key in out and _int_or_none(out[key]) == defaults[key]:
            out.pop(key)
    if not out.get("proxyMetadata"):
        out.pop("proxyMetadata", None)
    return out


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _proto3_is_zero(key: str, kind: str, sub: Any, value: Any) -> bool:
    if value is None:
        return True
    if key in _ONEOF:
        return False
    if isinstance(sub, EnumType):
        return int(sub.make(value)) == 0
    if kind in (K_SCALAR_STR, K_SCALAR_INT, K_SCALAR_BOOL):
        return not value
    if kind in (K_MAP, K_LIST):
        return not value
    if kind == K_DURATION:
        return False
    return False


def _proto_value(kind: str, sub: Any, value: Any) -> Any:
    if isinstance(sub, EnumType):
        return sub.make(value).name
    if kind == K_DURATION:
        d = parse_duration(value)
        return value if d is None else duration_json(d.seconds, d.nanos)
    if kind == K_MAP and isinstance(value, Mapping):
        return {str(k): value[k] for k in sorted(value, key=str)}
    if kind == K_SCALAR_INT:
        return _int_or_none(value) if _int_or_none(value) is not None else value
    return value


def proxy_config_json(pc: Mapping[str, Any] | None) -> str:
    """``protoToJSON .ProxyConfig``: the non-default fields as compact protobuf JSON."""
    if pc is None:
        return "{}"
    cleaned = clean_proxy_config(pc)
    fields = PROXY_CONFIG.fields
    ordered: list[tuple[int, str, Any]] = []
    for key, value in cleaned.items():
        spec = fields.get(key)
        if spec is None:
            continue  # unknown to the proto: the Go unmarshaller drops it
        number, kind, sub = spec
        if _proto3_is_zero(key, kind, sub, value):
            continue
        ordered.append((number, key, _proto_value(kind, sub, value)))
    ordered.sort(key=lambda item: item[0])
    return json.dumps({k: v for _, k, v in ordered}, separators=(",", ":"), ensure_ascii=False)


def inbound_traffic_policy_mode(mesh: Mapping[str, Any]) -> str:
    """``InboundTrafficPolicyMode``: ``localhost`` or ``passthrough``."""
    policy = mesh.get("inboundTrafficPolicy") or {}
    mode = TRAFFIC_MODE_IN.make(policy.get("mode", 0) if isinstance(policy, Mapping) else 0)
    return "localhost" if mode.name == "LOCALHOST" else "passthrough"


def hold_application(mesh: Mapping[str, Any]) -> bool:
    """``GetDefaultConfig().GetHoldApplicationUntilProxyStarts().GetValue()``."""
    pc = mesh.get("defaultConfig") or {}
    return _truthy(pc.get("holdApplicationUntilProxyStarts"))


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def interception_mode(mesh: Mapping[str, Any]) -> str:
    pc = mesh.get("defaultConfig") or {}
    return INTERCEPTION_MODE.make(pc.get("interceptionMode", 0)).name
