"""Strategic merge as Kubernetes does it for Pods (meshctl.sidecar.merge)."""

from __future__ import annotations

import copy
from typing import Any

from meshctl.sidecar.merge import strategic_merge


def names(items: list[dict[str, Any]]) -> list[str]:
    return [i["name"] for i in items]


def test_lists_merge_by_key_new_patch_items_first() -> None:
    pod = {"spec": {"volumes": [{"name": "data", "emptyDir": {}}],
                    "containers": [{"name": "app", "env": [{"name": "A", "value": "1"},
                                                           {"name": "B", "value": "2"}]}]}}
    before = copy.deepcopy(pod)
    patch = {"spec": {"volumes": [{"name": "v1"}, {"name": "v2"}],
                      "containers": [{"name": "app", "env": [{"name": "C", "value": "3"},
                                                             {"name": "B", "value": "x"}]}]}}
    out = strategic_merge(pod, patch)
    assert pod == before  # nothing mutated
    assert names(out["spec"]["volumes"]) == ["v1", "v2", "data"]
    env = out["spec"]["containers"][0]["env"]
    assert env == [{"name": "C", "value": "3"}, {"name": "A", "value": "1"},
                   {"name": "B", "value": "x"}]


def test_scalars_and_plain_lists_replace_nulls_delete() -> None:
    pod = {"spec": {"containers": [{"name": "p", "args": ["a", "b"], "image": "i",
                                    "securityContext": {"runAsUser": 1, "privileged": True}}]}}
    patch = {"spec": {"containers": [{"name": "p", "args": ["c"], "image": None,
                                      "securityContext": {"runAsUser": 2}}]}}
    out = strategic_merge(pod, patch)["spec"]["containers"][0]
    assert out == {"name": "p", "args": ["c"], "securityContext": {"runAsUser": 2,
                                                                    "privileged": True}}


def test_empty_patch_list_keeps_the_original() -> None:
    pod = {"spec": {"initContainers": [{"name": "user-init"}]}}
    assert strategic_merge(pod, {"spec": {"initContainers": []}}) == pod


def test_new_values_are_copied_without_nulls() -> None:
    volume = {"name": "v", "emptyDir": None, "configMap": {"name": "x", "optional": None}}
    patch = {"spec": {"volumes": [volume]}}
    out = strategic_merge({"spec": {}}, patch)
    assert out["spec"]["volumes"] == [{"name": "v", "configMap": {"name": "x"}}]
    out["spec"]["volumes"][0]["configMap"]["name"] = "changed"
    assert volume["configMap"]["name"] == "x"


def test_ports_merge_on_container_port_and_directives() -> None:
    c = {"name": "p", "ports": [{"containerPort": 80, "name": "http"}],
         "volumeMounts": [{"mountPath": "/a", "name": "a"}, {"mountPath": "/b", "name": "b"}]}
    patch = {"spec": {"containers": [{"name": "p", "ports": [{"containerPort": 80,
                                                              "protocol": "TCP"}],
                                      "volumeMounts": [{"mountPath": "/a", "$patch": "delete"}]}]}}
    out = strategic_merge({"spec": {"containers": [c]}}, patch)["spec"]["containers"][0]
    assert out["ports"] == [{"containerPort": 80, "name": "http", "protocol": "TCP"}]
    assert out["volumeMounts"] == [{"mountPath": "/b", "name": "b"}]
    replaced = strategic_merge({"spec": {"affinity": {"a": 1, "b": 2}}},
                               {"spec": {"affinity": {"$patch": "replace", "c": 3}}})
    assert replaced["spec"]["affinity"] == {"c": 3}
