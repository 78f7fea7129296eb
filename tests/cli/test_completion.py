"""``meshctl completion bash|zsh|fish``: the script is click's, and completing with it works.

bash: the script is sourced in a real bash and its completion function called as bash's
``complete`` would call it (``COMP_WORDS``/``COMP_CWORD``); ``compopt``, a builtin that refuses
to run outside an interactive completion, is recorded instead (``-o default`` is how the script
hands file names over to bash). zsh: compsys needs an interactive shell, so the functions the
script calls (``compdef``, ``compadd``, ``_describe``, ``_path_files``) are stand-ins that print
what they are given. fish: its own ``complete -C``. Each runs the installed ``meshctl``, as a
shell does on TAB; the zsh and fish tests are skipped when the shell is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from meshctl.cli.app import cli
from meshctl.cli.spec import COMMANDS

BIN = Path(sys.executable).parent
MESHCTL = BIN / "meshctl"

BASH_HARNESS = r"""
source <(meshctl completion bash)
COMP_WORDS=("$@")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
compopt() { local IFS=' '; echo "compopt $*"; }
fn=$(complete -p meshctl | sed -E 's/.* -F ([^ ]+) .*/\1/')
"$fn" meshctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"""

ZSH_HARNESS = r"""
compdef() { print -- "compdef $*"; }
compadd() { print -l -- ${(P)${@[-1]}}; }
_describe() { print -l -- ${(P)3}; }
_path_files() { print -- "files $*"; }
eval "$(meshctl completion zsh)"
words=("$@")
CURRENT=${#words}
_meshctl_completion
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("_MESHCTL")}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "/usr/bin:/bin")])
    return env


def _shell(argv: list[str], cwd: Path) -> list[str]:
    res = subprocess.run(argv, capture_output=True, text=True, env=_env(), cwd=cwd, timeout=60,
                         check=False)
    assert res.returncode == 0, res.stderr
    return [line for line in res.stdout.splitlines() if line]


def bash(*words: str, cwd: Path) -> list[str]:
    """What completing the last of ``words`` offers (``''``: a new word)."""
    return _shell(["bash", "-c", BASH_HARNESS, "bash", "meshctl", *words], cwd)


@pytest.fixture(autouse=True)
def _installed() -> None:
    assert os.access(MESHCTL, os.X_OK), f"{MESHCTL} missing: pip install -e ."


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_script_is_clicks(shell: str, tmp_path: Path) -> None:
    ours = subprocess.run([MESHCTL, "completion", shell], capture_output=True, text=True,
                          check=True, env=_env()).stdout
    clicks = subprocess.run([MESHCTL], capture_output=True, text=True, check=False,
                            env={**_env(), "_MESHCTL_COMPLETE": f"{shell}_source"}).stdout
    assert ours == clicks and ours.endswith("\n")


def test_bad_shell_is_a_usage_error() -> None:
    res = subprocess.run([MESHCTL, "completion", "tcsh"], capture_output=True, text=True,
                         check=False, env=_env())
    assert res.returncode == 2 and "'tcsh' is not one of 'bash', 'zsh', 'fish'" in res.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_bash_completes_commands_options_choices_and_files(tmp_path: Path) -> None:
    assert bash("", cwd=tmp_path) == sorted(cli.commands)
    assert {"completion", "fn", "kube-inject", "kube-uninject", "version"} <= set(cli.commands)
    assert bash("kube-u", cwd=tmp_path) == ["kube-uninject"]
    options = bash("kube-inject", "--", cwd=tmp_path)
    assert {"--filename", "--check", "--in-place", "--output-format", "--revision"} <= set(options)
    assert bash("kube-inject", "--output-f", cwd=tmp_path) == ["--output-format"]
    formats = next(o.choices for o in COMMANDS["kube-inject"].options
                   if o.dest == "output_format")
    assert bash("kube-inject", "--output-format", "", cwd=tmp_path) == list(formats)
    assert bash("kube-inject", "--native-sidecars", "t", cwd=tmp_path) == ["true"]
    assert bash("completion", "", cwd=tmp_path) == ["bash", "zsh", "fish"]
    # file names: the script tells bash to complete them itself
    assert bash("kube-inject", "-f", "", cwd=tmp_path) == ["compopt -o default"]
    assert bash("kube-inject", "--check", "app", cwd=tmp_path) == ["compopt -o default"]
    assert bash("kube-uninject", "--filename", "", cwd=tmp_path) == ["compopt -o default"]
    assert bash("kube-inject", "--injectConfigFile", "", cwd=tmp_path) == ["compopt -o default"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh not installed")
def test_zsh_script(tmp_path: Path) -> None:
    def zsh(*words: str) -> list[str]:
        return _shell(["zsh", "-f", "-c", ZSH_HARNESS, "zsh", "meshctl", *words], tmp_path)

    registered, *described = zsh("kube-")
    assert registered == "compdef _meshctl_completion meshctl"
    assert [d.split(":")[0] for d in described] == ["kube-inject", "kube-uninject"]
    assert described[0].startswith("kube-inject:Inject the Istio sidecar")
    assert zsh("kube-inject", "--native-sidecars", "")[1:] == ["auto", "true", "false"]
    assert zsh("kube-inject", "-f", "")[1:] == ["files -f"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish not installed")
def test_fish_script(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("kind: Service\n")
    (tmp_path / "apps").mkdir()

    def fish(line: str) -> list[str]:
        return _shell(["fish", "--no-config", "-c",
                       f"meshctl completion fish | source; complete -C {line!r}"], tmp_path)

    assert [c.split("\t")[0] for c in fish("meshctl kube-")] == ["kube-inject", "kube-uninject"]
    assert fish("meshctl completion ") == ["bash", "fish", "zsh"]  # fish sorts
    assert fish("meshctl kube-inject -f ap") == ["app.yaml", "apps/"]
