"""Report: one record per resource, rendered for people (one line each) or as JSON.

Every workload the run looked at gets a :class:`Result` with a stable snake_case reason code
(linkerd's inject report keeps such codes too). Documents that are not workloads pass through and
are not reported. The CLI prints the report on stderr after the output, so it never mixes with
the manifests on stdout.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from meshctl.records import Frozen

#: reason code -> sentence. Codes are stable: scripts match on them.
REASONS: dict[str, str] = {
    "injected": "the sidecar was injected",
    "reinjected": "a previous injection was replaced by the current one",
    "up_to_date": "already injected with the current settings; left byte-identical",
    "label_disabled": 'label sidecar.istio.io/inject is "false"',
    "annotation_disabled": 'annotation sidecar.istio.io/inject is "false"',
    "policy_disabled": "the injection policy is disabled and nothing enables this workload",
    "never_inject_selector": "a neverInjectSelector of the injector config matches the pod",
    "host_network": "the pod uses the host network",
    "ignored_namespace": "the namespace is reserved for the system",
    "unknown_kind": "not a kind meshctl injects, although it has a pod template",
    "uninjected": "the sidecar was removed",
    "not_injected": "the workload had no injection to remove",
}


class Result(Frozen):
    """What happened to one resource.

    Immutable (assigning raises). A plain slotted class, not a dataclass: importing
    :mod:`dataclasses` (and :mod:`inspect` with it) costs every start-up milliseconds. Results
    cross the process boundary of a parallel run, hence :meth:`__reduce__`.
    """

    __slots__ = ("kind", "namespace", "name", "action", "reason", "source", "document",
                 "warnings")

    kind: str
    namespace: str
    name: str
    action: str  # "injected" | "skipped" | "unchanged" | "uninjected"
    reason: str
    source: str
    document: int
    warnings: tuple[str, ...]

    def __init__(self, kind: str, namespace: str, name: str, action: str, reason: str,
                 source: str, document: int, warnings: tuple[str, ...] = ()) -> None:
        _set = object.__setattr__
        _set(self, "kind", kind)
        _set(self, "namespace", namespace)
        _set(self, "name", name)
        _set(self, "action", action)
        _set(self, "reason", reason)
        _set(self, "source", source)
        _set(self, "document", document)
        _set(self, "warnings", warnings)


    @property
    def ref(self) -> str:
        return f"{self.kind.lower()}/{self.namespace}/{self.name}"

    def line(self) -> str:
        if self.action == "skipped" or self.reason not in ("injected", "uninjected"):
            return f"{self.ref}: {self.action} ({self.reason})"
        return f"{self.ref}: {self.action}"


def render_text(results: Sequence[Result], warnings: Iterable[str] = ()) -> str:
    lines = [f"warning: {w}" for w in warnings]
    for r in results:
        lines.extend(f"warning: {r.ref}: {w}" for w in r.warnings)
    lines.extend(r.line() for r in results)
    return "\n".join(lines) + ("\n" if lines else "")


def render_json(results: Sequence[Result], warnings: Iterable[str] = ()) -> str:
    payload = {
        "warnings": list(warnings),
        "resources": [
            {
                "kind": r.kind,
                "namespace": r.namespace,
                "name": r.name,
                "action": r.action,
                "reason": r.reason,
                "source": r.source,
                "document": r.document,
                "warnings": list(r.warnings),
                "message": REASONS.get(r.reason, ""),
            }
            for r in results
        ],
    }
    return json.dumps(payload, indent=2) + "\n"
