"""The hooks of .pre-commit-hooks.yaml, run by the real pre-commit (4.7) in a throwaway git repo.

Offline (always): the consumer's config names a hook repository holding this checkout's
``.pre-commit-hooks.yaml`` and overrides ``language: unsupported`` (meshctl from PATH, the venv's
bin), so the shipped ids, entries and file filters run as a user's would, without pre-commit
pip-installing meshctl. With ``MESHCTL_TEST_NETWORK=1`` the shipped ``language: python`` runs
too, through ``pre-commit try-repo`` on this checkout: pre-commit builds a virtualenv and
pip-installs meshctl and its dependencies from PyPI (7 to 20 s here).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.integrations.tools import FIXTURES, env, kube_inject, run, script
from tests.integrations.tools import tool as find_tool

HOOKS = ROOT / ".pre-commit-hooks.yaml"
APP = (FIXTURES / "kustomize" / "app.yaml").read_text()
PLAYBOOK = "- hosts: all\n  tasks:\n  - name: ping\n    ping: {}\n"


def _git(cwd: Path, tmp: Path, *args: str) -> str:
    res = subprocess.run(["git", *args], cwd=cwd, env=env(tmp), capture_output=True, text=True,
                         check=False)
    assert res.returncode == 0, f"git {' '.join(args)}: {res.stderr}"
    return res.stdout.strip()


@pytest.fixture
def consumer(tmp_path: Path) -> Path:
    """A git repo with a plain manifest, an injected one, and files the hooks must pass."""
    if shutil.which("git") is None:
        pytest.skip("git not found")
    repo = tmp_path / "consumer"
    (repo / "k8s").mkdir(parents=True)
    _git(repo, tmp_path, "init", "-q")
    (repo / "k8s" / "app.yaml").write_text(APP)
    (repo / "k8s" / "injected.yaml").write_text(kube_inject(APP, tmp_path))
    (repo / "k8s" / "config.json").write_text('{"apiVersion": "v1", "kind": "ConfigMap", '
                                             '"metadata": {"name": "c"}}\n')
    (repo / "README.md").write_text("not a manifest\n")
    (repo / ".github").mkdir()
    (repo / ".github" / "ci.yaml").write_text("on: [push]\njobs: {}\n")
    (repo / "ansible").mkdir()  # not Kubernetes manifests: the hooks skip it
    (repo / "ansible" / "site.yaml").write_text(PLAYBOOK)
    return repo


@pytest.fixture
def hook_repo(tmp_path: Path) -> tuple[Path, str]:
    """A hook repository holding this checkout's .pre-commit-hooks.yaml; its commit."""
    repo = tmp_path / "hooks"
    repo.mkdir()
    shutil.copy(HOOKS, repo / ".pre-commit-hooks.yaml")
    _git(repo, tmp_path, "init", "-q")
    _git(repo, tmp_path, "add", ".pre-commit-hooks.yaml")
    _git(repo, tmp_path, "commit", "-q", "-m", "hooks")
    return repo, _git(repo, tmp_path, "rev-parse", "HEAD")


def _configure(consumer: Path, hook_repo: tuple[Path, str]) -> None:
    repo, rev = hook_repo
    hooks = [{"id": hook, "language": "unsupported"} for hook in ("meshctl-check",
                                                                  "meshctl-inject")]
    config = {"repos": [{"repo": str(repo), "rev": rev, "hooks": hooks}]}
    (consumer / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))


def test_the_shipped_hooks() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load(HOOKS.read_text())}
    assert hooks["meshctl-check"]["entry"] == "meshctl kube-inject --only-manifests --check"
    assert hooks["meshctl-inject"]["entry"] == "meshctl kube-inject --only-manifests --in-place"
    for hook in hooks.values():
        assert hook["language"] == "python"  # pre-commit installs meshctl at the pinned rev
        assert hook["types_or"] == ["yaml", "json"]


