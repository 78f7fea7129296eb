"""The house plan, checked: imports point down the layers, no cycles, the core never prints.

Layers, top to bottom (a module may import its own package and anything below it):

    cli            every executable: argv in, exit code out (``meshctl fn`` runs integrations)
    integrations   other tools' protocols (KRM ResourceList, kustomize's exec plugin)
    commands
    sidecar, gateways, kube
    manifests, gotemplate
    yamltext
    base: errors, options, records, cache, outcomes (import no other meshctl module but records)

Imports are read from the source (every ``import`` statement, also the ones inside functions),
so a cycle hidden behind a function-level import fails here too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "meshctl"

#: layer of each top-level unit (a subpackage or a base module); higher may import lower
LAYERS: dict[str, int] = {
    "records": 0, "errors": 0, "cache": 0, "outcomes": 1, "options": 1,
    "yamltext": 2,
    "manifests": 3, "gotemplate": 3,
    "sidecar": 4, "gateways": 4, "kube": 4,
    "commands": 5,
    "integrations": 6,
    "cli": 7,
}  # fmt: skip
#: units that print or exit, and the only ones that may import click (integrations are adapters
#: that return data: the executables that speak their protocols are in cli)
FRONT = {"cli"}
#: the forked worker processes of a parallel run end themselves (never the run)
ALLOWED = {"meshctl.commands.parallel": {("os", "_exit")}}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """meshctl modules imported by ``path`` (resolved to module names that exist)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("meshctl"):
                while name not in MODULES and "." in name:
                    name = name.rsplit(".", 1)[0]
                if name in MODULES and name != "meshctl":
                    found.add(name)
    return found


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def _unit(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_unit_has_a_layer() -> None:
    units = {_unit(m) for m in MODULES} - {None, "__main__"}
    assert units <= set(LAYERS), f"put {units - set(LAYERS)} into a layer"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down(module: str) -> None:
    unit = _unit(module)
    if unit in (None, "__main__"):
        return
    for target in GRAPH[module]:
        other = _unit(target)
        if other in (None, unit):
            continue
        assert LAYERS[other] < LAYERS[unit], f"{module} imports {target}: not a lower layer"


def test_no_import_cycles() -> None:
    """Between modules, whatever the layers say (a package's modules may depend on each other,
    but not in a circle)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH.get(node, ())):
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue  # a package and its own modules
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _unit(m) not in FRONT))
def test_the_core_never_prints_exits_or_imports_click(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("print", "exit"), f"{module}: {node.func.id}()"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            pair = (node.value.id, node.attr)
            forbidden = {("sys", "exit"), ("sys", "stdout"), ("sys", "stderr"), ("os", "_exit")}
            assert pair in ALLOWED.get(module, ()) or pair not in forbidden, \
                f"{module}: {'.'.join(pair)}"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""]
            assert not any(n == "click" or n.startswith("click.") for n in names), \
                f"{module} imports click"
