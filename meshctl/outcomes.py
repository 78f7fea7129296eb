"""What happened to a resource: the one vocabulary of actions and reason codes.

The policy (:mod:`meshctl.sidecar.policy`), the injector (:mod:`meshctl.sidecar.inject`),
the pipeline (:mod:`meshctl.commands.pipeline`) and the report
(:mod:`meshctl.manifests.report`) all speak it. Codes are stable snake_case strings (scripts
match on them; linkerd's inject report keeps such codes too); each has one sentence, shown by
``--report json`` and in the docs.
"""

from __future__ import annotations

from meshctl.records import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any


class Code(str):
    """A stable code (the string itself) with its sentence. (A ``str`` subclass rather than an
    ``enum``: the two vocabularies below would cost ~0.4 ms of every start-up as enums.)"""

    sentence: str

    def __new__(cls, code: str, sentence: str) -> Code:
        self = super().__new__(cls, code)
        self.sentence = sentence
        return self

    def __repr__(self) -> str:
        return f"<{str(self)}>"

    def __reduce__(self) -> tuple[type[Code], tuple[str, str]]:
        # results cross the process boundary of a parallel run; codes compare as strings
        return (Code, (str(self), self.sentence))


class Action:
    """What meshctl did to a workload."""

    INJECTED = Code("injected", "the sidecar was injected")
    UNINJECTED = Code("uninjected", "the sidecar was removed")
    UNCHANGED = Code("unchanged", "the document is left byte-identical")
    SKIPPED = Code("skipped",
                   "the workload is not injected; the document is left byte-identical")


class Reason:
    """Why: one code per rule that decided."""

    INJECTED = Code("injected", "the sidecar was injected")
    UP_TO_DATE = Code("up_to_date",
                      "already injected with the current settings; left byte-identical")
    STALE_INJECTION = Code("stale_injection",
                           "injected before by another meshctl, another profile or with other "
                           "settings; injected again with the current ones")
    LABEL_DISABLED = Code("label_disabled", 'label sidecar.istio.io/inject is "false"')
    ANNOTATION_DISABLED = Code("annotation_disabled",
                               'annotation sidecar.istio.io/inject is "false"')
    POLICY_DISABLED = Code("policy_disabled",
                           "the injection policy is disabled and nothing enables this workload")
    NEVER_INJECT_SELECTOR = Code("never_inject_selector",
                                 "a neverInjectSelector of the injector config matches the pod")
    HOST_NETWORK = Code("host_network", "the pod uses the host network")
    IGNORED_NAMESPACE = Code("ignored_namespace", "the namespace is reserved for the system")
    UNKNOWN_KIND = Code("unknown_kind",
                        "not a kind meshctl injects, although it has a pod template")
    NO_POD_TEMPLATE = Code("no_pod_template", "the workload has no pod template to inject")
    TEMPLATE_ELSEWHERE = Code("template_elsewhere",
                              "the pod template is in the object the workload references "
                              "(an Argo Rollout's spec.workloadRef): inject that one")
    UNINJECTED = Code("uninjected", "the sidecar was removed")
    NOT_INJECTED = Code("not_injected", "the workload had no injection to remove")


def self_evident(action: str, reason: str) -> bool:
    """Whether ``reason`` only repeats ``action`` (injected because injected): a report names
    the action alone then."""
    return (action, reason) in _SELF_EVIDENT


_SELF_EVIDENT = frozenset({(Action.INJECTED, Reason.INJECTED),
                           (Action.UNINJECTED, Reason.UNINJECTED)})  # fmt: skip


def codes(vocabulary: type) -> dict[str, Code]:
    """Every code of ``Action`` or ``Reason``, by its string."""
    return {str(v): v for k, v in vars(vocabulary).items() if isinstance(v, Code)}


class Outcome(Frozen):
    """What a per-workload step (inject, uninject) did: the new object (None when the workload
    is skipped), the action, the reason and warnings in Istio's words. ``texts``: source texts
    to write back as they are, ``(path in the new object, recorded form, digest)`` (see
    :func:`meshctl.yamltext.recorded.recorded_text`): what an un-injection restores byte for
    byte; the digest (:func:`meshctl.yamltext.patch.digest`), for a form that reads only in its
    document, is of what it must read as there (else None)."""

    __slots__ = ("obj", "action", "reason", "warnings", "texts")
    DEFAULTS = {"warnings": (), "texts": ()}

    obj: dict[str, Any] | None
    action: Code  # an Action
    reason: Code  # a Reason
    warnings: tuple[str, ...]
    texts: tuple[tuple[tuple[str | int, ...], str, str | None], ...]
