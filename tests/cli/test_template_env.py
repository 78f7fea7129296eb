"""Templates cannot reach outside: no environment variable the user did not name, no network.

A secret sits in the environment of every run here; it must never reach the output, whatever the
template (the built-in profile, or a user's template calling Istio's ``env`` or Sprig's
``expandenv``) and whichever runtime renders it (gotpl, or the compiled form).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from meshctl.gotemplate import environ
from tests.clirunner import run_cli

SECRET = "s3cr3t-token-value"
NAME = "MESHCTL_TEST_SECRET"

TEMPLATE = """\
metadata:
  annotations:
    istio-env: {{ env "MESHCTL_TEST_SECRET" "unset" | quote }}
    istio-env-home: {{ env "HOME" "unset" | quote }}
    sprig-expandenv: {{ expandenv "x-$MESHCTL_TEST_SECRET-${MESHCTL_TEST_SECRET}-$HOME" | quote }}
spec:
  containers:
  - name: istio-proxy
    image: {{ .ProxyImage }}
"""

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: app:1
"""


@pytest.fixture(params=["0", "1"], ids=["gotpl", "compiled"])
def workdir(request: pytest.FixtureRequest, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(NAME, SECRET)
    monkeypatch.setenv("MESHCTL_COMPILED_TEMPLATES", request.param)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "pod.yaml").write_text(POD)
    return tmp_path


def test_a_user_template_reads_no_variable_it_was_not_given(workdir: Path) -> None:
    res = run_cli(["kube-inject", "-f", "pod.yaml", "--injectConfigFile", "template.yaml"],
                  cwd=str(workdir))
    assert res.rc == 0, res.stderr
    assert SECRET not in res.stdout + res.stderr
    assert "istio-env: unset" in res.stdout
    assert "istio-env-home: unset" in res.stdout
    assert "sprig-expandenv: x---" in res.stdout
    assert environ.ALLOWED == {}


def test_named_variables_are_read(workdir: Path) -> None:
    res = run_cli(["kube-inject", "-f", "pod.yaml", "--injectConfigFile", "template.yaml",
                   "--template-env", NAME], cwd=str(workdir))
    assert res.rc == 0, res.stderr
    assert f"istio-env: {SECRET}" in res.stdout
    assert f"sprig-expandenv: x-{SECRET}-{SECRET}-" in res.stdout  # HOME still not named
    assert "istio-env-home: unset" in res.stdout


def test_the_builtin_profile_does_not_depend_on_the_environment(
        workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["kube-inject", "-f", "pod.yaml"]
    plain = run_cli(args, cwd=str(workdir))
    assert plain.rc == 0
    # variables Istio's agent and injector know, set to the secret: nothing changes
    for name in ("ISTIO_META_CLUSTER_ID", "PILOT_CERT_PROVIDER", "CA_ADDR", "TRUST_DOMAIN",
                 "ISTIO_META_MESH_ID", "PROXY_CONFIG", "ISTIO_TAG", "HUB", "TAG"):
        monkeypatch.setenv(name, SECRET)
    again = run_cli(args, cwd=str(workdir))
    assert (again.rc, again.stdout, again.stderr) == (plain.rc, plain.stdout, plain.stderr)
    assert SECRET not in again.stdout


def test_templates_make_no_network_request(workdir: Path) -> None:
    (workdir / "dns.yaml").write_text(
        'metadata:\n  annotations:\n    host: {{ getHostByName "localhost" | quote }}\n')
    res = run_cli(["kube-inject", "-f", "pod.yaml", "--injectConfigFile", "dns.yaml"],
                  cwd=str(workdir))
    assert res.rc == 3
    assert res.stdout == ""
    assert res.stderr.count("\n") == 1
    assert "getHostByName 'localhost': templates cannot make network requests" in res.stderr


def test_template_env_takes_variable_names_only(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(POD)
    res = run_cli(["kube-inject", "-f", "pod.yaml", "--template-env", "A=B"], cwd=str(tmp_path))
    assert res.rc == 2
    assert "--template-env: 'A=B' is not an environment variable name" in res.stderr


def test_expandenv_keeps_sprig_semantics() -> None:
    environ.allow([("A", "1"), ("B_2", "two")])
    try:
        assert environ.sprig_expandenv("$A ${B_2} $C ${} $$ $") == "1 two    $"
        assert environ.sprig_env("A") == "1"
        assert environ.sprig_env("PATH") == ""
    finally:
        environ.allow(())
