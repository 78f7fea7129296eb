"""kube-uninject on Istio's golden suite: every kube-inject case, with the case's settings.

- ``test_uninject_istio_golden``: Istio's own output (the golden: injected by Istio, so without
  meshctl's record) un-injected with the case's settings (injector config, values, mesh config,
  IstioOperator, as :mod:`tests.conformance.test_engine_goldens` builds them) is the case's
  input again, compared semantically (:mod:`tests.conformance.semantic`). An input that is
  injected already (a re-injection case) is compared un-injected as well.
- ``test_uninject_meshctl_injection``: meshctl's injection of every golden input, with the
  case's settings, through the document pipeline (text in, text out), un-injected as
  ``kube-uninject`` does (the built-in profile's settings: the command takes none): the input's
  bytes.
- ``test_istioctl_kube_uninject_pairs``: Istio's former ``istioctl kube-uninject`` goldens
  (``istio-golden/uninject``: ``X.yaml.injected`` -> ``X.yaml``), with ``mark_disabled``.

The one case that cannot be given back from the data is a named exception (below, and in
docs/user-guide.md), checked to differ exactly as stated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from meshctl.commands import pipeline
from meshctl.commands.inject import InjectStep
from meshctl.commands.uninject import UninjectStep, kube_uninject_settings
from meshctl.manifests.find import pod_template_path
from meshctl.manifests.read import Chunk, parse_source
from meshctl.sidecar.inject import Injector
from tests.conformance.semantic import diff
from tests.conformance.test_engine_goldens import CASES, GOLDEN, case_id, injector_for

pytestmark = pytest.mark.conformance

#: every case with an injected golden (the error cases have none)
UNINJECT_CASES = [c for c in CASES if c.get("golden") and not c.get("expect_error_containing")]

#: cases whose input cannot be given back from Istio's output, with why, and the difference
#: that remains (checked: the exception is exactly this)
EXCEPTIONS: dict[str, tuple[str, str]] = {
    "TestInjection-056-merge-probers.yaml.injected": (
        "container \"new\" probes port 8008, which is also its port named \"http\": Istio records "
        "the probe in ISTIO_KUBE_APP_PROBERS with the number whether it was written as the "
        "number or as the name (DumpAppProbers resolves names), so both inputs give the same "
        "pod; kube-uninject gives back the name, which 13 other cases need",
        '/spec/template/spec/containers[new]/livenessProbe/httpGet/port: expected 8008, '
        'got "http"'),
}


def _docs(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def _uninject(injector: Injector, doc: Any, *, mark_disabled: bool = False) -> Any:
    if not isinstance(doc, dict):
        return doc
    if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
        return {**doc, "items": [_uninject(injector, i, mark_disabled=mark_disabled)
                                 for i in doc["items"]]}
    path = pod_template_path(doc)
    if path is None:
        return doc
    return injector.uninject(doc, path, mark_disabled=mark_disabled)


def _injected(path: Path) -> bool:
    return "sidecar.istio.io/status" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", UNINJECT_CASES, ids=[case_id(c) for c in UNINJECT_CASES])
def test_uninject_istio_golden(case: dict[str, Any]) -> None:
    injector = injector_for(case)
    source = GOLDEN / "inject" / case["input"]
    want = _docs(source)
    if _injected(source):  # a re-injection: the original is the input's un-injection
        want = [_uninject(injector, d) for d in want]
    got = [_uninject(injector, d) for d in _docs(GOLDEN / "inject" / case["golden"])]
    assert len(got) == len(want)
    problems = "\n".join(d for w, g in zip(want, got, strict=True) if (d := diff(w, g)))
    if case_id(case) in EXCEPTIONS:
        assert problems == EXCEPTIONS[case_id(case)][1]
    else:
        assert problems == ""


def test_exceptions_are_cases() -> None:
    assert set(EXCEPTIONS) <= {case_id(c) for c in UNINJECT_CASES}


@pytest.mark.parametrize("case", UNINJECT_CASES, ids=[case_id(c) for c in UNINJECT_CASES])
def test_uninject_meshctl_injection(case: dict[str, Any]) -> None:
    source = GOLDEN / "inject" / case["input"]
    injector = injector_for(case)
    # un-injected as kube-uninject does: with the built-in profile's settings, whatever the
    # case injected with (the record makes up for the difference)
    builtin = kube_uninject_settings()
    step = InjectStep(injector, uninject_first=True, uninject_settings=builtin)
    inject = pipeline.DocumentProcessor(step, reversal=step)
    uninject = pipeline.DocumentProcessor(UninjectStep(builtin))
    text = source.read_text(encoding="utf-8")

    def run(processor: pipeline.DocumentProcessor, chunk: Chunk) -> str:
        out = processor.process(chunk)[0]
        return chunk.text if out is None else out

    for chunk in parse_source(str(source), text).chunks:
        injected = run(inject, chunk)
        back = run(uninject, Chunk(chunk.source, chunk.index, injected, chunk.start_line,
                                   chunk.is_json))
        # an input injected already (a re-injection case) comes back un-injected
        want = run(uninject, chunk) if _injected(source) else chunk.text
        if back != want:  # only the exception's ambiguity, the same difference
            assert case_id(case) in EXCEPTIONS, back
            assert diff(yaml.safe_load(want), yaml.safe_load(back)) == \
                EXCEPTIONS[case_id(case)][1]


@pytest.mark.parametrize("path", sorted((GOLDEN / "uninject").glob("*.injected")),
                         ids=lambda p: p.name)
def test_istioctl_kube_uninject_pairs(path: Path) -> None:
    injector = injector_for({})
    got = [_uninject(injector, d, mark_disabled=True) for d in _docs(path)]
    want = _docs(path.with_suffix(""))
    assert len(got) == len(want)
    for w, g in zip(want, got, strict=True):
        assert diff(w, g) == ""
