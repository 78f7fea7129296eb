"""The injection decision: the truth table of meshctl.sidecar.policy's docstring, row by row."""

from __future__ import annotations

from typing import Any

import pytest

from meshctl.sidecar.policy import decide, selector_matches

KEY = "sidecar.istio.io/inject"
ABSENT = object()


def _meta(label: Any, annotation: Any, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"labels": dict(labels), "annotations": {}}
    if label is not ABSENT:
        meta["labels"][KEY] = label
    if annotation is not ABSENT:
        meta["annotations"][KEY] = annotation
    return meta


# label, annotation, policy -> (inject, reason)
TABLE = [
    ("true", ABSENT, "enabled", True, "injected"),
    ("true", "false", "disabled", True, "injected"),  # the label wins
    ("false", "true", "enabled", False, "label_disabled"),
    ("false", ABSENT, "enabled", False, "label_disabled"),
    (ABSENT, "true", "disabled", True, "injected"),
    (ABSENT, "false", "enabled", False, "annotation_disabled"),
    (ABSENT, ABSENT, "enabled", True, "injected"),
    (ABSENT, ABSENT, "disabled", False, "policy_disabled"),
    ("maybe", "false", "enabled", True, "injected"),  # invalid label: default, annotation ignored
    ("", "false", "disabled", False, "policy_disabled"),
    (ABSENT, "yes", "disabled", False, "policy_disabled"),
    (True, ABSENT, "disabled", True, "injected"),  # YAML booleans read as "true"/"false"
    (ABSENT, False, "enabled", False, "annotation_disabled"),
]


@pytest.mark.parametrize(("label", "annotation", "policy", "inject", "reason"), TABLE)
def test_truth_table(label: Any, annotation: Any, policy: str, inject: bool, reason: str) -> None:
    decision = decide(_meta(label, annotation), {}, policy=policy)
    assert (decision.inject, decision.reason) == (inject, reason)


def test_invalid_value_warns() -> None:
    decision = decide(_meta("maybe", ABSENT), {})
    assert decision.inject
    assert any("Only 'true' and 'false' are accepted" in w for w in decision.warnings)


def test_host_network_comes_first() -> None:
    decision = decide(_meta("true", ABSENT), {"hostNetwork": True})
    assert (decision.inject, decision.reason) == (False, "host_network")


@pytest.mark.parametrize("ns", ["kube-system", "kube-public", "kube-node-lease",
                                "local-path-storage"])
def test_system_namespaces(ns: str) -> None:
    decision = decide(_meta("true", ABSENT), {}, namespace=ns)
    assert (decision.inject, decision.reason) == (False, "ignored_namespace")
    assert decide(_meta("true", ABSENT), {}, namespace="default").inject


def test_selectors_apply_only_without_explicit_choice() -> None:
    never = [{"matchLabels": {"app": "db"}}]
    always = [{"matchExpressions": [{"key": "app", "operator": "In", "values": ["db", "web"]}]}]
    db = _meta(ABSENT, ABSENT, app="db")
    web = _meta(ABSENT, ABSENT, app="web")
    assert decide(db, {}, never_inject=never, always_inject=always).reason == \
        "never_inject_selector"
    assert decide(web, {}, policy="disabled", never_inject=never, always_inject=always).inject
    explicit = _meta(ABSENT, "true", app="db")
    assert decide(explicit, {}, never_inject=never).inject
    explicit_off = _meta(ABSENT, "false", app="web")
    assert not decide(explicit_off, {}, always_inject=always).inject


def test_selector_matching() -> None:
    labels = {"app": "web", "tier": "front"}
    assert not selector_matches({}, labels)  # an empty selector matches nothing (Istio)
    assert selector_matches({"matchLabels": {"app": "web"}}, labels)
    assert not selector_matches({"matchLabels": {"app": "db"}}, labels)
    assert selector_matches({"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]},
                            labels)
    assert not selector_matches({"matchExpressions": [{"key": "app", "operator": "NotIn",
                                                       "values": ["web"]}]}, labels)
    assert selector_matches({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, labels)
