"""Command-line behaviour: inputs, outputs, modes, errors and exit codes."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.clirunner import run_cli
from tests.conftest import ROOT, SHARED

HELLO = (SHARED / "istio-golden/inject/hello.yaml").read_text()

SERVICE = """\
apiVersion: v1
kind: Service   # untouched
metadata:
  name: web
spec:
  ports: [{port: 80}]
"""


def _containers(obj: dict) -> list[str]:
    spec = obj["spec"]["template"]["spec"]
    return [c["name"] for c in spec["containers"]] + [
        c["name"] for c in spec.get("initContainers") or []
    ]


def test_stdin_to_stdout_and_report_after() -> None:
    res = run_cli(["kube-inject", "-f", "-"], stdin=HELLO)
    assert res.rc == 0, res.stderr
    obj = yaml.safe_load(res.stdout)
    assert "istio-proxy" in _containers(obj)
    assert res.stderr == "deployment/default/hello: injected\n"


def test_quiet_and_json_report() -> None:
    res = run_cli(["kube-inject", "-q", "-f", "-"], stdin=HELLO)
    assert res.rc == 0 and res.stderr == ""
    res = run_cli(["kube-inject", "--report", "json", "-f", "-"], stdin=HELLO)
    report = json.loads(res.stderr)
    assert report["resources"][0]["reason"] == "injected"
    assert report["resources"][0]["name"] == "hello"


def test_untouched_documents_are_byte_identical() -> None:
    text = "# leading comment\n" + SERVICE + "---\n" + HELLO + "---\n" + SERVICE
    res = run_cli(["kube-inject", "-f", "-"], stdin=text)
    assert res.rc == 0, res.stderr
    assert res.stdout.startswith("# leading comment\n" + SERVICE + "---\n")
    assert res.stdout.endswith("---\n" + SERVICE)


def test_error_is_one_line_with_location_and_nothing_on_stdout(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(HELLO + "---\n" + SERVICE + "---\nkind: [oops\n")
    res = run_cli(["kube-inject", "-f", str(bad)])
    assert res.rc == 3
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"meshctl: error: {bad}: document 3 (line ")
    assert "Traceback" not in res.stderr


def test_missing_file_and_missing_filename() -> None:
    res = run_cli(["kube-inject", "-f", "missing.yaml"])
    assert res.rc == 3
    assert res.stderr == "meshctl: error: missing.yaml: no such file or directory\n"
    res = run_cli(["kube-inject"])
    assert res.rc == 2
    assert "filename not specified (see --filename or -f)" in res.stderr


def test_output_may_name_the_input(tmp_path: Path) -> None:
    f = tmp_path / "app.yaml"
    f.write_text(HELLO)
    res = run_cli(["kube-inject", "-f", str(f), "-o", str(f)])
    assert res.rc == 0, res.stderr
    assert res.stdout == ""
    assert "istio-proxy" in _containers(yaml.safe_load(f.read_text()))


def test_failed_run_writes_no_file(tmp_path: Path) -> None:
    f = tmp_path / "app.yaml"
    original = HELLO + "---\nkind: [oops\n"
    f.write_text(original)
    res = run_cli(["kube-inject", "-f", str(f), "-o", str(f)])
    assert res.rc == 3
    assert f.read_text() == original
    assert [p.name for p in tmp_path.iterdir()] == ["app.yaml"]


def test_in_place_check_and_diff(tmp_path: Path) -> None:
    d = tmp_path / "k8s"
    (d / "sub").mkdir(parents=True)
    (d / "app.yaml").write_text(HELLO)
    (d / "sub" / "svc.yaml").write_text(SERVICE)
    (d / "notes.txt").write_text("not a manifest")

    res = run_cli(["kube-inject", "-f", str(d), "-R", "--check"])
    assert res.rc == 1 and res.stdout == ""
    res = run_cli(["kube-inject", "-f", str(d), "-R", "--diff", "-q"])
    assert res.rc == 1  # something would change, as diff(1) says
    assert res.stdout.startswith(f"--- a/{d / 'app.yaml'}\n+++ b/{d / 'app.yaml'}\n")
    assert "+  - name: istio-proxy" in res.stdout or "istio-proxy" in res.stdout

    res = run_cli(["kube-inject", "-f", str(d), "-R", "--in-place"])
    assert res.rc == 0 and res.stdout == ""
    assert (d / "sub" / "svc.yaml").read_text() == SERVICE
    assert "istio-proxy" in (d / "app.yaml").read_text()
    res = run_cli(["kube-inject", "-f", str(d), "-R", "--check"])
    assert res.rc == 0, res.stderr


def test_directory_without_recursive_skips_subdirs(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "app.yaml").write_text(HELLO)
    (tmp_path / "svc.yml").write_text(SERVICE)
    res = run_cli(["kube-inject", "-f", str(tmp_path)])
    assert res.rc == 0
    assert res.stdout == SERVICE


def test_patch_output_applies_to_the_input() -> None:
    import jsonpatch

    res = run_cli(["kube-inject", "--output-format", "jsonpatch", "-f", "-"], stdin=HELLO)
    assert res.rc == 0, res.stderr
    (ops,) = [json.loads(line) for line in res.stdout.splitlines()]
    patched = jsonpatch.apply_patch(yaml.safe_load(HELLO), ops)
    injected = yaml.safe_load(run_cli(["kube-inject", "-q", "-f", "-"], stdin=HELLO).stdout)
    assert patched == injected


def test_json_in_json_out() -> None:
    obj = yaml.safe_load(HELLO)
    res = run_cli(["kube-inject", "-f", "-"], stdin=json.dumps(obj, indent=2) + "\n")
    assert res.rc == 0, res.stderr
    out = json.loads(res.stdout)
    assert "istio-proxy" in _containers(out)


def test_list_items_are_injected() -> None:
    items = [yaml.safe_load(HELLO), yaml.safe_load(SERVICE)]
    doc = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items})
    res = run_cli(["kube-inject", "-f", "-"], stdin=doc)
    assert res.rc == 0, res.stderr
    out = yaml.safe_load(res.stdout)
    assert "istio-proxy" in _containers(out["items"][0])
    assert out["items"][1] == items[1]


def test_url_input() -> None:
    body = HELLO.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/app.yaml":
                self.send_response(200)
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        port = server.server_address[1]
        res = run_cli(["kube-inject", "-f", f"http://127.0.0.1:{port}/app.yaml"])
        assert res.rc == 0, res.stderr
        assert "istio-proxy" in res.stdout
        res = run_cli(["kube-inject", "-f", f"http://127.0.0.1:{port}/nope.yaml"])
        assert res.rc == 3 and res.stdout == ""
        assert "cannot fetch" in res.stderr
    finally:
        server.shutdown()


def test_unknown_kind_with_pod_template_passes_through_with_warning() -> None:
    doc = HELLO.replace("kind: Deployment", "kind: Widget").replace("apps/v1", "example.com/v1")
    res = run_cli(["kube-inject", "-f", "-"], stdin=doc)
    assert res.rc == 0
    assert res.stdout == doc
    assert "widget/default/hello: skipped (unknown_kind)" in res.stderr
    assert "warning:" in res.stderr


ROLLOUT_WITH_WORKLOAD_REF = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web  # the pods are the Deployment's
spec:
  workloadRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
"""


