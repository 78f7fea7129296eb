"""The click application: every command, its flags and help text.

Nothing here knows about YAML or Istio; heavy modules are imported inside the commands. The
``meshctl`` script starts in :mod:`meshctl.cli.main`, which answers ``version`` and cached
``--help`` without importing this module (or click) at all.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import click

from meshctl import __version__
from meshctl.cli.main import VERSION_MESSAGE, version_text
from meshctl.errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_WOULD_CHANGE

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}



def fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    # errors are ONE line, whatever a library put in its message
    message = " ".join(part.strip() for part in message.splitlines() if part.strip())
    click.echo(f"meshctl: error: {message}", err=True)
    sys.exit(code)


@click.group(
    context_settings=CONTEXT_SETTINGS,
    epilog="""\b
Examples:
  meshctl kube-inject -f app.yaml | kubectl apply -f -
  meshctl kube-inject -f k8s/ -R --check        # CI: exit 1 if anything is not injected
  meshctl kube-inject -f app.yaml --diff        # review what injection changes
  meshctl kube-uninject -f injected.yaml        # remove the sidecar again
  meshctl version
""",
)
@click.version_option(__version__, "--version", prog_name="meshctl", message=VERSION_MESSAGE)
def cli() -> None:
    """meshctl injects a service-mesh sidecar into Kubernetes manifests.

    It does what `istioctl kube-inject` does, keeps your comments, key order and quoting, and
    changes only the lines injection must change. It works offline on a built-in profile, or
    renders your own Istio injector config exactly as Istio does.
    """


def _common_input_options(fn: Any) -> Any:
    decorators = [
        click.option(
            "-f", "--filename", "filenames", multiple=True, metavar="FILE|DIR|URL|-",
            help="Input manifest: a file, a directory, an http(s) URL, or - for stdin. Repeatable.",
        ),
        click.option(
            "-R", "--recursive", is_flag=True,
            help="Descend into directories named by -f (*.yaml, *.yml, *.json).",
        ),
        click.option(
            "-o", "--output", metavar="FILE",
            help="Write the result to FILE (atomically; may name an input) instead of stdout.",
        ),
        click.option(
            "-i", "--in-place", is_flag=True,
            help="Rewrite each input file that changes, atomically. Inputs must be files.",
        ),
        click.option(
            "--check", is_flag=True,
            help="Write nothing; exit 1 if any document would change (for CI).",
        ),
        click.option("--diff", is_flag=True, help="Print a unified diff of what would change."),
        click.option(
            "--output-format", type=click.Choice(["yaml", "patch"]), default="yaml",
            show_default=True,
            help="yaml: the manifests; patch: the RFC 6902 JSON Patch of each changed document.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="Do not print the per-resource report."),
        click.option(
            "-j", "--jobs", type=click.IntRange(min=0), default=0, show_default=True,
            help="Worker processes for big inputs; 0 decides from the input size and CPUs.",
        ),
        click.option(
            "--report", "report_format", type=click.Choice(["text", "json"]), default="text",
            show_default=True, help="Format of the report printed on stderr after the output.",
        ),
    ]
    for deco in reversed(decorators):
        fn = deco(fn)
    return fn


def _profile_options(fn: Any) -> Any:
    decorators = [
        click.option(
            "--injectConfigFile", "inject_config_file", metavar="FILE",
            help="Istio injector config (ConfigMap istio-sidecar-injector, its data.config, or a "
            "bare template).",
        ),
        click.option(
            "--valuesFile", "values_file", metavar="FILE",
            help="Injector values (JSON or YAML, or the ConfigMap holding data.values).",
        ),
        click.option(
            "--meshConfigFile", "mesh_config_file", metavar="FILE",
            help="Mesh config (ConfigMap istio's data.mesh, or the mesh YAML itself).",
        ),
        click.option(
            "--operatorFileName", "operator_file", metavar="FILE",
            help="IstioOperator whose spec.values and spec.meshConfig override the files.",
        ),
        click.option("-r", "--revision", default="", help="Istio control-plane revision."),
        click.option("--hub", help="Image hub of the proxy images (overrides values)."),
        click.option("--tag", help="Image tag of the proxy images (overrides values)."),
        click.option("--proxy-image", help="Full proxy image (overrides hub and tag)."),
        click.option("--proxy-init-image", help="Full proxy-init image (overrides hub and tag)."),
        click.option(
            "--native-sidecars", type=click.Choice(["auto", "true", "false"]), default="auto",
            show_default=True,
            help="Inject istio-proxy as a native sidecar (an init container with "
            "restartPolicy: Always). Offline, auto means false, as istioctl.",
        ),
        click.option(
            "--compliance-policy", default="", metavar="POLICY",
            help="Istio COMPLIANCE_POLICY, e.g. fips-140-3.",
        ),
        click.option(
            "--reinject", type=click.Choice(["auto", "strip", "merge"]), default="auto",
            show_default=True,
            help="Already-injected workloads: strip = remove the previous injection, then inject "
            "(upgrades leave nothing stale); merge = Istio's kube-inject behaviour. auto: merge "
            "with --injectConfigFile, strip otherwise.",
        ),
    ]
    for deco in reversed(decorators):
        fn = deco(fn)
    return fn


def _run(operation: str, **kw: Any) -> None:
    from meshctl.errors import MeshctlError
    from meshctl.options import Mode, Operation, Options

    modes = [m for m, on in ((Mode.IN_PLACE, kw["in_place"]), (Mode.CHECK, kw["check"]),
                              (Mode.DIFF, kw["diff"])) if on]
    if kw["output_format"] == "patch":
        modes.append(Mode.PATCH)
    if len(modes) > 1:
        raise click.UsageError(
            "choose one of --in-place, --check, --diff, --output-format patch"
        )
    mode = modes[0] if modes else Mode.WRITE
    if kw["output"] and mode is not Mode.WRITE and mode is not Mode.PATCH:
        raise click.UsageError(f"-o/--output does not go with --{mode.value}")
    if not kw["filenames"]:
        raise click.UsageError("filename not specified (see --filename or -f)")
    if mode is Mode.IN_PLACE and any(
        f == "-" or f.startswith(("http://", "https://")) for f in kw["filenames"]
    ):
        raise click.UsageError("--in-place needs files, not stdin or URLs")

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


@cli.command(
    "kube-inject",
    context_settings=CONTEXT_SETTINGS,
    epilog="""\b
