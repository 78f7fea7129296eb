"""``meshctl create ingress NAME``: the mesh's front door as manifests, for ``kubectl apply -f -``.

:func:`create_ingress` takes a :class:`CreateIngressOptions` (one field per flag, the defaults
are the flags' defaults) and returns the manifest text with the warnings as data; a bad argument
raises :class:`meshctl.errors.UsageError` (exit 2) with one line, before anything is produced.

Routes come in kubectl's grammar (``--rule``, ``--default-backend``) or in the walkthrough's
short form (``--service`` with ``--path``, ``--host``, ``--path-type``, ``--tls-secret``), never
both: see :mod:`meshctl.gateways.rules`. ``--style`` picks the objects:

* ``ingress`` (default): a ``networking.k8s.io/v1`` Ingress, kubectl's object; ``--class``
  is its ``spec.ingressClassName``.
* ``ingress-v1beta1``: the 2017 ``extensions/v1beta1`` Ingress (served up to Kubernetes 1.21,
  hence a warning); ``--class`` is its ``kubernetes.io/ingress.class`` annotation.
* ``istio``: an Istio Gateway + one VirtualService per host; ``--gateway-selector`` picks the
  gateway pods, ``--class`` is refused.
* ``gateway-api``: a Gateway API Gateway + one HTTPRoute per host; ``--class`` is its
  ``spec.gatewayClassName``.

``--class`` defaults to ``istio``; ``--class ""`` leaves the Ingress without a class (as
kubectl without ``--class``). With the Ingress styles, a ``kubernetes.io/ingress.class``
annotation given without ``--class`` is the class; one that contradicts ``--class`` is refused
(the API server refuses such an Ingress). Annotations go on every object.

``--output-format yaml`` writes one YAML document per object with ``---`` between them;
``json`` writes the object itself when there is one (as ``kubectl create ingress -o json``),
else a ``v1`` ``List`` of them (as ``kubectl get -o json`` writes several objects).

This module imports neither the injection engine nor a YAML library: the command starts as
fast as ``meshctl version``.
"""

from __future__ import annotations

from meshctl.errors import UsageError
from meshctl.gateways import emit
from meshctl.gateways.gatewayapi import gateway_and_http_routes
from meshctl.gateways.ingress import INGRESS_CLASS_ANNOTATION, ingress_v1, ingress_v1beta1
from meshctl.gateways.istio import gateway_and_virtual_services
from meshctl.gateways.rules import (
    label_problem,
    parse_annotations,
    parse_selector,
    routes_from_rules,
    routes_from_service,
    subdomain_problem,
)
from meshctl.records import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any

    from meshctl.gateways.rules import Routes

STYLES = ("ingress", "ingress-v1beta1", "istio", "gateway-api")
FORMATS = emit.FORMATS
DEFAULT_CLASS = "istio"

V1BETA1_WARNING = (
    "extensions/v1beta1 Ingress is served by Kubernetes 1.21 and older only (1.22 removed it); "
    "on a current cluster use --style ingress"
)
NOTHING_TO_ROUTE = (
    "not enough information provided: every ingress has to either specify a default-backend "
    "(which catches all traffic) or rules (--rule, or --service) (which catch specific paths)"
)


class CreateIngressOptions(Frozen):
    """The flags of ``meshctl create ingress``; ``None``/``()``: the flag was not given."""

    __slots__ = (
        "name", "rules", "default_backend", "annotations", "ingress_class", "namespace",
        "service", "paths", "host", "path_type", "tls_secret", "style", "gateway_selector",
        "output_format",
    )
    DEFAULTS = {
        "rules": (), "default_backend": None, "annotations": (), "ingress_class": None,
        "namespace": None, "service": None, "paths": (), "host": None, "path_type": None,
        "tls_secret": None, "style": "ingress", "gateway_selector": (), "output_format": "yaml",
    }
    name: str  # NAME
    rules: tuple[str, ...]  # --rule (repeatable)
    default_backend: str | None  # --default-backend SVC:PORT
    annotations: tuple[str, ...]  # --annotation KEY=VALUE (repeatable)
    ingress_class: str | None  # --class (None: istio)
    namespace: str | None  # -n/--namespace
    service: str | None  # --service SVC:PORT
    paths: tuple[str, ...]  # --path (repeatable; none: /)
    host: str | None  # --host
    path_type: str | None  # --path-type (None: Prefix)
    tls_secret: str | None  # --tls-secret
    style: str  # --style
    gateway_selector: tuple[str, ...]  # --gateway-selector KEY=VALUE (repeatable)
    output_format: str  # --output-format


