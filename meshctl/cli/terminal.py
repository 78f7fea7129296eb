"""What a person reads on a terminal: colours, a progress bar, a spinner (rich).

Only for a terminal, and only then is rich imported (~40 ms): a run in a pipe, a CI log or a
file prints plain text, byte-identical to what it always printed. ``--color always`` forces
colours (and rich) on any stream; ``--color never`` or the ``NO_COLOR`` variable
(https://no-color.org) turn them off; ``TERM=dumb`` is not a colour terminal.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, TextIO

#: style of a report line, by its kind (the action, or ``warning``)
STYLES = {"injected": "green", "uninjected": "green", "skipped": "yellow",
          "unchanged": "dim", "warning": "magenta"}
#: a run shorter than this shows no progress bar
PROGRESS_AFTER = 1.0


def use_color(stream: TextIO | None, choice: str = "auto") -> bool:
    """Whether to colour ``stream``: ``choice`` is ``auto``, ``always`` or ``never``."""
    if choice == "always":
        return True
    if choice == "never" or stream is None or "NO_COLOR" in os.environ:
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _console(stream: TextIO, force: bool) -> Any:
    from rich.console import Console

    return Console(file=stream, force_terminal=force or None, highlight=False,
                   soft_wrap=True, no_color=False)


def print_report(lines: list[tuple[str, str]], stream: TextIO, force: bool = False) -> None:
    """The report's lines, coloured by kind."""
    from rich.text import Text

    console = _console(stream, force)
    for kind, line in lines:
        console.print(Text(line, style=STYLES.get(kind, "")))


def print_diff(diff: str, stream: TextIO, force: bool = False) -> None:
    """A unified diff, coloured as ``git diff`` colours it."""
    from rich.text import Text

    console = _console(stream, force)
    for line in diff.splitlines():
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        console.print(Text(line, style=style))


class ProgressBar:
    """``progress(done, total)`` for the pipeline: nothing for a second, then a transient bar on
    ``stream`` (a terminal) until :meth:`close`."""

    def __init__(self, stream: TextIO, what: str) -> None:
        self.stream = stream
        self.what = what
        self.start = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.start < PROGRESS_AFTER:
                return
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(TextColumn(self.what), BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), console=_console(self.stream, False),
                                transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.what, total=total)
        self.bar.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
