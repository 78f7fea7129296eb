"""Inputs named as arguments (``meshctl kube-inject --check a.yaml b.yaml``): what pre-commit,
``xargs`` and ``find -exec ... +`` run. They are inputs like ``-f`` ones, after them; both paths
in (click-free and click) agree (tests/clirunner.py)."""

from __future__ import annotations

from pathlib import Path

from meshctl.manifests.read import NO_INPUT
from tests.clirunner import run_cli
from tests.conftest import SHARED

HELLO = (SHARED / "istio-golden/inject/hello.yaml").read_text()
SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    app, svc, injected = tmp_path / "app.yaml", tmp_path / "svc.yaml", tmp_path / "done.yaml"
    app.write_text(HELLO)
    svc.write_text(SERVICE)
    injected.write_text(run_cli(["kube-inject", "-q", "-f", str(app)]).stdout)
    return app, svc, injected


def test_arguments_are_inputs_after_the_f_ones(tmp_path: Path) -> None:
    app, svc, _ = _files(tmp_path)
    by_flag = run_cli(["kube-inject", "-f", str(svc), "-f", str(app)])
    mixed = run_cli(["kube-inject", str(app), "-f", str(svc)])
    assert by_flag.rc == mixed.rc == 0
    assert (mixed.stdout, mixed.stderr) == (by_flag.stdout, by_flag.stderr)


def test_check_on_arguments(tmp_path: Path) -> None:
    app, svc, injected = _files(tmp_path)
    res = run_cli(["kube-inject", "--check", str(svc), str(injected)])
    assert res.rc == 0 and res.stdout == ""
    res = run_cli(["kube-inject", "--check", str(svc), str(app), str(injected)])
    assert res.rc == 1 and res.stdout == ""
    assert "deployment/default/hello" in res.stderr


def test_in_place_on_arguments(tmp_path: Path) -> None:
    app, svc, injected = _files(tmp_path)
    res = run_cli(["kube-inject", "-i", "-q", str(app), str(svc)])
    assert res.rc == 0
    assert app.read_text() == injected.read_text()
    assert svc.read_text() == SERVICE
    res = run_cli(["kube-uninject", "-i", "-q", str(app)])
    assert res.rc == 0 and app.read_text() == HELLO


def test_stdin_as_an_argument_and_errors(tmp_path: Path) -> None:
    res = run_cli(["kube-inject", "-q", "-"], stdin=HELLO)
    assert res.rc == 0 and "istio-proxy" in res.stdout
    res = run_cli(["kube-inject", "-i", "-"], stdin=HELLO)
    assert res.rc == 2 and "--in-place needs files" in res.stderr
    res = run_cli(["kube-inject", str(tmp_path / "missing.yaml")])
    assert res.rc == 3 and "missing.yaml: no such file or directory" in res.stderr
    res = run_cli(["kube-inject", "--check"])
    assert res.rc == 2 and NO_INPUT in res.stderr
