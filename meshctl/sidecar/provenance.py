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
``probes`` (:mod:`meshctl.sidecar.probes`) follows when there is something to keep.

The undo record, in the annotation ``meshctl.dev/undo`` of the workload object's own metadata
(not its pod template's: a change of the record, say of a comment it keeps, rolls no pod; for a
bare Pod the two are one), makes ``kube-uninject`` the exact inverse of ``kube-inject`` where
its own rules (:mod:`meshctl.sidecar.uninject`) would not be: each entry names a place in the
workload by its JSON Pointer, and either says that injection added what is there
(``[pointer, null, digest]``: a field a template writes that the rules keep, such as a
gateway's ``securityContext``), or holds the text the user had there (``[pointer, text,
digest]``, the node's recorded form, see :func:`meshctl.yamltext.recorded.recorded_text`: a
probe Istio rewrote, an ``annotations: {}`` that now holds entries, labels written as an alias,
the user's own ``kubectl.kubernetes.io/default-container``)::

    meshctl.dev/undo: '[["/spec/template/spec/securityContext",null,"5d1c0e9a2b7f"],
      ["/spec/template/spec/containers/0/readinessProbe/httpGet/port",": 8080","a41f93c07d2e"]]'

Removals come first, in the order they apply; then the texts, in document order. The record
is written only where it is needed (the document pipeline finds where:
:func:`meshctl.commands.reversal.exact_result`), kept as it is by
re-injection and applied by :mod:`meshctl.sidecar.uninject`.

The digest is of what the rules alone leave at the place (``-``: nothing): an entry applies
only while that is unchanged (:func:`current_undo`). A manifest edited after injection (an
annotation added to a once empty ``annotations: {}``, a field added to a rewritten probe) keeps
the edit: the entry of that place is left out, and the place is written plainly. A text that
reads only in its document (an alias, a ``<<`` merge of an anchor elsewhere) has a fourth
element, the digest of what it read as: it is written back only while it still reads so (its
anchor may have been edited since).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from meshctl.sidecar.names import PROVENANCE, STATUS, UNDO

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any

    #: an entry of ``undo`` to apply: (JSON Pointer, recorded form or None, the digest of the
    #: data the form read as in its document, for a form that reads only there: an alias or
    #: a ``<<`` merge of an anchor elsewhere)
    Undone = tuple[str, str | None, str | None]
    #: an entry of ``undo`` as recorded: (JSON Pointer, recorded form or None, digest of the
    #: place, digest of what the form read as or None)
    UndoEntry = tuple[str, str | None, str, str | None]

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


def value_at(obj: Any, pointer: str) -> tuple[bool, Any]:
    """``(True, value)`` at a JSON Pointer in ``obj``; ``(False, None)`` when nothing is there."""
    from meshctl.yamltext.patch import parse_pointer

    try:
        tokens = parse_pointer(pointer)
    except ValueError:
        return False, None
    for tok in tokens:
        if isinstance(obj, dict) and tok in obj:
            obj = obj[tok]
        elif isinstance(obj, list) and tok.isdigit() and int(tok) < len(obj):
            obj = obj[int(tok)]
        else:
            return False, None
    return True, obj


def digest_at(obj: Any, pointer: str) -> str:
    """The digest of what ``obj`` holds at a JSON Pointer (``-``: nothing)."""
    from meshctl.yamltext.patch import digest

    found, value = value_at(obj, pointer)
    return digest(value) if found else "-"


def undo_entries(undone: Any, undo: list[Undone]) -> list[UndoEntry]:
    """``undo`` ready for the record: each entry with the digest of what ``undone`` (the
    injected workload un-injected by the rules alone) holds at its place."""
    return [(pointer, text, digest_at(undone, pointer), reads)
            for pointer, text, reads in undo]


def current_undo(undone: Any, undo: list[UndoEntry]) -> list[Undone]:
    """The entries of a recorded ``undo`` that still apply to ``undone`` (the workload
    un-injected by the rules alone): those whose place holds what it held when they were
    recorded. A place changed since, by hand or by a tool, is the user's: its entry is left
    out, and the change is kept."""
    return [(pointer, text, reads) for pointer, text, digest, reads in undo
            if digest_at(undone, pointer) == digest]


def recorded_undo(obj: Mapping[str, Any]) -> list[UndoEntry]:
    """What a previous injection of the workload ``obj`` recorded to undo (see
    :data:`UndoEntry`)."""
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    if not isinstance(annotations, Mapping) or UNDO not in annotations:
        return []
    try:
        undo = json.loads(str(annotations[UNDO]))
    except ValueError:
        return []
    out: list[UndoEntry] = []
    for entry in undo if isinstance(undo, list) else ():
        if (isinstance(entry, list) and len(entry) in (3, 4) and isinstance(entry[0], str)
                and isinstance(entry[1], (str, type(None))) and isinstance(entry[2], str)):
            reads = entry[3] if len(entry) == 4 and isinstance(entry[3], str) else None
            out.append((entry[0], entry[1], entry[2], reads))
    return out


def keep_undo(obj: dict[str, Any], undo: list[UndoEntry]) -> dict[str, Any]:
    """The injected workload ``obj`` with ``undo`` in its annotation (``obj`` when empty)."""
    if not undo:
        return obj
    from meshctl.gotemplate.goyaml import go_json_ordered

    meta = obj.get("metadata")
    meta = dict(meta) if isinstance(meta, Mapping) else {}
    annotations = meta.get("annotations")
    annotations = dict(annotations) if isinstance(annotations, Mapping) else {}
    annotations[UNDO] = go_json_ordered(
        [[p, t, d] if r is None else [p, t, d, r] for p, t, d, r in undo])
    meta["annotations"] = annotations
    return {**obj, "metadata": meta}


def without_undo(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without the annotation of its undo record, and without an ``annotations`` that
    holds nothing (else). What un-injection leaves, whether the record is there or not: the
    record's entries are checked against it (a user's ``annotations: {}`` comes back through
    one)."""
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping) or "annotations" not in meta:
        return obj
    annotations = meta["annotations"]
    if isinstance(annotations, Mapping) and UNDO in annotations:
        annotations = {k: v for k, v in annotations.items() if k != UNDO}
    elif annotations:
        return obj
    new_meta = dict(meta)
    if annotations:
        new_meta["annotations"] = annotations
    else:
        del new_meta["annotations"]
    return {**obj, "metadata": new_meta}
