"""``meshctl create ingress``: its runner (the command is declared in :mod:`meshctl.cli.spec`)."""

from __future__ import annotations

import sys

from meshctl.errors import MeshctlError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any


def run_create_ingress(kw: dict[str, Any]) -> int:
    """Print the manifests on stdout, warnings on stderr; the exit code."""
    from meshctl.cli.output import fail
    from meshctl.commands.create_ingress import CreateIngressOptions, create_ingress

    try:
        result = create_ingress(CreateIngressOptions(**kw))
    except MeshctlError as exc:
        return fail(str(exc), exc.exit_code)
    sys.stdout.write(result.text)
    sys.stdout.flush()
    for warning in result.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    return 0
