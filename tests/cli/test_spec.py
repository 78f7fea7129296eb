"""The click-free parser of meshctl.cli.spec agrees with click on every command line it accepts.

``meshctl kube-inject`` runs without importing click when :func:`meshctl.cli.spec.parse`
parses the command line; the click application is built from the same declarations. The two
must give the command the same arguments, and the fast parser must leave to click everything
click refuses (so that click reports it).
"""

from __future__ import annotations

from typing import Any

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshctl.cli.app import cli
from meshctl.cli.spec import ARGUMENTS, COMMANDS, parse


def click_params(argv: list[str]) -> dict[str, Any] | None:
    """What click passes to the command for ``argv`` = [COMMAND, ...], or None if it refuses."""
    command = cli.commands[argv[0]]
    try:
        ctx = command.make_context(argv[0], list(argv[1:]))
    except click.exceptions.Exit:  # --help
        return None
    except click.ClickException:
        return None
    return dict(ctx.params)


COMMON = [
    ["kube-inject", "-f", "app.yaml"],
    ["kube-inject", "-f", "-"],
    ["kube-inject", "-f", "a.yaml", "-f", "b.yaml", "-R", "-q"],
    ["kube-inject", "--filename=app.yaml", "--check"],
    ["kube-inject", "-f", "k8s/", "-R", "--diff"],
    ["kube-inject", "-f", "k8s/", "-R", "--in-place"],
    ["kube-inject", "-f", "app.yaml", "-o", "out.yaml"],
    ["kube-inject", "-f", "app.yaml", "--output-format", "patch"],
    ["kube-inject", "-f", "app.yaml", "-j", "2", "--report", "json"],
    ["kube-inject", "-f", "app.yaml", "--jobs=0"],
    ["kube-inject", "-f", "app.yaml", "--injectConfigFile", "inject.yaml", "--valuesFile",
     "values.json", "--meshConfigFile", "mesh.yaml"],
    ["kube-inject", "-f", "app.yaml", "--operatorFileName", "iop.yaml", "-r", "canary"],
    ["kube-inject", "-f", "app.yaml", "--hub", "docker.io/istio", "--tag", "1.29.0"],
    ["kube-inject", "-f", "app.yaml", "--proxy-image", "p:1", "--proxy-init-image", "i:1"],
    ["kube-inject", "-f", "app.yaml", "--native-sidecars", "true", "--reinject", "merge"],
    ["kube-inject", "-f", "app.yaml", "--compliance-policy", "fips-140-3"],
    ["kube-uninject", "-f", "injected.yaml"],
    ["kube-uninject", "-f", "-", "-q", "--diff"],
    # inputs as arguments: pre-commit appends the staged files; xargs; Helm's post-renderer
    ["kube-inject", "--check", "a.yaml", "k8s/b.yaml"],
    ["kube-inject", "-i", "a.yaml"],
    ["kube-inject", "-"],
    ["kube-inject", "a.yaml", "-f", "b.yaml", "c.yaml", "--diff"],
    ["kube-inject", "-f", "-", "--revision", "canary", "extra.yaml"],
    ["kube-uninject", "--check", "injected.yaml", ""],
]


@pytest.mark.parametrize("argv", COMMON, ids=" ".join)
def test_common_command_lines_parse_without_click(argv: list[str]) -> None:
    parsed = parse(argv)
    assert parsed is not None, "the usual command lines must not need click"
    operation, kw = parsed
    assert operation == COMMANDS[argv[0]][0]
    assert kw == click_params(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["kube-inject", "-f", "app.yaml", "--help"],
        ["kube-inject", "-h"],
        ["kube-inject", "-qR", "-f", "a"],  # combined short flags: click's business
        ["kube-inject", "-fapp.yaml"],
        ["kube-inject", "-f"],
        ["kube-inject", "-f", "a", "--output-format", "xml"],
        ["kube-inject", "-f", "a", "-j", "-1"],
        ["kube-inject", "-f", "a", "-j", " 1"],
        ["kube-inject", "-f", "a", "--filenam", "b"],  # misspelt: click suggests the name
        ["kube-inject", "-f", "a", "-1"],  # an argument that looks like an option
        ["kube-inject", "--", "-f"],
        ["kube-inject", "a.yaml", "--", "-b.yaml"],
        ["kube-inject", "-f", "a", "--check=yes"],
        ["kube-uninject", "-f", "a", "--hub", "x"],  # not an option of this command
        ["version"],
        ["--version"],
        [],
    ],
    ids=lambda a: " ".join(a) or "(none)",
)
def test_unusual_command_lines_are_left_to_click(argv: list[str]) -> None:
    assert parse(argv) is None