@pytest.mark.parametrize("extra", [[], ["--check"]])
def test_a_rollout_referencing_its_template_passes_through(extra: list[str]) -> None:
    """An Argo Rollout with ``spec.workloadRef`` holds no pod template (a valid Rollout): it is
    skipped with a warning, not refused; without the reference it is refused."""
    res = run_cli(["kube-inject", "-f", "-", *extra], stdin=ROLLOUT_WITH_WORKLOAD_REF)
    assert res.rc == 0, res.stderr
    assert res.stdout == ("" if extra else ROLLOUT_WITH_WORKLOAD_REF)
    assert "rollout/default/web: skipped (template_elsewhere)" in res.stderr
    assert "spec.workloadRef (Deployment web)" in res.stderr
    empty_template = ROLLOUT_WITH_WORKLOAD_REF + "  template: {}\n"
    res = run_cli(["kube-inject", "-f", "-"], stdin=empty_template)
    assert res.rc == 0 and res.stdout == empty_template, res.stderr
    bare = ROLLOUT_WITH_WORKLOAD_REF.split("  workloadRef:")[0] + "  replicas: 1\n"
    res = run_cli(["kube-inject", "-f", "-"], stdin=bare)
    assert res.rc == 3 and "Rollout has no pod template (spec.template)" in res.stderr


