"""meshctl's undo record (``undo`` in the status annotation): kube-uninject gives back the input's
bytes where the rules alone would not, and never at the cost of an edit made after injection.

Each entry holds the digest of what the rules leave at its place; an entry whose place changed
since (the user added an annotation to a once empty ``annotations: {}``, a field to a rewritten
probe) is left out, and the change is kept (written plainly)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import SHARED
from tests.properties.invariants import kube

EMPTY_ANNOTATIONS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
      annotations: {}  # none yet
    spec:
      containers:
      - name: app
        image: nginx
        readinessProbe:
          tcpSocket: {port: 8080}
"""


def _inject(text: str) -> str:
    run = kube("kube-inject", text, "-q")
    assert run.rc == 0, run.stderr
    return run.stdout


def _undo(text: str) -> list[list[object]]:
    doc = yaml.safe_load(text)
    undo: list[list[object]] = json.loads(doc["metadata"]["annotations"]["meshctl.dev/undo"])
    return undo


def _pod(text: str) -> dict[str, object]:
    pod: dict[str, object] = yaml.safe_load(text)["spec"]["template"]
    return pod


def test_entries_name_a_place_a_text_and_a_digest() -> None:
    """The record is on the Deployment's own metadata, not its pod template's (a change of it,
    say of a comment it keeps, rolls no pod)."""
    injected = _inject(EMPTY_ANNOTATIONS)
    assert "meshctl.dev/undo" not in str(_pod(injected)["metadata"])
    undo = _undo(injected)
    assert [e[0] for e in undo] == ["/spec/template/metadata/annotations",
                                    "/spec/template/spec/containers/0/readinessProbe"]
    assert undo[0][1] == ": {}  # none yet"
    assert all(len(e) == 3 and isinstance(e[2], str) for e in undo)
    assert undo[0][2] == "-"  # the rules leave no annotations there


def _edited_annotations(injected: str) -> str:
    marker = "      annotations:  # none yet\n"
    assert injected.count(marker) == 1
    return injected.replace(marker, marker + "        backup.velero.io/backup-volumes: data\n")


def _edited_probe(injected: str) -> str:
    marker = "        readinessProbe:\n"
    app = marker + "          httpGet:\n            port: 15020\n"
    assert injected.count(app) == 1
    return injected.replace(app, marker + "          periodSeconds: 10\n" + app[len(marker):])


@pytest.mark.parametrize("command", ["kube-uninject", "kube-inject"])
def test_an_annotation_added_after_injection_is_kept(command: str) -> None:
    edited = _edited_annotations(_inject(EMPTY_ANNOTATIONS))
    run = kube(command, edited, "-q")
    assert run.rc == 0, run.stderr
    annotations = _pod(run.stdout)["metadata"]
    assert isinstance(annotations, dict)
    assert annotations["annotations"]["backup.velero.io/backup-volumes"] == "data"


@pytest.mark.parametrize("command", ["kube-uninject", "kube-inject"])
def test_a_field_added_to_a_rewritten_probe_is_kept(command: str) -> None:
    edited = _edited_probe(_inject(EMPTY_ANNOTATIONS))
    run = kube(command, edited, "-q")
    assert run.rc == 0, run.stderr
    spec = _pod(run.stdout)["spec"]
    assert isinstance(spec, dict)
    probe = spec["containers"][0]["readinessProbe"]
    assert probe["periodSeconds"] == 10
    if command == "kube-uninject":
        assert probe["tcpSocket"] == {"port": 8080}


def test_the_places_not_edited_still_come_back_as_they_were() -> None:
    """The probe was edited; the annotations were not: they come back byte for byte."""
    back = kube("kube-uninject", _edited_probe(_inject(EMPTY_ANNOTATIONS)), "-q").stdout
    assert "      annotations: {}  # none yet\n" in back


def test_an_edit_undone_by_hand_makes_the_entry_apply_again() -> None:
    injected = _inject(EMPTY_ANNOTATIONS)
    edited = _edited_annotations(injected)
    reverted = edited.replace("        backup.velero.io/backup-volumes: data\n", "")
    assert reverted == injected
    assert kube("kube-uninject", reverted, "-q").stdout == EMPTY_ANNOTATIONS


def test_a_merge_key_that_the_rules_remove_comes_back() -> None:
    """The pod's metadata is a merge of an anchor with local labels that injection fills: the
    rules leave no metadata at all; the record writes it back, read in its document."""
    text = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nx-meta: &meta\n"
            "  labels:\n    app: a\nspec:\n  selector:\n    matchLabels:\n      app: a\n"
            "  template:\n    metadata:\n      <<: *meta\n      labels: {}\n    spec:\n"
            "      containers:\n      - name: a\n        image: nginx\n")
    assert kube("kube-uninject", _inject(text), "-q").stdout == text


def test_injected_with_other_settings_kube_uninject_is_exact(tmp_path: Path) -> None:
    """kube-uninject takes no settings (it un-injects with the built-in profile's): a manifest
    injected with Istio's own config and a network in its values comes back byte for byte,
    the network label included (the record holds what the built-in rules would keep)."""
    settings = SHARED / "istio-golden" / "settings"
    values = json.loads((settings / "values.json").read_text(encoding="utf-8"))
    values["global"]["network"] = "net1"
    values_file = tmp_path / "values.json"
    values_file.write_text(json.dumps(values), encoding="utf-8")
    injected = kube("kube-inject", EMPTY_ANNOTATIONS, "-q",
                    "--injectConfigFile", str(settings / "inject-config.yaml"),
                    "--valuesFile", str(values_file),
                    "--meshConfigFile", str(settings / "mesh.yaml"))
    assert injected.rc == 0, injected.stderr
    assert "topology.istio.io/network: net1" in injected.stdout
    assert kube("kube-uninject", injected.stdout, "-q").stdout == EMPTY_ANNOTATIONS