class CreateIngressResult(Frozen):
    """The manifests as text (for stdout), as objects, and the warnings (for stderr)."""

    __slots__ = ("text", "objects", "warnings")
    text: str
    objects: tuple[dict[str, Any], ...]
    warnings: tuple[str, ...]


def _choice(value: str, choices: tuple[str, ...], flag: str) -> None:
    if value not in choices:
        raise UsageError(f"{flag} {value!r} is not one of {', '.join(choices)}")


def _check_flags(opts: CreateIngressOptions) -> None:
    """Choices, names, and the flags that do not go together."""
    _choice(opts.style, STYLES, "--style")
    _choice(opts.output_format, FORMATS, "--output-format")
    problem = subdomain_problem(opts.name)
    if problem is not None:
        raise UsageError(f"invalid name {opts.name!r}: a name {problem}")
    if opts.namespace is not None:
        problem = label_problem(opts.namespace)
        if problem is not None:
            raise UsageError(f"invalid namespace {opts.namespace!r}: a namespace {problem}")
    if opts.rules and opts.service is not None:
        raise UsageError(
            "--rule and --service do not go together: give routes either as --rule or as "
            "--service with --path"
        )
    if opts.service is None:
        short_form = (("--path", opts.paths), ("--host", opts.host),
                      ("--path-type", opts.path_type), ("--tls-secret", opts.tls_secret))
        for flag, value in short_form:
            if value is not None and value != ():
                raise UsageError(
                    f"{flag} needs --service (with --rule, each rule has its own host, path "
                    f"and tls)"
                )
    if not opts.rules and opts.service is None and opts.default_backend is None:
        raise UsageError(NOTHING_TO_ROUTE)
    if opts.gateway_selector and opts.style != "istio":
        raise UsageError("--gateway-selector applies to --style istio only")
    if opts.ingress_class is not None:
        if opts.style == "istio":
            raise UsageError(
                "--class does not apply to --style istio: its Gateway picks the gateway pods "
                "by --gateway-selector"
            )
        if opts.ingress_class:
            problem = subdomain_problem(opts.ingress_class)
            if problem is not None:
                raise UsageError(f"--class {opts.ingress_class!r}: a class name {problem}")


def _routes(opts: CreateIngressOptions) -> Routes:
    if opts.service is not None:
        return routes_from_service(
            opts.service, opts.paths, opts.host, opts.path_type, opts.tls_secret,
            opts.default_backend,
        )
    return routes_from_rules(opts.rules, opts.default_backend)


def _ingress_class(opts: CreateIngressOptions, annotations: dict[str, str]) -> str:
    """The class of an Ingress style: --class, else the class annotation, else istio."""
    annotated = annotations.get(INGRESS_CLASS_ANNOTATION)
    if opts.ingress_class is None:
        return DEFAULT_CLASS if annotated is None else annotated
    if annotated is not None and opts.ingress_class and annotated != opts.ingress_class:
        raise UsageError(
            f"--annotation {INGRESS_CLASS_ANNOTATION}={annotated} contradicts --class "
            f"{opts.ingress_class}: Kubernetes refuses an Ingress whose class annotation and "
            f"class differ"
        )
    return opts.ingress_class


def build(opts: CreateIngressOptions) -> tuple[list[dict[str, Any]], list[str]]:
    """The objects and the warnings (raises :class:`UsageError`)."""
    _check_flags(opts)
    routes = _routes(opts)
    annotations = parse_annotations(opts.annotations)
    warnings = list(routes.warnings)
    common: dict[str, Any] = {"namespace": opts.namespace, "annotations": annotations}
    objects: list[dict[str, Any]]
    if opts.style == "ingress":
        class_name = _ingress_class(opts, annotations)
        objects = [ingress_v1(opts.name, routes, class_name=class_name, **common)]
    elif opts.style == "ingress-v1beta1":
        class_name = _ingress_class(opts, annotations)
        objects = [ingress_v1beta1(opts.name, routes, class_name=class_name, **common)]
        warnings.append(V1BETA1_WARNING)
    elif opts.style == "istio":
        selector = parse_selector(opts.gateway_selector) or None
        objects = gateway_and_virtual_services(opts.name, routes, selector=selector, **common)
    else:
        class_name = DEFAULT_CLASS if opts.ingress_class is None else opts.ingress_class
        objects = gateway_and_http_routes(opts.name, routes, class_name=class_name, **common)
    return objects, warnings


def create_ingress(opts: CreateIngressOptions) -> CreateIngressResult:
    """The manifests of ``meshctl create ingress`` (raises :class:`UsageError`)."""
    objects, warnings = build(opts)
    return CreateIngressResult(
        emit.render(objects, opts.output_format), tuple(objects), tuple(warnings)
    )
