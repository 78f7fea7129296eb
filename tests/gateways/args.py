"""The command line of ``meshctl create ingress`` as the tests write it, read into the options
record (a stand-in for the CLI until it wires the command: same flag names, same meaning)."""

from __future__ import annotations

import argparse
import shlex

from meshctl.commands.create_ingress import CreateIngressOptions


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="meshctl create ingress", exit_on_error=False)
    p.add_argument("name")
    p.add_argument("--rule", action="append", default=[])
    p.add_argument("--default-backend")
    p.add_argument("--annotation", action="append", default=[])
    p.add_argument("--class", dest="ingress_class")
    p.add_argument("-n", "--namespace")
    p.add_argument("--service")
    p.add_argument("--path", action="append", default=[])
    p.add_argument("--host")
    p.add_argument("--path-type")
    p.add_argument("--tls-secret")
    p.add_argument("--style", default="ingress")
    p.add_argument("--gateway-selector", action="append", default=[])
    p.add_argument("--output-format", default="yaml")
    return p


def options(argv: list[str] | str) -> CreateIngressOptions:
    """``NAME --flag ...`` (a list, or one shell-quoted string) -> the options record."""
    if isinstance(argv, str):
        argv = shlex.split(argv)
    # "--rule=x" and "--rule x" alike; a value may start with "-" only in the "=" form
    ns = _parser().parse_args(argv)
    return CreateIngressOptions(
        ns.name,
        rules=tuple(ns.rule),
        default_backend=ns.default_backend,
        annotations=tuple(ns.annotation),
        ingress_class=ns.ingress_class,
        namespace=ns.namespace,
        service=ns.service,
        paths=tuple(ns.path),
        host=ns.host,
        path_type=ns.path_type,
        tls_secret=ns.tls_secret,
        style=ns.style,
        gateway_selector=tuple(ns.gateway_selector),
        output_format=ns.output_format,
    )
