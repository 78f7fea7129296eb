"""The provenance record (issue: ``--check`` must fail on manifests injected with other
settings or an older profile, say why, and a plain re-run must upgrade them)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from meshctl import __version__
from meshctl.errors import EXIT_OK, EXIT_WOULD_CHANGE
from meshctl.sidecar.config import BUILTIN_ISTIO
from tests.clirunner import run_cli
from tests.conftest import ROOT, SHARED

APP = ROOT / "tests" / "fixtures" / "diff-output" / "input.yaml"


def _status(text: str) -> dict[str, object]:
    doc = next(d for d in yaml.safe_load_all(text) if d and d.get("kind") == "Deployment")
    status: dict[str, object] = json.loads(
        doc["spec"]["template"]["metadata"]["annotations"]["sidecar.istio.io/status"])
    return status


def _inject(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "injected.yaml"
    res = run_cli(["kube-inject", "-q", "-f", str(APP), *args])
    assert res.rc == 0
    out.write_text(res.stdout, encoding="utf-8")
    return out


def test_the_record_names_version_profile_and_settings(tmp_path: Path) -> None:
    record = _status(_inject(tmp_path).read_text())["meshctl"]
    assert isinstance(record, dict)
    assert record["version"] == __version__
    assert record["profile"] == f"builtin/istio-{BUILTIN_ISTIO}"
    assert re.fullmatch(r"[0-9a-f]{12}", str(record["settings"]))
    other = _status(_inject(tmp_path, "--tag", "1.30.1").read_text())["meshctl"]
    assert isinstance(other, dict) and other["settings"] != record["settings"]


def test_check_fails_on_other_settings_says_why_and_a_rerun_upgrades(tmp_path: Path) -> None:
    injected = _inject(tmp_path)
    assert run_cli(["kube-inject", "-f", str(injected), "--check"]).rc == EXIT_OK
    stale = run_cli(["kube-inject", "-f", str(injected), "--check", "--tag", "1.30.1"])
    assert (stale.rc, stale.stdout) == (EXIT_WOULD_CHANGE, "")
    assert "would inject (stale_injection)" in stale.stderr
    assert "injected with settings" in stale.stderr and "(now " in stale.stderr
    upgraded = run_cli(["kube-inject", "-f", str(injected), "--tag", "1.30.1"])
    assert "injected (stale_injection)" in upgraded.stderr
    again = tmp_path / "again.yaml"
    again.write_text(upgraded.stdout, encoding="utf-8")
    assert run_cli(["kube-inject", "-f", str(again), "--check", "--tag", "1.30.1"]).rc == EXIT_OK


def test_an_older_meshctl_or_profile_is_named(tmp_path: Path) -> None:
    text = _inject(tmp_path).read_text()
    older = tmp_path / "older.yaml"
    older.write_text(text.replace(f'"version":"{__version__}"', '"version":"0.0.9"')
                     .replace(f"istio-{BUILTIN_ISTIO}", "istio-1.28.0"), encoding="utf-8")
    res = run_cli(["kube-inject", "-f", str(older), "--check"])
    assert res.rc == EXIT_WOULD_CHANGE
    assert "profile builtin/istio-1.28.0 (now builtin/istio-" in res.stderr
    assert "meshctl version 0.0.9 (now " in res.stderr


def test_istio_injected_manifests_are_stale_without_a_record() -> None:
    golden = SHARED / "istio-golden" / "inject" / "hello.yaml.injected"
    res = run_cli(["kube-inject", "-f", str(golden), "--check"])
    assert res.rc == EXIT_WOULD_CHANGE
    assert "stale_injection" in res.stderr and "without a meshctl record" in res.stderr
