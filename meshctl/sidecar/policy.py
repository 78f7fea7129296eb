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

from meshctl.gotemplate.types import go_scalar_string
from meshctl.outcomes import Code, Reason
from meshctl.records import Frozen
from meshctl.sidecar.names import INJECT

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final

IGNORED_NAMESPACES: Final = frozenset(
    {"kube-system", "kube-public", "kube-node-lease", "local-path-storage"}
)

class Decision(Frozen):
    """Inject or not, and why (:class:`meshctl.outcomes.Reason`)."""

    __slots__ = ("inject", "reason", "warnings")
    DEFAULTS = {"warnings": ()}

    inject: bool
    reason: Code  # a Reason
    warnings: tuple[str, ...]


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
        return Decision(False, Reason.HOST_NETWORK)
    if namespace in IGNORED_NAMESPACES:
        return Decision(False, Reason.IGNORED_NAMESPACE)

    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    warnings: list[str] = []
    source = "annotation"
    choice = _text(annotations.get(INJECT)) if isinstance(annotations, Mapping) else ""
    if isinstance(labels, Mapping) and INJECT in labels:
        source, choice = "label", _text(labels.get(INJECT))
    if choice == "true":
        return Decision(True, Reason.INJECTED)
    if choice == "false":
        return Decision(False, _DISABLED_BY[source])
    if choice != "":
        warnings.append(
            f"invalid value for {INJECT}: {choice!r}. Only 'true' and 'false' are accepted. "
            "Falling back to default injection policy."
        )

    pod_labels = labels if isinstance(labels, Mapping) else {}
    if any(selector_matches(s, pod_labels) for s in never_inject):
        return Decision(False, Reason.NEVER_INJECT_SELECTOR, tuple(warnings))
    if any(selector_matches(s, pod_labels) for s in always_inject):
        return Decision(True, Reason.INJECTED, tuple(warnings))
    if policy == "enabled":
        return Decision(True, Reason.INJECTED, tuple(warnings))
    return Decision(False, Reason.POLICY_DISABLED, tuple(warnings))


_DISABLED_BY: Final = {"label": Reason.LABEL_DISABLED, "annotation": Reason.ANNOTATION_DISABLED}

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
