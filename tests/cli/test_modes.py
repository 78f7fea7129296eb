"""The modes of a manifest run, tested with the real tools they feed:

* ``--output-format patch`` is a list of kustomize ``patches:`` entries: ``kubectl kustomize``
  (real kubectl 1.37) on an overlay of the original gives the objects kube-inject gives;
* ``--output-format jsonpatch``: every patch, applied with ``jsonpatch.apply_patch`` to the
  input object, gives kube-inject's output object; ``json`` is that, as JSON;
* ``--diff``/``--check`` exit 1 when something would change, 0 otherwise, and the report says
  what *would* happen;
* on a terminal the report and the diff are coloured and a long run shows a progress bar; piped,
  the output is byte-identical plain text and rich is not even imported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
import yaml

from meshctl.errors import EXIT_OK, EXIT_WOULD_CHANGE
from tests.clirunner import run_cli, run_in_pty
from tests.conftest import ROOT, SHARED

FIXTURES = ROOT / "tests" / "fixtures"
INPUTS = sorted([*FIXTURES.glob("*/input.yaml"), *(SHARED / "realworld").glob("*.yaml"),
                 ROOT / "examples" / "bookinfo" / "bookinfo.yaml"])
KUBECTL = shutil.which("kubectl")


def _ok(path: Path) -> bool:
    return run_cli(["kube-inject", "-q", "-f", str(path)]).rc == 0


def _docs(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def _resources(docs: list[Any]) -> dict[tuple[Any, ...], Any]:
    """Objects by identity, List items flattened at any depth (a typed list's items take its
    kind), nulls dropped (kustomize drops them)."""
    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    def flatten(obj: Any) -> list[Any]:
        kind = obj.get("kind") if isinstance(obj, dict) else None
        if isinstance(kind, str) and kind.endswith("List") and "items" in obj:
            typed = None if kind == "List" else kind[: -len("List")]
            out = []
            for item in obj.get("items") or []:
                if typed and isinstance(item, dict) and "kind" not in item:
                    item = {"kind": typed, "apiVersion": obj.get("apiVersion"), **item}
                out.extend(flatten(item))
            return out
        return [obj]

    out = {}
    for doc in docs:
        for obj in flatten(doc):
            meta = obj.get("metadata") or {}
            key = (obj.get("apiVersion"), obj.get("kind"), meta.get("namespace") or "default",
                   meta.get("name"))
            out[key] = clean(obj)
    return out


USABLE = [p for p in INPUTS if _ok(p)]
#: inputs kustomize itself cannot read as a base: items of a typed list without their kind
#: (``kubectl get -o yaml`` output), documents without a kind (meshctl passes them through)
NOT_A_KUSTOMIZE_BASE = {"list-kinds", "passthrough-rules"}


@pytest.mark.skipif(KUBECTL is None, reason="kubectl comes with the [test] extra")
@pytest.mark.parametrize("path", USABLE, ids=lambda p: p.parent.name + "/" + p.name)
def test_patch_output_is_a_kustomize_overlay(path: Path, tmp_path: Path) -> None:
    injected = run_cli(["kube-inject", "-q", "-f", str(path)])
    patches = run_cli(["kube-inject", "-q", "-f", str(path), "--output-format", "patch"])
    assert patches.rc == 0
    base = tmp_path / "resources.yaml"
    shutil.copy(path, base)
    (tmp_path / "kustomization.yaml").write_text("resources: [resources.yaml]\n")
    plain = subprocess.run([KUBECTL, "kustomize", str(tmp_path)], capture_output=True, text=True)
    if plain.returncode != 0:  # kustomize refuses the input itself, patches or not
        assert path.parent.name in NOT_A_KUSTOMIZE_BASE, plain.stderr
        return
    assert path.parent.name not in NOT_A_KUSTOMIZE_BASE
    entries = yaml.safe_load(patches.stdout)
    assert isinstance(entries, list)
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [resources.yaml]\npatches:\n" +
        "".join("  " + line + "\n" for line in patches.stdout.splitlines()), encoding="utf-8")
    built = subprocess.run([KUBECTL, "kustomize", str(tmp_path)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    assert _resources(_docs(built.stdout)) == _resources(_docs(injected.stdout))


@pytest.mark.parametrize("path", USABLE, ids=lambda p: p.parent.name + "/" + p.name)
def test_jsonpatch_output_applies_to_the_input(path: Path) -> None:
    injected = _resources(_docs(run_cli(["kube-inject", "-q", "-f", str(path)]).stdout))
    lines = run_cli(["kube-inject", "-q", "-f", str(path), "--output-format", "jsonpatch"])
    assert lines.rc == 0
    patched = _resources(_docs(path.read_text(encoding="utf-8")))
    changed = [obj for key, obj in patched.items() if obj != injected[key]]
    patches = [json.loads(line) for line in lines.stdout.splitlines()]
    assert len(patches) == len(changed)
    for obj, ops in zip(changed, patches, strict=True):
        (key,) = _resources([obj])
        assert _resources([jsonpatch.apply_patch(obj, ops)])[key] == injected[key]
    as_json = json.loads(run_cli(["kube-inject", "-q", "-f", str(path),
                                  "--output-format", "json"]).stdout)
    assert _resources([as_json]) == injected


def test_diff_and_check_exit_codes_and_wording(tmp_path: Path) -> None:
    app = FIXTURES / "diff-output" / "input.yaml"
    diff = run_cli(["kube-inject", "-f", str(app), "--diff"])
    assert diff.rc == EXIT_WOULD_CHANGE and diff.stdout.startswith("--- a/")
    assert diff.stderr.endswith(": would inject\n")
    check = run_cli(["kube-inject", "-f", str(app), "--check"])
    assert (check.rc, check.stdout) == (EXIT_WOULD_CHANGE, "")
    assert "would inject" in check.stderr
    report = json.loads(run_cli(["kube-inject", "-f", str(app), "--check", "--report",
                                 "json"]).stderr)
    assert report["dry_run"] is True and report["resources"][0]["action"] == "injected"
    done = tmp_path / "done.yaml"
    done.write_text(run_cli(["kube-inject", "-q", "-f", str(app)]).stdout, encoding="utf-8")
    for mode in ("--diff", "--check"):
        res = run_cli(["kube-inject", "-f", str(done), mode])
        assert (res.rc, res.stdout) == (EXIT_OK, ""), mode


def _pty_run(args: list[str]) -> bytes:
    return run_in_pty(args)[0]


def test_terminal_colours_and_progress_bar(tmp_path: Path) -> None:
    doc = (ROOT / "examples" / "bookinfo" / "bookinfo.yaml").read_text(encoding="utf-8")
    big = tmp_path / "big.yaml"
    big.write_text("\n---\n".join([doc] * 400), encoding="utf-8")
    out = _pty_run(["kube-inject", "-f", str(big), "-j", "1", "-o", str(tmp_path / "o.yaml")])
    assert b"\x1b[32m" in out  # the green report
    documents = 400 * doc.count("\nkind: ")
    assert b"injecting" in out and b"/%d" % documents in out  # the bar: done / in all
    diff = _pty_run(["kube-inject", "-f", str(FIXTURES / "diff-output" / "input.yaml"),
                     "--diff"])
    assert b"\x1b[32m+" in diff and b"\x1b[36m@@" in diff


def test_piped_output_is_plain_and_rich_is_not_imported(tmp_path: Path) -> None:
    app = FIXTURES / "diff-output" / "input.yaml"
    code = (
        "import sys, io, contextlib\n"
        "from meshctl.cli.main import main\n"
        "out, err = io.StringIO(), io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):\n"
        f"    main(['kube-inject', '-f', {str(app)!r}, '--diff'])\n"
        "print('rich' in sys.modules, '\\x1b' in out.getvalue() + err.getvalue())\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True, env={**os.environ, "MESHCTL_NO_CACHE": "1"})
    assert res.stdout.strip() == "False False"
    forced = run_cli(["kube-inject", "-f", str(app), "--diff", "--color", "always"])
    assert "\x1b[" in forced.stdout and "\x1b[" in forced.stderr
    plain = run_cli(["kube-inject", "-f", str(app), "--diff", "--color", "never"])
    assert "\x1b" not in plain.stdout + plain.stderr
