"""The provenance record of an injection: who injected, with what.

meshctl writes it into the ``sidecar.istio.io/status`` annotation's JSON, under the key
``meshctl`` (Istio reads the fields it knows and ignores this one)::

    {"initContainers":[...], ..., "revision":"default",
     "meshctl":{"version":"0.1.0","profile":"builtin/istio-1.29.0","settings":"3f2a9c0d1e4b"}}

``profile`` names what the settings are: ``builtin/istio-<release>`` (the built-in profile) or
``istio`` (the user's own Istio config, from files or ``--from-cluster``); ``settings`` is a
digest of everything that shapes the injected pod (templates, values, mesh
config, revision, native sidecars, policy...). ``--check`` thereby fails on a manifest injected
by another meshctl, another profile or other settings, and says which (``stale_injection``); a
plain re-run upgrades it.
"""

from __future__ import annotations

import json

from meshctl.sidecar.names import PROVENANCE, STATUS

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from collections.abc import Mapping
    from typing import Any

    from meshctl.sidecar.config.settings import Settings

#: how many hex digits of the settings' SHA-256 the record keeps
DIGEST_LENGTH = 12


def settings_digest(settings: Settings) -> str:
    """A digest of every setting that shapes an injected pod."""
    from meshctl import cache as diskcache

    shaped = {
        "templates": dict(settings.templates),
        "default_templates": list(settings.default_templates),
        "aliases": {k: list(v) for k, v in settings.aliases.items()},
        "policy": settings.policy,
        "never_inject_selector": list(settings.never_inject_selector),
        "always_inject_selector": list(settings.always_inject_selector),
        "injected_annotations": dict(settings.injected_annotations),
        "values": settings.values,
        "mesh": settings.mesh,
        "revision": settings.revision,
        "native_sidecars": settings.native_sidecars,
        "compliance_policy": settings.compliance_policy,
    }
    text = json.dumps(shaped, sort_keys=True, separators=(",", ":"), default=str)
    return diskcache.digest("provenance", text)[:DIGEST_LENGTH]


def record(settings: Settings, profile: str) -> dict[str, str]:
    """The record of an injection with ``settings`` from ``profile``."""
    from meshctl import __version__

    return {"version": __version__, "profile": profile, "settings": settings_digest(settings)}


def previous_record(annotations: Mapping[str, Any]) -> dict[str, Any] | None:
    """The record of a previous injection: ``{}`` when the pod was injected without one (by
    Istio, or an older meshctl), None when it was not injected at all."""
    if STATUS not in annotations:
        return None
    try:
        status = json.loads(str(annotations[STATUS]))
    except ValueError:
        return {}
    found = status.get(PROVENANCE) if isinstance(status, dict) else None
    return dict(found) if isinstance(found, dict) else {}


def why_stale(previous: Mapping[str, Any], current: Mapping[str, str]) -> str:
    """Why a previous injection differs from the one the current settings make (one line)."""
    if not previous:
        return "injected without a meshctl record (by istioctl, the webhook or an old meshctl)"
    reasons = []
    for key, what in (("profile", "profile"), ("settings", "settings"),
                      ("version", "meshctl version")):
        if previous.get(key) != current.get(key):
            reasons.append(f"{what} {previous.get(key, '?')} (now {current.get(key)})")
    if not reasons:
        return "injected with the same settings, but the pod changed since"
    return "injected with " + ", ".join(reasons)
