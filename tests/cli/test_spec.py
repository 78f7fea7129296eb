"""The click-free parser of meshctl.cli.spec agrees with click on every command line it accepts.

``meshctl kube-inject`` (and ``kube-uninject``, ``url``, ``create ingress``) runs without
importing click when :func:`meshctl.cli.spec.parse` parses the command line; the click
application is built from the same declarations. The two must give the command the same
arguments, and the fast parser must leave to click everything click refuses (so that click
reports it).
"""

from __future__ import annotations

from typing import Any

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshctl.cli.app import cli
from meshctl.cli.spec import COMMANDS, find_command, parse


def click_command(words: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for word in words:
        assert isinstance(command, click.Group)
        command = command.commands[word]
    return command


def click_params(argv: list[str]) -> dict[str, Any] | None:
    """What click passes to the command for ``argv`` = [WORDS..., ...], or None if it refuses."""
    declared = find_command(argv)
    assert declared is not None
    words = declared.words
    try:
        ctx = click_command(words).make_context(words[-1], list(argv[len(words):]))
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
    ["kube-inject", "-f", "app.yaml", "--from-cluster", "--context", "prod", "-r", "canary"],
    ["url", "productpage", "-n", "bookinfo"],
    ["url", "--ingress", "--path", "/productpage"],
    ["url", "--ingress", "--format", "env"],
    ["url", "--ingress", "--wait"],
    ["url", "--ingress", "--wait=5m", "--kubeconfig", "k.yaml"],
    ["url", "--wait", "productpage"],  # a bare --wait never takes the next word
    ["url", "grafana", "--port-forward", "--open", "--local-port", "3000"],
    ["url", "--gateway", "bookinfo-gateway", "-n", "bookinfo", "--from-file", "state.json"],
    ["create", "ingress", "bookinfo", "--service", "productpage:9080", "--path", "/productpage",
     "--path", "/login", "--path", "/logout"],
    ["create", "ingress", "shop", "--rule", "shop.example.com/*=frontend:http,tls=cert",
     "--class", "", "-n", "shop", "--style", "istio"],
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
    command, kw = parsed
    assert command is find_command(argv)
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
        ["create", "ingress"],  # NAME is missing
        ["create", "ingress", "a", "b"],  # one NAME
        ["url", "a", "b"],
        ["url", "--port"],
        ["url", "--format", "yaml"],
        ["version"],
        ["--version"],
        [],
    ],
    ids=lambda a: " ".join(a) or "(none)",
)
def test_unusual_command_lines_are_left_to_click(argv: list[str]) -> None:
    assert parse(argv) is None


def test_click_options_are_the_declared_ones() -> None:
    for declared in COMMANDS.values():
        command = click_command(declared.words)
        params = [p for p in command.params if p.name != "help"]
        args = [p for p in params if isinstance(p, click.Argument)]
        assert [a.name for a in args] == [a.dest for a in declared.args]
        assert [a.required for a in args] == [a.required for a in declared.args]
        assert [a.nargs == -1 for a in args] == [a.variadic for a in declared.args]
        assert [isinstance(a.type, click.Path) for a in args] == [a.path for a in declared.args]
        options = {p.name: p for p in params if isinstance(p, click.Option)}
        assert list(options) == [opt.dest for opt in declared.options]
        for opt in declared.options:
            param = options[opt.dest]
            assert sorted(param.opts + param.secondary_opts) == sorted(opt.flags)
            assert param.is_flag == (opt.kind == "flag")
            assert param.multiple == (opt.kind == "multiple")
            assert isinstance(param.type, click.Path) == opt.path


_FLAGS = sorted({flag for c in COMMANDS.values() for opt in c.options for flag in opt.flags})
_TOKENS = st.one_of(
    st.sampled_from(_FLAGS),
    st.sampled_from(["a.yaml", "-", "", "0", "3", "-1", "+2", "1_0", " 4", "yaml", "patch",
                     "json", "text", "auto", "true", "false", "strip", "merge", "x=y", "--",
                     "-h", "--help", "-qR", "-fa", "--filename=b", "--jobs=2", "--jobs=-3",
                     "--report=json", "--check=1", "--nope", "-Z", "é", "--output=-",
                     "--wait=", "--wait=5m", "env", "url", "istio", "Prefix", "svc:80"]),
    st.builds(lambda f, v: f"{f}={v}", st.sampled_from([f for f in _FLAGS if f[:2] == "--"]),
              st.sampled_from(["", "a", "2", "json", "patch", "-", "env"])),
)
_WORDS = sorted(COMMANDS)


@settings(max_examples=800, deadline=None)
@given(words=st.sampled_from(_WORDS), tokens=st.lists(_TOKENS, max_size=8))
def test_fast_parser_agrees_with_click(words: str, tokens: list[str]) -> None:
    argv = [*words.split(), *tokens]
    parsed = parse(argv)
    if parsed is None:
        return  # click parses it (and reports any error)
    want = click_params(argv)
    assert want is not None, f"accepted {argv} that click refuses"
    assert parsed == (COMMANDS[words], want)


def _valid_values(kind: str, choices: tuple[str, ...]) -> st.SearchStrategy[str]:
    if kind == "choice":
        return st.sampled_from(choices)
    if kind == "int":
        return st.integers(min_value=1, max_value=64).map(str)
    return st.sampled_from(["app.yaml", "-", "k8s/", "https://x/y.yaml", "", "a b", "é.yaml"])


@st.composite
def _well_formed(draw: st.DrawFn) -> list[str]:
    """A command line of the declared options and arguments with valid values, in any order
    and spelling."""
    words = draw(st.sampled_from(_WORDS))
    declared = COMMANDS[words]
    items: list[list[str]] = []
    for opt in draw(st.lists(st.sampled_from(declared.options), max_size=10)):
        flag = draw(st.sampled_from(opt.flags))
        if opt.kind == "flag":
            items.append([flag])
        elif opt.kind == "optional":
            bare = not flag.startswith("--") or draw(st.booleans())
            items.append([flag] if bare else [f"{flag}={draw(st.sampled_from(['5m', '', '9']))}"])
        else:
            value = draw(_valid_values(opt.kind, opt.choices))
            if flag.startswith("--") and draw(st.booleans()):
                items.append([f"{flag}={value}"])
            else:
                items.append([flag, value])
    for arg in declared.args:
        if arg.variadic:  # any number of inputs, anywhere
            for _ in range(draw(st.integers(0, 3))):
                name = draw(st.sampled_from(["a.yaml", "-", "k8s/", "", "a b", "é"]))
                items.insert(draw(st.integers(0, len(items))), [name])
        elif arg.required or draw(st.booleans()):
            name = draw(st.sampled_from(["bookinfo", "productpage", "a-b.c"]))
            items.insert(draw(st.integers(0, len(items))), [name])
    return [*declared.words, *(token for item in items for token in item)]


@settings(max_examples=500, deadline=None)
@given(argv=_well_formed())
def test_well_formed_command_lines_parse_as_click_does(argv: list[str]) -> None:
    parsed = parse(argv)
    assert parsed is not None, argv
    assert parsed == (find_command(argv), click_params(argv))
