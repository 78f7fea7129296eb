"""Running a manifest command (``kube-inject``, ``kube-uninject``) once its command line is parsed.

:func:`run_inject` and :func:`run_uninject` are the runners :mod:`meshctl.cli.spec` names:
:mod:`meshctl.cli.main` calls them for command lines it parses without click, the click
application for the others. Either way the flags become one :class:`~meshctl.options.Options`
(:func:`options_from`), the use case in :mod:`meshctl.commands` returns data, and this module
prints it: the manifests (or files) only when the whole run succeeded, then the report on
stderr. Errors are one line (:func:`fail`); the exit code comes from :mod:`meshctl.errors`.
"""

from __future__ import annotations

import sys

from meshctl.cli.output import fail
from meshctl.cli.spec import COMMANDS
from meshctl.cli.terminal import use_color
from meshctl.errors import (
    EXIT_OK,
    EXIT_WOULD_CHANGE,
    MeshctlError,
    UsageError,
)
from meshctl.gotemplate.environ import is_variable_name
from meshctl.manifests.read import NO_INPUT
from meshctl.options import Mode, Operation, Options

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any

    from meshctl.manifests.results import RunResult


def options_from(operation: str, kw: dict[str, Any]) -> Options:
    """The options of a parsed command line; UsageError when they do not go together."""
    modes = [m for m, on in ((Mode.IN_PLACE, kw["in_place"]), (Mode.CHECK, kw["check"]),
                             (Mode.DIFF, kw["diff"])) if on]  # fmt: skip
    if len(modes) > 1:
        raise UsageError("choose one of --in-place, --check, --diff")
    mode = modes[0] if modes else Mode.WRITE
    output_format = kw["output_format"]
    if output_format != "yaml" and mode is not Mode.WRITE:
        raise UsageError(f"--output-format {output_format} does not go with --{mode.value}")
    if kw["output"] and mode is not Mode.WRITE:
        raise UsageError(f"-o/--output does not go with --{mode.value}")
    filenames = (*kw["filenames"], *kw.get("files", ()))  # -f inputs, then positional ones
    if not filenames:
        raise UsageError(NO_INPUT)
    template_env = tuple(kw.get("template_env") or ())
    for name in template_env:
        if not is_variable_name(name):
            raise UsageError(f"--template-env: {name!r} is not an environment variable name")
    if mode is Mode.IN_PLACE and any(
        f == "-" or f.startswith(("http://", "https://")) for f in filenames
    ):
        raise UsageError("--in-place needs files, not stdin or URLs")
    if not kw.get("from_cluster"):
        for opt in ("inject_configmap_name", "mesh_configmap_name", "kubeconfig", "context",
                    "request_timeout"):
            if kw.get(opt):
                flag = next(o.flags[-1] for o in COMMANDS["kube-inject"].options if o.dest == opt)
                raise UsageError(f"{flag} reads the cluster: it goes with --from-cluster")
    return Options(
        filenames=filenames,
        recursive=kw["recursive"],
        only_manifests=bool(kw.get("only_manifests")),
        output=kw["output"],
        mode=mode,
        output_format=output_format,
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
        color=kw.get("color") or "auto",
        from_cluster=bool(kw.get("from_cluster")),
        istio_namespace=kw.get("istio_namespace") or "istio-system",
        inject_configmap_name=kw.get("inject_configmap_name"),
        mesh_configmap_name=kw.get("mesh_configmap_name"),
        kubectl=kw.get("kubectl") or "kubectl",
        kubeconfig=kw.get("kubeconfig"),
        context=kw.get("context"),
        request_timeout=kw.get("request_timeout"),
        template_env=template_env,
    )


def run_inject(kw: dict[str, Any]) -> int:
    """``meshctl kube-inject``: the exit code."""
    return _run("inject", kw)


def run_uninject(kw: dict[str, Any]) -> int:
    """``meshctl kube-uninject``: the exit code."""
    return _run("uninject", kw)


def _run(operation: str, kw: dict[str, Any]) -> int:
    try:
        opts = options_from(operation, kw)
    except UsageError as exc:
        return fail(exc.message, exc.exit_code)
    return execute(opts)


def execute(opts: Options) -> int:
    """Run the command, print its output and report; the exit code."""
    try:
        if opts.operation is Operation.INJECT:
            from meshctl.commands.inject import run
        else:
            from meshctl.commands.uninject import run
        from meshctl.manifests.emit import emit

        bar = None
        if opts.color != "never" and use_color(sys.stderr):
            from meshctl.cli.terminal import ProgressBar

            verb = "injecting" if opts.operation is Operation.INJECT else "uninjecting"
            bar = ProgressBar(sys.stderr, verb)
        try:
            result = run(opts, stdin=sys.stdin.buffer.read, progress=bar)
        finally:
            if bar is not None:
                bar.close()
        stdout_text, files = emit(result, opts)
    except MeshctlError as exc:
        return fail(str(exc), exc.exit_code)

    # Everything succeeded: now, and only now, write.
    try:
        from meshctl.manifests.emit import write_files

        write_warnings = write_files(files, in_place=opts.mode is Mode.IN_PLACE)
    except MeshctlError as exc:
        return fail(str(exc), exc.exit_code)
    if stdout_text:
        if opts.mode is Mode.DIFF and use_color(sys.stdout, opts.color):
            from meshctl.cli.terminal import print_diff

            sys.stdout.flush()
            print_diff(stdout_text, sys.stdout, force=opts.color == "always")
        else:
            sys.stdout.write(stdout_text)
        sys.stdout.flush()
    if not opts.quiet:
        _report(result.replace(warnings=(*result.warnings, *write_warnings))
                if write_warnings else result, opts)
    return exit_code(opts, result.changed)


def _report(result: RunResult, opts: Options) -> None:
    """The report on stderr, after the output: JSON, plain text, or coloured on a terminal."""
    from meshctl.manifests.report import render_json, render_text, report_lines

    if opts.report_format == "json":
        sys.stderr.write(render_json(result.results, result.warnings, dry_run=opts.dry_run))
    elif use_color(sys.stderr, opts.color):
        from meshctl.cli.terminal import print_report

        lines = report_lines(result.results, result.warnings, dry_run=opts.dry_run)
        print_report(lines, sys.stderr, force=opts.color == "always")
    else:
        sys.stderr.write(render_text(result.results, result.warnings, dry_run=opts.dry_run))


def exit_code(opts: Options, changed: bool) -> int:
    """A successful run's exit code (every code is listed in :mod:`meshctl.errors`):
    ``--check`` and ``--diff`` exit 1 when anything would change, like ``diff(1)`` and
    ``kubectl diff``."""
    return EXIT_WOULD_CHANGE if opts.dry_run and changed else EXIT_OK