def test_version_and_help() -> None:
    res = run_cli(["version"])
    assert res.rc == 0 and "meshctl version" in res.stdout and "Istio" in res.stdout
    res = run_cli(["--version"])
    assert res.rc == 0 and res.stdout.startswith("meshctl ")
    for cmd in (["--help"], ["kube-inject", "--help"], ["kube-uninject", "--help"]):
        res = run_cli(cmd)
        assert res.rc == 0 and "Examples:" in res.stdout


def test_console_script_runs_without_traceback(tmp_path: Path) -> None:
    """The real entry point (not CliRunner): errors are one line and exit 3."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "meshctl", "kube-inject", "-f", str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1


@pytest.mark.parametrize("flag", ["--check", "--diff", "--in-place"])
def test_modes_are_exclusive(flag: str) -> None:
    res = run_cli(["kube-inject", flag, "--output-format", "patch", "-f", "x.yaml"])
    assert res.rc == 2


def test_reinject_upgrade_leaves_nothing_stale(tmp_path: Path) -> None:
    """Injected with CNI on, re-injected with the defaults: exactly the default injection."""
    values = (ROOT / "meshctl/sidecar/config/data/values.yaml").read_text()
    cni = tmp_path / "cni.yaml"
    cni.write_text(values.replace("  cni:\n    enabled: false", "  cni:\n    enabled: true"))
    first = run_cli(["kube-inject", "-q", "--valuesFile", str(cni), "-f", "-"], stdin=HELLO)
    assert "istio-validation" in first.stdout
    again = run_cli(["kube-inject", "-q", "-f", "-"], stdin=first.stdout)
    fresh = run_cli(["kube-inject", "-q", "-f", "-"], stdin=HELLO)
    assert again.stdout == fresh.stdout
    # Istio's own semantics keep the stale validation container
    merged = run_cli(["kube-inject", "-q", "--reinject", "merge", "-f", "-"], stdin=first.stdout)
    assert "istio-validation" in merged.stdout


def test_configmaps_from_kubectl_work_like_the_raw_files(tmp_path: Path) -> None:
    """`kubectl get cm istio-sidecar-injector -o yaml > f` and `kubectl get cm istio` just work."""
    settings = SHARED / "istio-golden/settings"
    config = (settings / "inject-config.yaml").read_text()
    values = (settings / "values.json").read_text()
    mesh = (settings / "mesh.yaml").read_text()
    injector_cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "istio-sidecar-injector", "namespace": "istio-system"},
        "data": {"config": config, "values": values},
    }
    mesh_cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "istio", "namespace": "istio-system"},
        "data": {"mesh": mesh, "meshNetworks": "networks: {}"},
    }
    (tmp_path / "injector.yaml").write_text(yaml.safe_dump(injector_cm))
    (tmp_path / "mesh.yaml").write_text(yaml.safe_dump(mesh_cm))
    from_cms = run_cli(
        [
            "kube-inject",
            "-f",
            "-",
            "--injectConfigFile",
            str(tmp_path / "injector.yaml"),
            "--valuesFile",
            str(tmp_path / "injector.yaml"),
            "--meshConfigFile",
            str(tmp_path / "mesh.yaml"),
        ],
        stdin=HELLO,
    )
    from_files = run_cli(
        [
            "kube-inject",
            "-f",
            "-",
            "--injectConfigFile",
            str(settings / "inject-config.yaml"),
            "--valuesFile",
            str(settings / "values.json"),
            "--meshConfigFile",
            str(settings / "mesh.yaml"),
        ],
        stdin=HELLO,
    )
    assert from_cms.rc == 0, from_cms.stderr
    assert from_cms.stdout == from_files.stdout
    assert "registry.istio.io/testing/proxyv2:latest" in from_cms.stdout


def test_bad_config_is_one_line_exit_3(tmp_path: Path) -> None:
    bad = tmp_path / "values.yaml"
    bad.write_text("global: [unclosed\n")
    res = run_cli(["kube-inject", "-f", "-", "--valuesFile", str(bad)], stdin=HELLO)
    assert res.rc == 3 and res.stdout == ""
    assert res.stderr.startswith("meshctl: error: ") and res.stderr.count("\n") == 1
    tpl = tmp_path / "tpl.yaml"
    tpl.write_text("templates:\n  sidecar: '{{ .Nope '\n")
    res = run_cli(["kube-inject", "-f", "-", "--injectConfigFile", str(tpl)], stdin=HELLO)
    assert res.rc == 3 and res.stdout == "", res.stderr
    assert res.stderr.startswith("meshctl: error: ") and res.stderr.count("\n") == 1
    missing = run_cli(["kube-inject", "-f", "-", "--meshConfigFile", "nope.yaml"], stdin=HELLO)
    assert missing.rc == 3 and "nope.yaml" in missing.stderr


def test_requested_template_missing_names_the_choices() -> None:
    doc = HELLO.replace(
        "    metadata:\n",
        "    metadata:\n      annotations:\n        inject.istio.io/templates: waypoint\n",
        1,
    )
    res = run_cli(["kube-inject", "-f", "-"], stdin=doc)
    assert res.rc == 3 and res.stdout == ""
    assert res.stderr.endswith(": requested template 'waypoint' not found; "
                               "have gateway, grpc-agent, grpc-simple, sidecar\n"), res.stderr


def test_compiled_templates_give_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Big inputs render with templates compiled to Python; the output must not change."""
    from meshctl.gotemplate import compiler, native

    calls = []
    for cls in (compiler.CompiledTemplate, native.NativeTemplate):

        def spy(self: Any, data: object, real: Any = cls.render) -> str:
            text = real(self, data)
            calls.append(1)  # rendered without falling back to gotpl
            return text  # type: ignore[no-any-return]

        monkeypatch.setattr(cls, "render", spy)
    stream = "---\n".join(p.read_text() for p in sorted((SHARED / "realworld").glob("*.yaml")))
    outputs = {}
    for flag in ("", "0"):  # "": decided by the input size (37 workloads: compiled)
        monkeypatch.setenv("MESHCTL_COMPILED_TEMPLATES", flag)
        res = run_cli(["kube-inject", "-q", "-j", "1", "-f", "-"], stdin=stream)
        assert res.rc == 0, res.stderr
        outputs[flag] = res.stdout
        if flag == "":
            assert len(calls) >= 30, "the compiled templates were not used"
    assert outputs[""] == outputs["0"]
    assert outputs[""].count("name: istio-proxy") >= 30


