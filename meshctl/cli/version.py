"""What ``meshctl version`` and ``meshctl --version`` print (shared by the fast path and click)."""

from __future__ import annotations

from meshctl import __version__
from meshctl.sidecar.config import BUILTIN_ISTIO, BUILTIN_TEMPLATES

#: ``meshctl --version`` (click's ``version_option`` message)
VERSION_MESSAGE = "%(prog)s %(version)s"


def version_text(short: bool) -> str:
    """What ``meshctl version [--short]`` prints."""
    if short:
        return f"{__version__}\n"
    return (
        f"meshctl version {__version__}\n"
        f"built-in profile: Istio {BUILTIN_ISTIO} (docker.io/istio, tag {BUILTIN_ISTIO}), "
        f"templates {', '.join(BUILTIN_TEMPLATES)}\n"
    )


def option_text() -> str:
    """What ``meshctl --version`` prints."""
    return VERSION_MESSAGE % {"prog": "meshctl", "version": __version__} + "\n"
