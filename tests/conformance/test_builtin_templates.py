"""meshctl's built-in templates against Istio's templates of the same name, on every golden input.

Each template of the built-in profile (``meshctl/data/<name>.tpl``: sidecar, gateway,
grpc-agent, grpc-simple) is written to give what Istio's default template of that name gives.
The goldens check that only on the inputs that ask for the template; here every workload of
Istio's golden suite is injected twice with the same values and mesh config, once with Istio's
injector config (``istio-golden/settings/inject-config.yaml``) and once with the built-in
profile's templates, the template under test being the default of both. The two results must be
semantically equal (:mod:`tests.conformance.semantic`), with the same action, reason and
warnings, or both must be errors.

Runs: every golden input with the suite's default settings, and every case's input with that
case's settings (values, mesh overlay, IstioOperator, native sidecars, compliance policy), so the
templates also meet the values the cases change (images, pull policy, CNI, network, CA, trust
bundle, lifecycle...). A pod that names its templates (``inject.istio.io/templates``) gets those,
on both sides.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
import yaml

from meshctl.manifests.find import pod_template_path
from meshctl.sidecar.config import BUILTIN_TEMPLATES
from meshctl.sidecar.config.profile import builtin_inject_config
from meshctl.sidecar.config.settings import deep_merge_values, load_settings, set_value
from meshctl.sidecar.inject import InjectionError, Injector
from tests.conformance.semantic import diff
from tests.conformance.test_engine_goldens import (
    CASES,
    GOLDEN,
    SETTING_KEYS,
    _base_mesh,
    _base_values,
    _documents,
    _index,
)

pytestmark = pytest.mark.conformance


@functools.cache
def _istio_config() -> dict[str, Any]:
    defaults = _index()["defaults"]
    config: dict[str, Any] = yaml.safe_load((GOLDEN / defaults["inject_config_file"]).read_text())
    return config


def _runs() -> list[tuple[str, str]]:
    """(settings as JSON, input file): every input with default settings, every case's own."""
    native = _index()["defaults"]["native_sidecars"]
    runs = {("{}", name) for name in sorted({c["input"] for c in CASES})}
    for case in CASES:
        spec = {k: case[k] for k in SETTING_KEYS if k in case}
        if case.get("native_sidecars", native) != native:
            spec["native_sidecars"] = case["native_sidecars"]
        runs.add((json.dumps(spec, sort_keys=True), case["input"]))
    return sorted(runs)


@functools.cache
def _injector(side: str, spec_json: str, template: str) -> Injector:
    spec = json.loads(spec_json)
    defaults = _index()["defaults"]
    config = _istio_config() if side == "istio" else builtin_inject_config()
    values: dict[str, Any] = json.loads(_base_values())
    for dotted, value in (spec.get("values") or {}).items():
        set_value(values, dotted, value)
    mesh: dict[str, Any] = yaml.safe_load(_base_mesh()) or {}
    if spec.get("mesh"):
        mesh = deep_merge_values(mesh, spec["mesh"])
    operator = GOLDEN / "inject" / spec["operator_file"] if spec.get("operator_file") else None
    native = spec.get("native_sidecars", defaults["native_sidecars"])
    settings = load_settings(
        {**config, "defaultTemplates": [template]},
        values,
        mesh,
        operator,
        native_sidecars=bool(native),
        compliance_policy=spec.get("compliance_policy") or "",
        hub=defaults["hub"],
        tag=defaults["tag"],
    )
    return Injector(settings)


def _workloads(name: str) -> list[dict[str, Any]]:
    out = []
    for doc in _documents(GOLDEN / "inject" / name):
        items = doc.get("items") if isinstance(doc, dict) and doc.get("kind") == "List" else [doc]
        out += [i for i in items or [] if isinstance(i, dict) and pod_template_path(i)]
    return out


def _outcome(injector: Injector, obj: dict[str, Any]) -> tuple[Any, ...]:
    path = pod_template_path(obj)
    assert path is not None
    try:
        result = injector.inject(obj, path)
    except InjectionError:
        return ("error",)
    return (result.obj, result.action, result.reason, result.warnings)


@pytest.mark.parametrize("template", BUILTIN_TEMPLATES)
def test_builtin_template_matches_istios(template: str) -> None:
    compared = injected = 0
    problems: list[str] = []
    for spec_json, name in _runs():
        istio = _injector("istio", spec_json, template)
        meshctl = _injector("meshctl", spec_json, template)
        for obj in _workloads(name):
            want, got = _outcome(istio, obj), _outcome(meshctl, obj)
            compared += 1
            where = f"{name} with {spec_json}"
            if want[0] == "error" or got[0] == "error":
                if want[0] != got[0]:
                    problems.append(f"{where}: Istio {want[0]!r:.40}, meshctl {got[0]!r:.40}")
                continue
            if want[1:] != got[1:]:
                problems.append(f"{where}: Istio {want[1:]}, meshctl {got[1:]}")
            elif want[0] is not None and (d := diff(want[0], got[0])):
                problems.append(f"{where}:\n{d}")
            injected += want[1] == "injected"
    assert not problems, "\n".join(problems[:10])
    assert compared >= 130 and injected >= 115, (compared, injected)
