"""Decide: does this pod get a sidecar, and if not, why not (Istio's ``injectRequired``).

The checks run in this order; the first that applies decides:

1. ``spec.hostNetwork: true``                 -> skip, ``host_network`` (with Istio's warning)
2. namespace ``kube-system``, ``kube-public``,
   ``kube-node-lease``, ``local-path-storage``  -> skip, ``ignored_namespace``
3. the ``sidecar.istio.io/inject`` *label*, else the *annotation* of the same name, gives the
   workload's choice (the label wins when both are present):

   ====================  ====================  ===========  ==========================
   label                 annotation            choice       outcome
   ====================  ====================  ===========  ==========================
   ``"true"``            any                   inject       inject
   ``"false"``           any                   no           skip, ``label_disabled``
   other / ``""``        any                   default      rows below (warning)
   absent                ``"true"``            inject       inject
   absent                ``"false"``           no           skip, ``annotation_disabled``
   absent                other / ``""``        default      rows below (warning if other)
   absent                absent                default      rows below
   ====================  ====================  ===========  ==========================

4. with no choice, a matching ``neverInjectSelector`` -> skip, ``never_inject_selector``;
   else a matching ``alwaysInjectSelector``          -> inject;
5. else the policy: ``enabled`` -> inject, ``disabled`` -> skip, ``policy_disabled``.

An explicit ``"true"`` injects even under a ``disabled`` policy; an explicit ``"false"`` wins over
an ``alwaysInjectSelector``. ``istioctl kube-inject`` applies the same rules with policy
``enabled`` and no selectors, which is what Istio's default injector config says too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from meshctl.istio.gotypes import go_scalar_string
from meshctl.records import Frozen

INJECT_KEY: Final = "sidecar.istio.io/inject"
IGNORED_NAMESPACES: Final = frozenset(
    {"kube-system", "kube-public", "kube-node-lease", "local-path-storage"}
)

#: Stable reason codes a decision can give.
REASONS: Final[Mapping[str, str]] = {
    "injected": "the sidecar is injected",
    "host_network": "the pod uses the host network",
    "ignored_namespace": "the namespace is reserved for the system",
    "label_disabled": 'label sidecar.istio.io/inject is "false"',
    "annotation_disabled": 'annotation sidecar.istio.io/inject is "false"',
    "never_inject_selector": "a neverInjectSelector of the injector config matches the pod",
    "policy_disabled": "the injection policy is disabled and nothing enables this workload",
}


class Decision(Frozen):
    """Inject or not, and why. Immutable (assigning raises); a plain slotted class because
    importing :mod:`dataclasses` costs every start-up milliseconds."""

    __slots__ = ("inject", "reason", "warnings")

    inject: bool
    reason: str
    warnings: tuple[str, ...]

    def __init__(self, inject: bool, reason: str, warnings: tuple[str, ...] = ()) -> None:
        _set = object.__setattr__
        _set(self, "inject", inject)
        _set(self, "reason", reason)
        _set(self, "warnings", warnings)


def decide(
    meta: Mapping[str, Any],
    spec: Mapping[str, Any],
    *,
    namespace: str = "",
    policy: str = "enabled",
    never_inject: Sequence[Mapping[str, Any]] = (),
    always_inject: Sequence[Mapping[str, Any]] = (),
) -> Decision:
    """The decision for a pod with metadata ``meta`` and spec ``spec`` (see the module table)."""
    if spec.get("hostNetwork") is True:
        return Decision(False, "host_network")
    if namespace in IGNORED_NAMESPACES:
        return Decision(False, "ignored_namespace")

    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    warnings: list[str] = []
    source = "annotation"
    choice = _text(annotations.get(INJECT_KEY)) if isinstance(annotations, Mapping) else ""
    if isinstance(labels, Mapping) and INJECT_KEY in labels:
        source, choice = "label", _text(labels.get(INJECT_KEY))
    if choice == "true":
        return Decision(True, "injected")
    if choice == "false":
        return Decision(False, f"{source}_disabled")
    if choice != "":
        warnings.append(
            f"invalid value for {INJECT_KEY}: {choice!r}. Only 'true' and 'false' are accepted. "
            "Falling back to default injection policy."
        )

    pod_labels = labels if isinstance(labels, Mapping) else {}
    if any(selector_matches(s, pod_labels) for s in never_inject):
        return Decision(False, "never_inject_selector", tuple(warnings))
    if any(selector_matches(s, pod_labels) for s in always_inject):
        return Decision(True, "injected", tuple(warnings))
    if policy == "enabled":
        return Decision(True, "injected", tuple(warnings))
    return Decision(False, "policy_disabled", tuple(warnings))


_text = go_scalar_string  # a label/annotation value as Kubernetes reads it into a string


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    """A Kubernetes ``LabelSelector``; an empty selector matches nothing (Istio's rule)."""
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not match_labels and not expressions:
        return False
    for key, value in match_labels.items():
        if key not in labels or _text(labels[key]) != _text(value):
            return False
    for expr in expressions:
        key = expr.get("key")
        op = expr.get("operator")
        values = [_text(v) for v in expr.get("values") or []]
        present = key in labels
        current = _text(labels.get(key)) if present else None
        if op == "In" and not (present and current in values):
            return False
        if op == "NotIn" and present and current in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False
    return True
