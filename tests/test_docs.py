"""Docs are tested: the CLI reference is generated from the real --help and must not drift."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click
from click.testing import CliRunner

from meshctl.cli.app import cli

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen", DOCS / "gen_cli_reference.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_reference_is_current() -> None:
    assert (DOCS / "cli.md").read_text() == _generator().generate(), (
        "docs/cli.md is stale: run python docs/gen_cli_reference.py"
    )


def _commands(group: click.Group, words: list[str]) -> list[list[str]]:
    out = []
    for name, command in sorted(group.commands.items()):
        out.append([*words, name])
        if isinstance(command, click.Group):
            out.extend(_commands(command, [*words, name]))
    return out


def test_every_command_has_help_examples_and_docs() -> None:
    runner = CliRunner()
    guide = "\n".join(p.read_text() for p in DOCS.glob("*.md"))
    for words in _commands(cli, []):
        res = runner.invoke(cli, [*words, "--help"])
        name = " ".join(words)
        assert res.exit_code == 0
        assert "Examples:" in res.output, f"{name} --help has no examples"
        assert f"meshctl {name}" in guide, f"docs/ never mentions meshctl {name}"


def test_the_exit_codes_table_is_the_one_in_meshctl_errors() -> None:
    from meshctl.errors import EXIT_CODES

    guide = (DOCS / "user-guide.md").read_text()
    table = "| code | meaning |\n|---|---|\n" + "".join(
        f"| {code} | {meaning} |\n" for code, meaning in EXIT_CODES)
    assert table in guide, "docs/user-guide.md's exit codes differ from meshctl.errors.EXIT_CODES"
    res = CliRunner().invoke(cli, ["kube-inject", "--help"], terminal_width=100)
    for code, meaning in EXIT_CODES:
        assert f"{code:<3}  {meaning}" in res.output


ROOT = DOCS.parent
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "SECURITY.md",
         *sorted(DOCS.rglob("*.md"))]


def test_links_and_source_paths_in_the_docs_exist() -> None:
    """Every relative link of a page, and every ``meshctl/...`` source path it names, exists
    (a moved module or page breaks this test, not the reader's trust)."""
    import re

    missing = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                missing.append(f"{page.relative_to(ROOT)}: link {target}")
        for path in re.findall(r"(?<![\w/.])(meshctl/[\w/.-]*\w)", text):
            if not (ROOT / path).exists():
                missing.append(f"{page.relative_to(ROOT)}: path {path}")
    assert not missing, "\n".join(missing)
