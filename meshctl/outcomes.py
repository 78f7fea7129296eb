"""What happened to a resource: the one vocabulary of actions and reason codes.

The policy (:mod:`meshctl.sidecar.policy`), the injector (:mod:`meshctl.sidecar.inject`),
the pipeline (:mod:`meshctl.commands.pipeline`) and the report
(:mod:`meshctl.manifests.report`) all speak it. Codes are stable snake_case strings (scripts
match on them; linkerd's inject report keeps such codes too); each has one sentence, shown by
``--report json`` and in the docs.
"""

from __future__ import annotations

import enum

from meshctl.records import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any


class _Coded(enum.StrEnum):
    """A code (the member's value, a ``str``) with its sentence."""

    sentence: str

    def __new__(cls, code: str, sentence: str) -> _Coded:
        member = str.__new__(cls, code)
        member._value_ = code
        member.sentence = sentence
        return member

    def __str__(self) -> str:
        return str(self.value)


class Action(_Coded):
    """What meshctl did to a workload."""

    INJECTED = "injected", "the sidecar was injected"
    UNINJECTED = "uninjected", "the sidecar was removed"
    UNCHANGED = "unchanged", "the document is left byte-identical"
    SKIPPED = "skipped", "the workload is not injected; the document is left byte-identical"


class Reason(_Coded):
    """Why: one code per rule that decided."""

    INJECTED = "injected", "the sidecar was injected"
    UP_TO_DATE = "up_to_date", "already injected with the current settings; left byte-identical"
    LABEL_DISABLED = "label_disabled", 'label sidecar.istio.io/inject is "false"'
    ANNOTATION_DISABLED = "annotation_disabled", 'annotation sidecar.istio.io/inject is "false"'
    POLICY_DISABLED = (
        "policy_disabled",
        "the injection policy is disabled and nothing enables this workload",
    )
    NEVER_INJECT_SELECTOR = (
        "never_inject_selector",
        "a neverInjectSelector of the injector config matches the pod",
    )
    HOST_NETWORK = "host_network", "the pod uses the host network"
    IGNORED_NAMESPACE = "ignored_namespace", "the namespace is reserved for the system"
    UNKNOWN_KIND = "unknown_kind", "not a kind meshctl injects, although it has a pod template"
    NO_POD_TEMPLATE = "no_pod_template", "the workload has no pod template to inject"
    UNINJECTED = "uninjected", "the sidecar was removed"
    NOT_INJECTED = "not_injected", "the workload had no injection to remove"


class Outcome(Frozen):
    """What a per-workload step (inject, uninject) did: the new object (None when the workload
    is skipped), the action, the reason and warnings in Istio's words."""

    __slots__ = ("obj", "action", "reason", "warnings")
    DEFAULTS = {"warnings": ()}

    obj: dict[str, Any] | None
    action: Action
    reason: Reason
    warnings: tuple[str, ...]