@pytest.mark.parametrize(
    "doc, message, line",
    [
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n"
            "    spec:\n      containers: 5\n",
            "spec.template.spec.containers must be a list, not a number",
            7,
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels: [a]\nspec:\n"
            "  containers:\n  - {name: a, image: b}\n",
            "metadata.labels must be a mapping, not a list",
            5,
        ),
        (
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n"
            "  metadata: {name: bad}\n  spec:\n    containers:\n    - just-a-string\n",
            "spec.containers[0] must be a mapping, not a string",
            9,
        ),
    ],
)
def test_wrongly_typed_pod_fields_are_errors_with_their_line(
    doc: str, message: str, line: int
) -> None:
    res = run_cli(["kube-inject", "-f", "-"], stdin=doc)
    assert res.rc == 3 and res.stdout == ""
    assert res.stderr == f"meshctl: error: <stdin>: document 1 (line {line}): {message}\n"


def test_settings_warnings_go_to_the_report(tmp_path: Path) -> None:
    """Unknown fields of the user's files are the run's warnings, printed by the report (text
    and JSON) with the file and line; the run succeeds; --quiet silences them."""
    (tmp_path / "app.yaml").write_text(HELLO)
    (tmp_path / "mesh.yaml").write_text("accessLogFile: /dev/stdout\nenableTracng: true\n")
    args = ["kube-inject", "-f", "app.yaml", "--meshConfigFile", "mesh.yaml"]
    res = run_cli(args, cwd=str(tmp_path))
    assert res.rc == 0
    warning = ("mesh.yaml: line 2: mesh config enableTracng: unknown field 'enableTracng' of "
               "MeshConfig; did you mean 'enableTracing'? (Istio ignores it)")
    assert res.stderr.splitlines()[0] == f"warning: {warning}"
    report = json.loads(run_cli([*args, "--report", "json"], cwd=str(tmp_path)).stderr)
    assert report["warnings"] == [warning]
    assert run_cli([*args, "-q"], cwd=str(tmp_path)).stderr == ""


def test_a_bug_is_one_line_with_exit_code_4(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever command hits it, an unexpected exception is one line and exit code 4."""
    from meshctl.commands import create_ingress
    from tests.clirunner import run_main

    def broken(opts: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(create_ingress, "create_ingress", broken)
    res = run_main(["create", "ingress", "web", "--service", "web:80"])
    assert (res.rc, res.stdout) == (4, "")
    assert res.stderr == ("meshctl: error: internal error: ZeroDivisionError: a bug "
                          "(set MESHCTL_DEBUG=1 for details)\n")
