"""Report: one line per resource for people, or JSON for scripts.

Every workload the run looked at has a :class:`~meshctl.manifests.results.Result` with a stable
reason code (:mod:`meshctl.outcomes`). Documents that are not workloads pass through and are not
reported. The CLI prints the report on stderr after the output, so it never mixes with the
manifests on stdout.
"""

from __future__ import annotations

import json

from meshctl.manifests.results import Result
from meshctl.outcomes import Action, self_evident

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from collections.abc import Iterable, Sequence

#: what the report says of a change that ``--check``/``--diff`` did not make
_WOULD = {Action.INJECTED: "would inject", Action.UNINJECTED: "would uninject"}


def result_line(r: Result, dry_run: bool = False) -> str:
    action = _WOULD.get(r.action, r.action) if dry_run else str(r.action)
    if self_evident(r.action, r.reason):
        return f"{r.ref}: {action}"
    return f"{r.ref}: {action} ({r.reason})"


def report_lines(results: Sequence[Result], warnings: Iterable[str] = (),
                 dry_run: bool = False) -> list[tuple[str, str]]:
    """``(kind, line)`` of every line of the text report; kind is ``warning`` or the action
    (what a terminal colours)."""
    lines = [("warning", f"warning: {w}") for w in warnings]
    for r in results:
        lines.extend(("warning", f"warning: {r.ref}: {w}") for w in r.warnings)
    lines.extend((str(r.action), result_line(r, dry_run)) for r in results)
    return lines


def render_text(results: Sequence[Result], warnings: Iterable[str] = (),
                dry_run: bool = False) -> str:
    lines = [line for _kind, line in report_lines(results, warnings, dry_run)]
    return "\n".join(lines) + ("\n" if lines else "")


def render_json(results: Sequence[Result], warnings: Iterable[str] = (),
                dry_run: bool = False) -> str:
    payload = {
        "dry_run": dry_run,
        "warnings": list(warnings),
        "resources": [
            {
                "kind": r.kind,
                "namespace": r.namespace,
                "name": r.name,
                "action": str(r.action),
                "reason": str(r.reason),
                "source": r.source,
                "document": r.document,
                "warnings": list(r.warnings),
                "message": r.reason.sentence,
            }
            for r in results
        ],
    }
    return json.dumps(payload, indent=2) + "\n"
