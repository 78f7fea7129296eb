"""Istio's golden suite through meshctl's command line (not just the library).

- ``test_builtin_profile``: the 90 cases with default settings that use only templates of the
  built-in profile (``sidecar``: 85 cases; ``gateway``, ``grpc-agent``, ``grpc-simple``: 5),
  injected with the BUILT-IN profile:
  ``meshctl kube-inject -f INPUT --hub registry.istio.io/testing --tag latest
  --native-sidecars true|false``.
- ``test_istio_config``: every kube-inject case, rendered from Istio's own injector config with
  the case's settings passed as files and flags (values paths merged into a values file, the
  mesh overlay into a mesh file, ``--operatorFileName``, ``--native-sidecars``,
  ``--compliance-policy``).
- ``test_istioctl_command``: istioctl's own command-level cases (istio-golden/istioctl-cli).

Output is compared with the golden semantically (tests/conformance/semantic.py). Error cases
must exit 3 with the bad annotation named and nothing on stdout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshctl.sidecar.config import BUILTIN_TEMPLATES
from meshctl.sidecar.config.settings import deep_merge_values, set_value
from tests.clirunner import run_cli
from tests.conformance.semantic import diff, golden_with_fixes
from tests.conformance.test_engine_goldens import (
    GOLDEN,
    _index,
    all_cases,
    case_id,
    is_default,
)

pytestmark = pytest.mark.conformance


def _docs(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


CASES = all_cases()
_PLAIN_KEYS = {"suite", "id", "input", "golden", "native_sidecars", "note", "webhook"}


def templates_used(case: dict[str, Any]) -> set[str]:
    """The templates the case's pods ask for with ``inject.istio.io/templates`` (``sidecar``,
    the default, when none does)."""
    names: set[str] = set()
    for doc in _docs((GOLDEN / "inject" / case["input"]).read_text()):
        asked = [line.split(":", 1)[1] for line in yaml.safe_dump(doc).splitlines()
                 if "inject.istio.io/templates:" in line]
        names |= {n.strip() for text in asked for n in text.split(",")} if asked else {"sidecar"}
    return names


def _builtin_templates_only(case: dict[str, Any]) -> bool:
    return templates_used(case) <= set(BUILTIN_TEMPLATES)


#: default settings (nothing but the native-sidecar choice), templates the built-in profile
#: has: 90 cases (85 sidecar, 3 gateway, 1 grpc-agent, 1 grpc-simple)
BUILTIN = [c for c in CASES if set(c) <= _PLAIN_KEYS and _builtin_templates_only(c)]
#: the error and warning cases with default settings also run through the built-in profile
BUILTIN_CHECKS = [
    c
    for c in CASES
    if is_default(c) and _builtin_templates_only(c) and not set(c) <= _PLAIN_KEYS
]


def _check(res: Any, case: dict[str, Any]) -> None:
    expected_error = case.get("expect_error_containing")
    if expected_error:
        assert res.rc == 3, f"expected an error, got rc={res.rc}\n{res.stderr}"
        assert res.stdout == ""
        assert expected_error in res.stderr.lower()
        assert res.stderr.startswith("meshctl: error: ")
        return
    assert res.rc == 0, res.stderr
    if case.get("expect_warning"):
        assert case["expect_warning"] in res.stderr
    got = _docs(res.stdout)
    want = [golden_with_fixes(case["golden"], d)
            for d in _docs((GOLDEN / "inject" / case["golden"]).read_text())]
    assert len(got) == len(want)
    pairs = enumerate(zip(want, got, strict=True))
    problems = [f"document {i}:\n{d}" for i, (w, g) in pairs if (d := diff(w, g))]
    assert not problems, "\n".join(problems)


def _native(case: dict[str, Any]) -> str:
    native = case.get("native_sidecars", _index()["defaults"]["native_sidecars"])
    return "true" if native else "false"


def test_builtin_profile_count() -> None:
    assert len(BUILTIN) == 90
    by_template = sorted(t for c in BUILTIN for t in templates_used(c) if t != "sidecar")
    assert by_template == ["gateway", "gateway", "gateway", "grpc-agent", "grpc-simple"]


def _builtin_args(case: dict[str, Any]) -> list[str]:
    """The issue's command line: the built-in profile with the suite's hub and tag."""
    d = _index()["defaults"]
    return [
        "kube-inject", "-f", str(GOLDEN / "inject" / case["input"]),
        "--hub", d["hub"], "--tag", d["tag"], "--native-sidecars", _native(case),
    ]  # fmt: skip


@pytest.mark.parametrize("case", BUILTIN, ids=[case_id(c) for c in BUILTIN])
def test_builtin_profile(case: dict[str, Any]) -> None:
    _check(run_cli(_builtin_args(case)), case)


@pytest.mark.parametrize("case", BUILTIN_CHECKS, ids=[case_id(c) for c in BUILTIN_CHECKS])
def test_builtin_profile_errors_and_warnings(case: dict[str, Any]) -> None:
    _check(run_cli(_builtin_args(case)), case)


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_istio_config(case: dict[str, Any], tmp_path: Path) -> None:
    d = _index()["defaults"]
    values = json.loads((GOLDEN / d["values_file"]).read_text())
    for dotted, value in (case.get("values") or {}).items():
        set_value(values, dotted, value)
    mesh = yaml.safe_load((GOLDEN / d["mesh_file"]).read_text()) or {}
    if case.get("mesh"):
        mesh = deep_merge_values(mesh, case["mesh"])
    (tmp_path / "values.json").write_text(json.dumps(values))
    (tmp_path / "mesh.yaml").write_text(yaml.safe_dump(mesh))
    args = [
        "kube-inject",
        "-f",
        str(GOLDEN / "inject" / case["input"]),
        "--injectConfigFile",
        str(GOLDEN / d["inject_config_file"]),
        "--valuesFile",
        str(tmp_path / "values.json"),
        "--meshConfigFile",
        str(tmp_path / "mesh.yaml"),
        "--hub",
        d["hub"],
        "--tag",
        d["tag"],
        "--native-sidecars",
        _native(case),
    ]
    if case.get("operator_file"):
        args += ["--operatorFileName", str(GOLDEN / "inject" / case["operator_file"])]
    if case.get("compliance_policy"):
        args += ["--compliance-policy", case["compliance_policy"]]
    _check(run_cli(args), case)


CLI = GOLDEN / "istioctl-cli"
#: istioctl-cli/CASES.md: the files of case 2, and of case 4 (an IstioOperator)
_FILES = ["--meshConfigFile", "mesh-config.yaml", "--valuesFile", "inject-values.yaml"]
_HELLO = ["-f", "deployment/hello.yaml"]
_IOP = ["--operatorFileName", "istio-operator.yaml"]
ISTIOCTL_CASES: list[tuple[str, list[str], str | None, str | None]] = [
    # (id, args, golden, error text)
    ("0-no-filename", [], None, "filename not specified (see --filename or -f)"),
    ("1-missing-file", ["-f", "missing.yaml"], None, "missing.yaml: no such file or directory"),
    ("2-files", [*_FILES, "--injectConfigFile", "inject-config.yaml", *_HELLO],
     "deployment/hello.yaml.injected", None),
    ("3-inline-template", [*_FILES, "--injectConfigFile", "inject-config-inline.yaml", *_HELLO],
     "deployment/hello.yaml.injected", None),
    ("4-operator", [*_IOP, "--injectConfigFile", "inject-config-iop.yaml", *_HELLO],
     "deployment/hello.yaml.iop.injected", None),
    ("5-operator-inline", [*_IOP, "--injectConfigFile", "inject-config-inline-iop.yaml", *_HELLO],
     "deployment/hello.yaml.iop.injected", None),
    ("6-operator-values",
     [*_IOP, "--injectConfigFile", "inject-config-iop.yaml", *_HELLO,
      "--valuesFile", "inject-values.yaml"],
     "deployment/hello.yaml.iop.injected", None),
    ("7-proxyconfig-annotation",
     [*_FILES, "--injectConfigFile", "inject-config.yaml",
      "-f", "deployment/hello-with-proxyconfig-anno.yaml"],
     "deployment/hello-with-proxyconfig-anno.yaml.injected", None),
]  # fmt: skip


@pytest.mark.parametrize("case", ISTIOCTL_CASES, ids=[c[0] for c in ISTIOCTL_CASES])
def test_istioctl_command(case: tuple[str, list[str], str | None, str | None]) -> None:
    _id, args, golden, error = case
    res = run_cli(["kube-inject", *args], cwd=str(CLI))
    if error is not None:
        assert res.rc in (2, 3)
        assert res.stdout == ""
        assert error in res.stderr
        return
    assert res.rc == 0, res.stderr
    got = _docs(res.stdout)
    want = _docs((CLI / golden).read_text())
    assert len(got) == len(want)
    problems = [d for w, g in zip(want, got, strict=True) if (d := diff(w, g))]
    assert not problems, "\n".join(problems)