def test_a_rewritten_probe_deleted_after_injection_stays_deleted() -> None:
    """The probe's original is still in ISTIO_KUBE_APP_PROBERS; Istio's former kube-uninject
    rebuilt a probe missing from an Istio-injected pod from it, but on a pod meshctl injected
    a missing probe was deleted by the user."""
    injected = _inject(EMPTY_ANNOTATIONS)
    probe = ("        readinessProbe:\n          httpGet:\n            port: 15020\n"
             "            path: /app-health/app/readyz\n")
    assert injected.count(probe) == 1
    back = kube("kube-uninject", injected.replace(probe, ""), "-q")
    assert back.rc == 0, back.stderr
    spec = _pod(back.stdout)["spec"]
    assert isinstance(spec, dict)
    assert "readinessProbe" not in spec["containers"][0]
    assert back.stdout == EMPTY_ANNOTATIONS.replace("        readinessProbe:\n"
                                                    "          tcpSocket: {port: 8080}\n", "")


ALIASED_PROBE = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    image: nginx
    livenessProbe: &probe
      httpGet: {port: 8080, path: /h}
    readinessProbe: *probe
"""


def test_an_alias_whose_anchor_was_edited_is_not_written_back() -> None:
    """The readiness probe was ``*probe``; after injection the user edits the liveness probe
    (the anchor): writing ``*probe`` back would give the readiness probe the edit too. It is
    written as its data instead; the rest still comes back."""
    injected = _inject(ALIASED_PROBE)
    assert kube("kube-uninject", injected, "-q").stdout == ALIASED_PROBE
    anchor = "    livenessProbe: &probe\n      httpGet: {port: 15020, path: /app-health/c/livez}\n"
    assert injected.count(anchor) == 1
    edited = injected.replace(anchor, anchor + "      failureThreshold: 9\n")
    back = kube("kube-uninject", edited, "-q")
    assert back.rc == 0, back.stderr
    pod = yaml.safe_load(back.stdout)["spec"]["containers"][0]
    assert pod["livenessProbe"] == {"httpGet": {"port": 8080, "path": "/h"},
                                    "failureThreshold": 9}
    assert pod["readinessProbe"] == {"httpGet": {"port": 8080, "path": "/h"}}


def test_a_text_that_cannot_be_written_back_leaves_the_others() -> None:
    """The pod's labels were ``*lbl``; after injection the user moves the anchor below them, so
    the alias cannot be written back: only that place is written plainly."""
    text = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
            "  selector:\n    matchLabels: &lbl\n      app: web\n  template:\n    metadata:\n"
            "      labels: *lbl\n      annotations: {}  # none yet\n    spec:\n"
            "      containers:\n      - name: web\n        image: nginx\n")
    injected = _inject(text)
    selector = "  selector:\n    matchLabels: &lbl\n      app: web\n"
    assert injected.count(selector) == 1
    moved = injected.replace(selector, "") + selector
    back = kube("kube-uninject", moved, "-q")
    assert back.rc == 0, back.stderr
    assert "      annotations: {}  # none yet\n" in back.stdout
    assert "      labels:\n        app: web\n" in back.stdout


def test_a_comment_edit_changes_no_pod_template() -> None:
    """The record keeps the user's comments at the places it records: a comment edit there
    changes the record, which is why it lives on the workload's own metadata: the pod
    template, and so the pods, stay the same (no rollout)."""
    edited = EMPTY_ANNOTATIONS.replace("# none yet", "# reviewed")
    one, two = _inject(EMPTY_ANNOTATIONS), _inject(edited)
    assert _undo(one) != _undo(two)
    assert _pod(one) == _pod(two)


def test_reinjecting_an_edited_manifest_keeps_the_way_back_exact() -> None:
    """A container added after injection, with a probe injection rewrites: re-injection (the
    pod changed since) is an injection of kube-uninject's result, recorded afresh, so
    kube-uninject of it gives what kube-uninject of the edited manifest gives, byte for
    byte (the probe's number, flow style and comment)."""
    injected = _inject(EMPTY_ANNOTATIONS)
    proxy = "      - name: istio-proxy\n"
    added = ("      - name: cache\n        image: redis\n        ports:\n        - name: redis\n"
             "          containerPort: 6379\n        livenessProbe:\n"
             "          tcpSocket: {port: 6379}  # mine\n")
    edited = injected.replace(proxy, added + proxy)
    reinjected = kube("kube-inject", edited)
    assert reinjected.rc == 0, reinjected.stderr
    assert "injected (stale_injection)" in reinjected.stderr
    want = kube("kube-uninject", edited, "-q").stdout
    assert "          tcpSocket: {port: 6379}  # mine\n" in want
    assert kube("kube-uninject", reinjected.stdout, "-q").stdout == want
    assert _inject(reinjected.stdout) == reinjected.stdout  # and a fixed point
