"""Running a manifest command (``kube-inject``, ``kube-uninject``) once its command line is parsed.

Shared by the two ways in: :mod:`meshctl.cli.main` calls :func:`run_parsed` for command lines
that :func:`meshctl.cli.spec.parse` parses (no click), :mod:`meshctl.cli.app` calls
:func:`execute` from click. Either way the flags become one :class:`~meshctl.options.Options`
(:func:`options_from`), the use case in :mod:`meshctl.commands` returns data, and this module
prints it: the manifests (or files) only when the whole run succeeded, then the report on
stderr. Errors are one line; the exit code comes from :mod:`meshctl.errors`.
"""

from __future__ import annotations

import os
import sys

from meshctl.errors import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_WOULD_CHANGE,
    MeshctlError,
    UsageError,
)
from meshctl.manifests.read import NO_INPUT
from meshctl.options import Mode, Operation, Options

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any


def fail(message: str, code: int) -> int:
    """Report an error in ONE line, whatever a library put in its message; the exit code."""
    message = " ".join(part.strip() for part in message.splitlines() if part.strip())
    sys.stdout.flush()
    sys.stderr.write(f"meshctl: error: {message}\n")
    sys.stderr.flush()
    return code


def options_from(operation: str, kw: dict[str, Any]) -> Options:
    """The options of a parsed command line; UsageError when they do not go together."""
    modes = [m for m, on in ((Mode.IN_PLACE, kw["in_place"]), (Mode.CHECK, kw["check"]),
                             (Mode.DIFF, kw["diff"])) if on]  # fmt: skip
    if kw["output_format"] == "patch":
        modes.append(Mode.PATCH)
    if len(modes) > 1:
        raise UsageError("choose one of --in-place, --check, --diff, --output-format patch")
    mode = modes[0] if modes else Mode.WRITE
    if kw["output"] and mode is not Mode.WRITE and mode is not Mode.PATCH:
        raise UsageError(f"-o/--output does not go with --{mode.value}")
    if not kw["filenames"]:
        raise UsageError(NO_INPUT)
    template_env = tuple(kw.get("template_env") or ())
    for name in template_env:
        if not (name.isascii() and name.isidentifier()):
            raise UsageError(f"--template-env: {name!r} is not an environment variable name")
    if mode is Mode.IN_PLACE and any(
        f == "-" or f.startswith(("http://", "https://")) for f in kw["filenames"]
    ):
        raise UsageError("--in-place needs files, not stdin or URLs")
    return Options(
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
        quiet=kw["quiet"],
        report_format=kw["report_format"],
        template_env=template_env,
    )


def run_parsed(operation: str, kw: dict[str, Any]) -> int | None:
    """Run a command line parsed without click; its exit code, or None when its options do not
    go together (click then reports the usage error in its own words)."""
    try:
        opts = options_from(operation, kw)
    except UsageError:
        return None
    return execute(opts)


def execute(opts: Options) -> int:
    """Run the command, print its output and report; the exit code."""
    try:
        if opts.operation is Operation.INJECT:
            from meshctl.commands.inject import run
        else:
            from meshctl.commands.uninject import run
        from meshctl.manifests.emit import emit

        result = run(opts, stdin=sys.stdin.buffer.read)
        stdout_text, files = emit(result, opts)
    except MeshctlError as exc:
        return fail(str(exc), exc.exit_code)
    except Exception as exc:  # a bug: one line, never a traceback (unless debugging)
        if os.environ.get("MESHCTL_DEBUG"):
            raise
        return fail(f"internal error: {type(exc).__name__}: {exc} "
                    "(set MESHCTL_DEBUG=1 for details)", EXIT_INTERNAL)

    # Everything succeeded: now, and only now, write.
    try:
        from meshctl.manifests.emit import write_files

        write_files(files)
    except OSError as exc:
        return fail(f"{exc.filename}: {exc.strerror}", MeshctlError.exit_code)
    if stdout_text:
        sys.stdout.write(stdout_text)
        sys.stdout.flush()
    if not opts.quiet:
        from meshctl.manifests.report import render_json, render_text

        render = render_json if opts.report_format == "json" else render_text
        report = render(result.results, result.warnings)
        if report:
            sys.stderr.write(report)
    if opts.mode is Mode.CHECK and result.changed:
        return EXIT_WOULD_CHANGE
    return EXIT_OK
