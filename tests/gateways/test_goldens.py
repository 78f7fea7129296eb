"""Golden cases of ``create ingress``: one folder per case under goldens/, found automatically.

A case folder holds ``args`` (the command line after ``meshctl create ingress``, shell-quoted),
``expected.out`` (the exact manifest text) and ``expected.warnings`` (one warning a line; absent:
none). ``pytest --update-goldens tests/gateways`` rewrites them from the current output; without
it, a stale or missing expected file fails.

Each case is also checked beyond its text: every object validates (see schemas.py), the text
reads back (PyYAML, ruamel.yaml's YAML 1.2, json) as exactly the objects, and real kubectl
reads it too (``kubectl kustomize`` parses it with kubectl's own YAML reader and prints the
same objects).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from ruamel.yaml import YAML

from meshctl.commands.create_ingress import CreateIngressResult, create_ingress
from tests.gateways import schemas
from tests.gateways.args import options

GOLDENS = Path(__file__).parent / "goldens"
CASES = sorted(p for p in GOLDENS.iterdir() if (p / "args").is_file())


def _run(case: Path) -> CreateIngressResult:
    return create_ingress(options((case / "args").read_text().strip()))


def _documents(result: CreateIngressResult) -> list[Any]:
    if result.text.startswith("{"):
        doc = json.loads(result.text)
        return doc["items"] if doc["kind"] == "List" else [doc]  # type: ignore[no-any-return]
    return list(yaml.safe_load_all(result.text))


def test_cases_found() -> None:
    assert len(CASES) >= 20
    styles = {"ingress-v1beta1" if "v1beta1" in c.name else c.name.split("-")[-1] for c in CASES}
    assert {"ingress", "ingress-v1beta1", "istio", "api"} <= styles


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case: Path, update_goldens: bool) -> None:
    result = _run(case)
    expected = {
        "expected.out": result.text,
        "expected.warnings": "".join(w + "\n" for w in result.warnings),
    }
    if update_goldens:
        for name, text in expected.items():
            if text or name == "expected.out":
                (case / name).write_text(text)
            else:
                (case / name).unlink(missing_ok=True)
        return
    assert (case / "expected.out").is_file(), "run: pytest --update-goldens tests/gateways"
    assert (case / "expected.out").read_text() == expected["expected.out"]
    warnings = case / "expected.warnings"
    assert (warnings.read_text() if warnings.exists() else "") == expected["expected.warnings"]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_objects_validate(case: Path) -> None:
    for obj in _run(case).objects:
        assert schemas.errors(obj) == [], (obj["kind"], obj["metadata"]["name"])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_text_reads_back(case: Path) -> None:
    result = _run(case)
    assert _documents(result) == list(result.objects)
    if not result.text.startswith("{"):
        assert list(YAML(typ="safe", pure=True).load_all(StringIO(result.text))) == list(
            result.objects
        )
        assert "\n---\n" in "\n" + result.text or len(result.objects) == 1


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is in the [test] extra")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_kubectl_reads_golden(case: Path, tmp_path: Path) -> None:
    """kubectl's own reader (``kubectl kustomize``, no cluster needed) reads the same objects."""
    result = _run(case)
    name = "out.json" if result.text.startswith("{") else "out.yaml"
    (tmp_path / name).write_text(result.text, encoding="utf-8")
    (tmp_path / "kustomization.yaml").write_text(f"resources:\n- {name}\n")
    res = subprocess.run(
        ["kubectl", "kustomize", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr

    def key(obj: dict[str, Any]) -> tuple[str, str]:
        return obj["kind"], obj["metadata"]["name"]

    assert sorted(yaml.safe_load_all(res.stdout), key=key) == sorted(result.objects, key=key)