Examples:
  # inject the bundled BookInfo example with the built-in profile
  meshctl kube-inject -f examples/bookinfo/bookinfo.yaml
  # pipe into kubectl
  meshctl kube-inject -f app.yaml | kubectl apply -f -
  # render your cluster's own Istio config, exactly as istioctl would
  kubectl -n istio-system get cm istio-sidecar-injector -o yaml > inject.yaml
  kubectl -n istio-system get cm istio -o yaml > mesh.yaml
  meshctl kube-inject -f app.yaml --injectConfigFile inject.yaml \\
      --valuesFile inject.yaml --meshConfigFile mesh.yaml
  # CI: fail when a manifest is not injected, review the change, fix in place
  meshctl kube-inject -f k8s/ -R --check
  meshctl kube-inject -f k8s/ -R --diff
  meshctl kube-inject -f k8s/ -R --in-place
""",
)
@_common_input_options
@_profile_options
def kube_inject(**kw: Any) -> None:
    """Inject the Istio sidecar into the workloads of Kubernetes manifests.

    Pods, Deployments, ReplicaSets, ReplicationControllers, StatefulSets, DaemonSets, Jobs,
    CronJobs, OpenShift DeploymentConfigs and Argo Rollouts are injected; every other document
    passes through byte-identical. Injected documents keep every original line, comment, key
    order and quoting; re-running on the output changes nothing.

    The report (one line per workload, with a reason code) goes to stderr after the output.
    Exit codes: 0 ok, 1 --check found changes, 2 usage error, 3 input/config error,
    4 internal error.
    """
    _run("inject", **kw)


@cli.command(
    "kube-uninject",
    context_settings=CONTEXT_SETTINGS,
    epilog="""\b
Examples:
  meshctl kube-uninject -f injected.yaml > app.yaml
  meshctl kube-inject -f app.yaml | meshctl kube-uninject -f -
""",
)
@_common_input_options
def kube_uninject(**kw: Any) -> None:
    """Remove an injected sidecar (reverses kube-inject, driven by sidecar.istio.io/status)."""
    _run("uninject", **kw)


@cli.command("version", context_settings=CONTEXT_SETTINGS)
@click.option("-s", "--short", is_flag=True, help="Print the version number only.")
def version(short: bool) -> None:
    """Print meshctl's version and the Istio release of the built-in profile.

    \b
    Examples:
      meshctl version
      meshctl version --short
    """
    click.echo(version_text(short), nl=False)
