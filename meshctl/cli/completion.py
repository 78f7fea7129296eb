"""``meshctl completion SHELL``: the shell's completion script (click's, for the ``meshctl``
program). Registered in :mod:`meshctl.cli.app` with one line."""

from __future__ import annotations

import click

#: the shells whose script is tested (tests/cli/test_completion.py)
SHELLS = ("bash", "zsh", "fish")
PROG_NAME = "meshctl"
#: the variable click's scripts set when they ask ``meshctl`` for completions
COMPLETE_VAR = "_MESHCTL_COMPLETE"


@click.command(
    "completion",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""\b
Examples:
  # bash (~/.bashrc)
  eval "$(meshctl completion bash)"
  # zsh (~/.zshrc, after compinit)
  eval "$(meshctl completion zsh)"
  # fish
  meshctl completion fish > ~/.config/fish/completions/meshctl.fish
""",
)
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for meshctl (commands, options, choices, file names).

    Each completion runs meshctl itself, which answers from its command declarations.
    """
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    assert cls is not None  # every choice is one of click's shells
    root = ctx.find_root().command
    click.echo(cls(root, {}, PROG_NAME, COMPLETE_VAR).source(), nl=False)
