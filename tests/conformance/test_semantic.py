"""The semantic comparison used against Istio's goldens must ignore Go's noise and nothing else."""

from __future__ import annotations

from tests.conformance.semantic import diff, normalize


def test_go_noise_is_ignored() -> None:
    golden = {"metadata": {"creationTimestamp": None, "name": "x"}, "spec": {
        "strategy": {}, "template": {"metadata": {}, "spec": {"containers": [
            {"name": "a", "resources": {"limits": {"cpu": "2", "memory": "1Gi"}},
             "readinessProbe": {"httpGet": {"port": 1}}}]}}},
        "status": {"replicas": 0}}
    ours = {"metadata": {"name": "x"}, "spec": {"template": {"spec": {"containers": [
        {"name": "a", "resources": {"limits": {"cpu": "2000m", "memory": "1024Mi"}},
         "readinessProbe": {"httpGet": {"port": 1}, "initialDelaySeconds": 0}}]}}}}
    assert diff(golden, ours) == ""
    assert normalize({"labels": {"n": 8080}}) == {"labels": {"n": "8080"}}


def test_real_differences_are_reported() -> None:
    base = {"spec": {"containers": [{"name": "a", "image": "x", "args": ["1", "2"]},
                                    {"name": "b"}]}}
    changed = {"spec": {"containers": [{"name": "a", "image": "y", "args": ["2", "1"]},
                                       {"name": "b"}]}}
    report = diff(base, changed)
    assert '/spec/containers[a]/image: expected "x", got "y"' in report
    assert "args[0]" in report
    reordered = {"spec": {"containers": [{"name": "b"}, base["spec"]["containers"][0]]}}
    assert "expected items ['a', 'b'], got ['b', 'a']" in diff(base, reordered)
    assert diff({"a": {"runAsUser": 0}}, {"a": {}}) != ""  # pointer fields keep their zero
    assert diff({"a": 1}, {"a": "1"}) != ""
    assert diff({"a": 1}, {"a": 1, "b": 2}) == "/b: unexpected 2"
