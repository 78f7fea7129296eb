"""Generate docs/cli.md from the real ``--help`` of every command.

Run ``python docs/gen_cli_reference.py`` after changing a command; tests/test_docs.py fails
when docs/cli.md differs from what this prints (sqlite-utils keeps its docs honest the same way).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.testing import CliRunner

from meshctl.cli.app import cli

HEADER = """\
# CLI reference

Generated from `meshctl ... --help` by `docs/gen_cli_reference.py`; do not edit by hand
(CI fails when this file and the real help text differ).
"""


def generate() -> str:
    runner = CliRunner()
    parts = [HEADER]
    commands: list[tuple[str, list[str]]] = [("meshctl", [])]
    assert isinstance(cli, click.Group)

    def walk(group: click.Group, words: list[str]) -> None:
        for name, command in sorted(group.commands.items()):
            commands.append((" ".join(["meshctl", *words, name]), [*words, name]))
            if isinstance(command, click.Group):
                walk(command, [*words, name])

    walk(cli, [])
    for title, args in commands:
        res = runner.invoke(cli, [*args, "--help"], terminal_width=100, prog_name="meshctl")
        if res.exit_code != 0:
            raise SystemExit(f"{title} --help failed: {res.output}")
        parts.append(f"\n## {title}\n\n```text\n{res.output.rstrip()}\n```\n")
    return "".join(parts)


if __name__ == "__main__":
    out = Path(__file__).with_name("cli.md")
    text = generate()
    if "--check" in sys.argv:
        sys.exit(0 if out.read_text() == text else 1)
    out.write_text(text)
