"""Every injected output of the test corpus validates against Kubernetes 1.30 through 1.37.

The corpus: our golden cases (tests/fixtures, their ``expected.out`` of every kube-inject run
that prints manifests), every manifest of ../shared/realworld and the bundled BookInfo example,
injected with the built-in profile as classic and as native sidecars. Each object that
kubernetes-validate has a schema for (the built-in kinds; items of a ``kind: List`` one by one)
is validated strictly (no unknown fields) against every release.
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from meshctl.manifests.read import parse_source
from tests import k8svalidate
from tests.clirunner import run_main
from tests.conftest import ROOT, SHARED

FIXTURES = ROOT / "tests/fixtures"
MANIFESTS = sorted((SHARED / "realworld").rglob("*.yaml")) + [
    ROOT / "examples/bookinfo/bookinfo.yaml"]


def _fixture_outputs() -> Iterator[tuple[str, str]]:
    for case in sorted(p for p in FIXTURES.iterdir() if (p / "args").exists()):
        args = shlex.split((case / "args").read_text())
        prints_manifests = args[0] == "kube-inject" and not {"--diff", "--check", "patch"} & {
            *args}
        # passthrough-rules feeds meshctl documents that are not valid objects on purpose (it
        # passes them through untouched, as it says)
        if prints_manifests and not (case / "expected.rc").exists() \
                and case.name != "passthrough-rules":
            yield f"fixtures/{case.name}", (case / "expected.out").read_text()


@functools.cache
def _corpus() -> list[tuple[str, dict[str, Any]]]:
    """Every object of every output, named by where it comes from."""
    outputs = list(_fixture_outputs())
    for path in MANIFESTS:
        for native in ("false", "true"):
            res = run_main(["kube-inject", "-q", "--native-sidecars", native, "-f", str(path)])
            assert res.rc == 0, res.stderr
            outputs.append((f"{path.relative_to(path.parents[1])} (native {native})",
                            res.stdout))
    return [(name, obj) for name, text in outputs for obj in _objects(text)]


def _objects(text: str) -> Iterator[dict[str, Any]]:
    """The objects of a YAML stream or a JSON stream (split as meshctl splits it)."""
    for chunk in parse_source("output", text).chunks:
        doc = yaml.safe_load(chunk.text)
        if isinstance(doc, dict) and doc.get("kind") == "List":
            yield from (item for item in doc.get("items") or () if isinstance(item, dict))
        elif isinstance(doc, dict):
            yield doc


@pytest.mark.parametrize("k8s", k8svalidate.VERSIONS)
def test_corpus_validates(k8s: str) -> None:
    problems = []
    validated = 0
    for name, obj in _corpus():
        if not k8svalidate.has_schema(obj, k8s):
            continue
        validated += 1
        errs = k8svalidate.errors(obj, k8s=k8s)
        if errs:
            meta = obj.get("metadata") or {}
            problems.append(f"{name}: {obj['kind']}/{meta.get('name')}: {errs[:3]}")
    assert validated > 100
    assert not problems, "\n".join(problems)
