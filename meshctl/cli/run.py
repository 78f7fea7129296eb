"""What a ``kube-inject``/``kube-uninject`` command does once its command line is parsed.

Click-free: :mod:`meshctl.cli.main` calls :func:`run` directly for command lines that
:func:`meshctl.cli.spec.parse` parses, and :mod:`meshctl.cli.commands` calls it from click.
"""

from __future__ import annotations

import os
import sys

from meshctl.errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_WOULD_CHANGE

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, NoReturn


class UsageProblem(Exception):
    """Options that do not go together (click reports it as a usage error, exit 2)."""


def fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    """Report an error in ONE line, whatever a library put in its message, and exit."""
    message = " ".join(part.strip() for part in message.splitlines() if part.strip())
    sys.stdout.flush()
    sys.stderr.write(f"meshctl: error: {message}\n")
    sys.stderr.flush()
    sys.exit(code)


def run(operation: str, kw: dict[str, Any]) -> NoReturn:
    """Run ``operation`` with the parsed command line ``kw``; exits with the run's code.

    Raises :class:`UsageProblem` before doing anything when the options do not go together."""
    from meshctl.errors import MeshctlError
    from meshctl.options import Mode, Operation, Options

    modes = [m for m, on in ((Mode.IN_PLACE, kw["in_place"]), (Mode.CHECK, kw["check"]),
                              (Mode.DIFF, kw["diff"])) if on]
    if kw["output_format"] == "patch":
        modes.append(Mode.PATCH)
    if len(modes) > 1:
        raise UsageProblem("choose one of --in-place, --check, --diff, --output-format patch")
    mode = modes[0] if modes else Mode.WRITE
    if kw["output"] and mode is not Mode.WRITE and mode is not Mode.PATCH:
        raise UsageProblem(f"-o/--output does not go with --{mode.value}")
    if not kw["filenames"]:
        raise UsageProblem("filename not specified (see --filename or -f)")
    if mode is Mode.IN_PLACE and any(
        f == "-" or f.startswith(("http://", "https://")) for f in kw["filenames"]
    ):
        raise UsageProblem("--in-place needs files, not stdin or URLs")

    opts = Options(
        filenames=tuple(kw["filenames"]),
        recursive=kw["recursive"],
        output=kw["output"],
        mode=mode,
        operation=Operation(operation),
        inject_config_file=kw.get("inject_config_file"),
        values_file=kw.get("values_file"),
        mesh_config_file=kw.get("mesh_config_file"),
        operator_file=kw.get("operator_file"),
        hub=kw.get("hub"),
        tag=kw.get("tag"),
        revision=kw.get("revision") or "",
        native_sidecars=kw.get("native_sidecars") or "auto",
        proxy_image=kw.get("proxy_image"),
        proxy_init_image=kw.get("proxy_init_image"),
        compliance_policy=kw.get("compliance_policy") or "",
        jobs=kw["jobs"],
        reinject=kw.get("reinject") or "auto",
    )
    try:
        from meshctl import pipeline
        from meshctl.emit import emit

        result = pipeline.run(opts, stdin=sys.stdin.buffer.read)
        stdout_text, files = emit(result, opts)
    except MeshctlError as exc:
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except Exception as exc:  # a bug: one line, never a traceback (unless debugging)
        if os.environ.get("MESHCTL_DEBUG"):
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (set MESHCTL_DEBUG=1 for details)",
             EXIT_INTERNAL)

    # Everything succeeded: now, and only now, write.
    try:
        from meshctl.emit import write_files

        write_files(files)
    except OSError as exc:
        fail(f"{exc.filename}: {exc.strerror}")
    if stdout_text:
        sys.stdout.write(stdout_text)
        sys.stdout.flush()
    if not kw["quiet"]:
        from meshctl.report import render_json, render_text

        render = render_json if kw["report_format"] == "json" else render_text
        report = render(result.results, result.warnings)
        if report:
            sys.stdout.flush()
            sys.stderr.write(report)
    if mode is Mode.CHECK and result.changed:
        sys.exit(EXIT_WOULD_CHANGE)
    sys.exit(EXIT_OK)
