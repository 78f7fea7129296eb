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
    status = doc["spec"]["template"]["metadata"]["annotations"]["sidecar.istio.io/status"]
    undo: list[list[object]] = json.loads(status)["meshctl"]["undo"]
    return undo


def _pod(text: str) -> dict[str, object]:
    pod: dict[str, object] = yaml.safe_load(text)["spec"]["template"]
    return pod


def test_entries_name_a_place_a_text_and_a_digest() -> None:
    undo = _undo(_inject(EMPTY_ANNOTATIONS))
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