def test_check_fails_on_a_manifest_that_is_not_injected(tmp_path: Path, consumer: Path,
                                                        hook_repo: tuple[Path, str]) -> None:
    pre_commit = find_tool("pre-commit")
    script("meshctl")
    _configure(consumer, hook_repo)
    _git(consumer, tmp_path, "add", "-A")
    res = run([pre_commit, "run", "meshctl-check", "--all-files"], tmp_path, cwd=consumer)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "meshctl kube-inject --check" in res.stdout and "Failed" in res.stdout
    assert "deployment/default/web" in res.stdout  # the report names what would change
    # the injected manifest, the JSON ConfigMap and the CI workflow pass on their own
    names = ["k8s/injected.yaml", "k8s/config.json", ".github/ci.yaml", "ansible/site.yaml"]
    res = run([pre_commit, "run", "meshctl-check", "--files", *names], tmp_path, cwd=consumer)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Passed" in res.stdout


def test_inject_fixes_the_files_and_then_check_passes(tmp_path: Path, consumer: Path,
                                                      hook_repo: tuple[Path, str]) -> None:
    pre_commit = find_tool("pre-commit")
    _configure(consumer, hook_repo)
    _git(consumer, tmp_path, "add", "-A")
    res = run([pre_commit, "run", "meshctl-inject", "--all-files"], tmp_path, cwd=consumer)
    assert res.returncode == 1  # pre-commit's rule: a hook that changes files fails
    assert "files were modified by this hook" in res.stdout
    assert (consumer / "k8s" / "app.yaml").read_text() == kube_inject(APP, tmp_path)
    assert (consumer / "README.md").read_text() == "not a manifest\n"
    assert (consumer / "ansible" / "site.yaml").read_text() == PLAYBOOK
    _git(consumer, tmp_path, "add", "-A")
    res = run([pre_commit, "run", "--all-files"], tmp_path, cwd=consumer)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("Passed") == 2


def test_the_hook_runs_on_git_commit(tmp_path: Path, consumer: Path,
                                     hook_repo: tuple[Path, str]) -> None:
    pre_commit = find_tool("pre-commit")
    _configure(consumer, hook_repo)
    res = run([pre_commit, "install"], tmp_path, cwd=consumer)
    assert res.returncode == 0, res.stderr
    _git(consumer, tmp_path, "add", "k8s/app.yaml", ".pre-commit-config.yaml")
    commit = subprocess.run(["git", "commit", "-q", "-m", "app"], cwd=consumer, env=env(tmp_path),
                            capture_output=True, text=True, check=False)
    assert commit.returncode == 1  # meshctl-check failed, meshctl-inject fixed the file
    assert (consumer / "k8s" / "app.yaml").read_text() == kube_inject(APP, tmp_path)
    _git(consumer, tmp_path, "add", "k8s/app.yaml")
    commit = subprocess.run(["git", "commit", "-q", "-m", "app"], cwd=consumer, env=env(tmp_path),
                            capture_output=True, text=True, check=False)
    assert commit.returncode == 0, commit.stdout + commit.stderr


@pytest.mark.skipif(os.environ.get("MESHCTL_TEST_NETWORK") != "1",
                    reason="language: python pip-installs meshctl from PyPI: "
                           "set MESHCTL_TEST_NETWORK=1 to run it")
def test_try_repo_installs_meshctl_with_pip(tmp_path: Path, consumer: Path) -> None:
    pre_commit = find_tool("pre-commit")
    res = run([pre_commit, "try-repo", ROOT, "meshctl-check", "--files", "k8s/app.yaml",
               "k8s/injected.yaml"], tmp_path, cwd=consumer)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "deployment/default/web" in res.stdout
    res = run([pre_commit, "try-repo", ROOT, "meshctl-check", "--files", "k8s/injected.yaml"],
              tmp_path, cwd=consumer)
    assert res.returncode == 0, res.stdout + res.stderr