def test_click_options_are_the_declared_ones() -> None:
    for name, (_, options) in COMMANDS.items():
        params = {p.name: p for p in cli.commands[name].params
                  if p.name != "help" and isinstance(p, click.Option)}
        assert list(params) == [opt.dest for opt in options]
        for opt in options:
            param = params[opt.dest]
            assert sorted(param.opts + param.secondary_opts) == sorted(opt.flags)
            assert param.is_flag == (opt.kind == "flag")
            assert param.multiple == (opt.kind == "multiple")
            assert isinstance(param.type, click.Path) == opt.path


def test_click_arguments_are_the_declared_ones() -> None:
    for name in COMMANDS:
        arguments = [p for p in cli.commands[name].params if isinstance(p, click.Argument)]
        declared = ARGUMENTS.get(name)
        if declared is None:
            assert arguments == []
            continue
        (argument,) = arguments
        assert argument.name == declared.dest
        assert argument.nargs == -1 and not argument.required
        assert isinstance(argument.type, click.Path) == declared.path


_FLAGS = sorted({flag for _, options in COMMANDS.values() for opt in options
                 for flag in opt.flags})
_TOKENS = st.one_of(
    st.sampled_from(_FLAGS),
    st.sampled_from(["a.yaml", "-", "", "0", "3", "-1", "+2", "1_0", " 4", "yaml", "patch",
                     "json", "text", "auto", "true", "false", "strip", "merge", "x=y", "--",
                     "-h", "--help", "-qR", "-fa", "--filename=b", "--jobs=2", "--jobs=-3",
                     "--report=json", "--check=1", "--nope", "-Z", "é", "--output=-"]),
    st.builds(lambda f, v: f"{f}={v}", st.sampled_from([f for f in _FLAGS if f[:2] == "--"]),
              st.sampled_from(["", "a", "2", "json", "patch", "-"])),
)


@settings(max_examples=600, deadline=None)
@given(command=st.sampled_from(sorted(COMMANDS)), tokens=st.lists(_TOKENS, max_size=8))
def test_fast_parser_agrees_with_click(command: str, tokens: list[str]) -> None:
    argv = [command, *tokens]
    parsed = parse(argv)
    if parsed is None:
        return  # click parses it (and reports any error)
    want = click_params(argv)
    assert want is not None, f"accepted {argv} that click refuses"
    assert parsed == (COMMANDS[command][0], want)


def _valid_values(kind: str, choices: tuple[str, ...]) -> st.SearchStrategy[str]:
    if kind == "choice":
        return st.sampled_from(choices)
    if kind == "int":
        return st.integers(min_value=0, max_value=64).map(str)
    return st.sampled_from(["app.yaml", "-", "k8s/", "https://x/y.yaml", "", "a b", "é.yaml"])


@st.composite
def _well_formed(draw: st.DrawFn) -> list[str]:
    """A command line of the declared options with valid values, in any order and spelling."""
    command = draw(st.sampled_from(sorted(COMMANDS)))
    options = COMMANDS[command][1]
    argv = [command]
    for opt in draw(st.lists(st.one_of(st.sampled_from(options), st.none()), max_size=10)):
        if opt is None:  # an input named as an argument
            if command in ARGUMENTS:
                argv.append(draw(st.sampled_from(["a.yaml", "-", "k8s/", "", "a b", "é"])))
            continue
        flag = draw(st.sampled_from(opt.flags))
        if opt.kind == "flag":
            argv.append(flag)
            continue
        value = draw(_valid_values(opt.kind, opt.choices))
        if flag.startswith("--") and draw(st.booleans()):
            argv.append(f"{flag}={value}")
        else:
            argv.extend([flag, value])
    return argv


@settings(max_examples=400, deadline=None)
@given(argv=_well_formed())
def test_well_formed_command_lines_parse_as_click_does(argv: list[str]) -> None:
    parsed = parse(argv)
    assert parsed is not None, argv
    assert parsed == (COMMANDS[argv[0]][0], click_params(argv))
