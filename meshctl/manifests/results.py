"""What a run over manifests produced: one record per resource, per changed document, per input.

The pipeline (:mod:`meshctl.commands.pipeline`) builds them; emit (:mod:`meshctl.manifests.emit`)
and the report (:mod:`meshctl.manifests.report`) read them. They cross the process boundary of a
parallel run (pickled field by field).
"""

from __future__ import annotations

from meshctl.manifests.read import Source
from meshctl.outcomes import Code
from meshctl.records import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any


class Result(Frozen):
    """What happened to one resource, and where it is (``source``, 1-based ``document``)."""

    __slots__ = ("kind", "namespace", "name", "action", "reason", "source", "document",
                 "warnings")  # fmt: skip
    DEFAULTS = {"warnings": ()}

    kind: str
    namespace: str
    name: str
    action: Code  # an Action
    reason: Code  # a Reason
    source: str
    document: int
    warnings: tuple[str, ...]

    @property
    def ref(self) -> str:
        return f"{self.kind.lower()}/{self.namespace}/{self.name}"


class DocumentChange(Frozen):
    """A document whose text changes, with the RFC 6902 JSON Patch that describes the change
    (empty unless the run prints patches: they travel back from worker processes only then).

    ``items``: for a ``*List`` document, ``(pointer, apiVersion, kind, namespace, name)`` of each
    resource in it, at any depth (the patch's paths of that resource start with ``pointer``)."""

    __slots__ = ("source", "document", "api_version", "kind", "namespace", "name", "patch",
                 "items")
    DEFAULTS = {"items": ()}

    source: str
    document: int
    api_version: str
    kind: str
    namespace: str
    name: str
    patch: list[dict[str, Any]]
    items: tuple[tuple[str, str, str, str, str], ...]


class SourceResult(Frozen):
    """An input and its new text."""

    __slots__ = ("source", "new_text")

    source: Source
    new_text: str

    @property
    def changed(self) -> bool:
        return self.new_text != self.source.text


class RunResult(Frozen):
    """Everything a run produced: new texts, per-resource results, patches, warnings."""

    __slots__ = ("sources", "results", "changes", "warnings")
    DEFAULTS = {"warnings": ()}

    sources: tuple[SourceResult, ...]
    results: tuple[Result, ...]
    changes: tuple[DocumentChange, ...]
    warnings: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return any(s.changed for s in self.sources)
