"""Validation of the per-pod annotations Istio checks before injecting (``validate.go``).

:func:`validate_annotations` returns one message per bad annotation, in Istio's words
(``invalid value 'bad' for annotation 'traffic.sidecar.istio.io/includeOutboundIPRanges':
includeIPRanges invalid: ...``), so the error names the annotation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from meshctl.gotemplate.goyaml import load_yaml
from meshctl.sidecar.quantity import parse_quantity

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final


class AnnotationValueError(ValueError):
    pass


def _port(text: str) -> int:
    try:
        value = int(text.strip(), 10)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535 or not text.strip().isdigit():
        raise AnnotationValueError(f"failed parsing port '{text}': strconv.ParseUint: parsing "
                                   f"\"{text.strip()}\": invalid syntax")
    return value


def _ports(text: str) -> None:
    text = text.strip()
    if not text:
        return
    for item in text.split(","):
        try:
            _port(item)
        except AnnotationValueError as exc:
            raise AnnotationValueError(f"failed parsing port '{item}': {exc}") from None


def _port_list(name: str) -> Callable[[str], None]:
    def check(value: str) -> None:
        try:
            _ports(value)
        except AnnotationValueError as exc:
            raise AnnotationValueError(f"{name} invalid: {exc}") from None
    return check


def _include_inbound_ports(value: str) -> None:
    if value != "*":
        _port_list("includeInboundPorts")(value)


def _cidrs(value: str) -> None:
    if not value:
        return
    for cidr in value.split(","):
        try:
            if "/" not in cidr:
                raise ValueError("no '/'")
            import ipaddress  # only for this annotation (start-up cost)

            ipaddress.ip_network(cidr, strict=False)
        except ValueError as exc:
            raise AnnotationValueError(f"failed parsing cidr '{cidr}': netip.ParsePrefix("
                                       f"\"{cidr}\"): {exc}") from None


def _include_ip_ranges(value: str) -> None:
    if value == "*":
        return
    try:
        _cidrs(value)
    except AnnotationValueError as exc:
        raise AnnotationValueError(f"includeIPRanges invalid: {exc}") from None


def _exclude_ip_ranges(value: str) -> None:
    try:
        _cidrs(value)
    except AnnotationValueError as exc:
        raise AnnotationValueError(f"excludeIPRanges invalid: {exc}") from None


def _interception_mode(value: str) -> None:
    if value not in ("REDIRECT", "TPROXY", "NONE"):
        raise AnnotationValueError(
            f"interceptionMode invalid, use REDIRECT,TPROXY,NONE: {value}")


def _status_port(value: str) -> None:
    try:
        _port(value)
    except AnnotationValueError as exc:
        raise AnnotationValueError(f"excludeInboundPorts invalid: {exc}") from None


def _uint32(value: str) -> None:
    if not value.isdigit() or int(value) > 2**32 - 1:
        raise AnnotationValueError(f"strconv.ParseUint: parsing \"{value}\": invalid syntax")


def _bool(value: str) -> None:
    if value not in ("1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false",
                     "False"):
        raise AnnotationValueError(f"strconv.ParseBool: parsing \"{value}\": invalid syntax")


_IFACE: Final = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.\-]*$")


def _interfaces(value: str) -> None:
    if not value:
        return
    for iface in value.split(","):
        iface = iface.strip()
        if not iface:
            raise AnnotationValueError("empty interface name")
        if len(iface) > 15:
            raise AnnotationValueError(f"interface name \"{iface}\" too long (max 15 chars)")
        if not _IFACE.match(iface):
            raise AnnotationValueError(f"interface name \"{iface}\" contains invalid characters")


def _quantity(value: str) -> None:
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value):
        raise AnnotationValueError("value contains control characters")
    if parse_quantity(value) is None:
        raise AnnotationValueError("quantities must match the regular expression "
                                   "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


def _proxy_config(value: str) -> None:
    try:
        data = load_yaml(value, "proxy config")
    except Exception as exc:  # noqa: BLE001 - any parse failure is the user's annotation
        raise AnnotationValueError(f"failed to convert to apply proxy config: {exc}") from None
    if data is not None and not isinstance(data, Mapping):
        raise AnnotationValueError("failed to convert to apply proxy config: not a mapping")


ANNOTATION_VALIDATION: Final[Mapping[str, Callable[[str], None]]] = {
    "sidecar.istio.io/interceptionMode": _interception_mode,
    "status.sidecar.istio.io/port": _status_port,
    "readiness.status.sidecar.istio.io/initialDelaySeconds": _uint32,
    "readiness.status.sidecar.istio.io/periodSeconds": _uint32,
    "readiness.status.sidecar.istio.io/failureThreshold": _uint32,
    "traffic.sidecar.istio.io/includeOutboundIPRanges": _include_ip_ranges,
    "traffic.sidecar.istio.io/excludeOutboundIPRanges": _exclude_ip_ranges,
    "traffic.sidecar.istio.io/includeInboundPorts": _include_inbound_ports,
    "traffic.sidecar.istio.io/excludeInboundPorts": _port_list("excludeInboundPorts"),
    "traffic.sidecar.istio.io/excludeOutboundPorts": _port_list("excludeOutboundPorts"),
    "traffic.sidecar.istio.io/excludeInterfaces": _interfaces,
    "traffic.sidecar.istio.io/kubevirtInterfaces": _interfaces,
    "istio.io/reroute-virtual-interfaces": _interfaces,
    "prometheus.istio.io/merge-metrics": _bool,
    "proxy.istio.io/config": _proxy_config,
    "sidecar.istio.io/proxyCPU": _quantity,
    "sidecar.istio.io/proxyMemory": _quantity,
    "sidecar.istio.io/proxyCPULimit": _quantity,
    "sidecar.istio.io/proxyMemoryLimit": _quantity,
}


def validate_annotations(annotations: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(annotation, message)`` per invalid annotation (empty when all are valid)."""
    errors: list[tuple[str, str]] = []
    for name in sorted(annotations):
        check = ANNOTATION_VALIDATION.get(name)
        if check is None:
            continue
        value = annotations[name]
        text = "" if value is None else str(value)
        try:
            check(text)
        except AnnotationValueError as exc:
            errors.append((name, f"invalid value '{text}' for annotation '{name}': {exc}"))
    return errors
