"""The click application: every command, its flags and help text.

Nothing here knows about YAML or Istio; heavy modules are imported inside the commands. The
``meshctl`` script starts in :mod:`meshctl.cli.main`, which answers ``version``, cached
``--help`` and the usual command lines without importing this module (or click) at all. The
options of the manifest commands are declared once, in :mod:`meshctl.cli.spec`; a new command
goes here (its use case in :mod:`meshctl.commands`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from meshctl import __version__
from meshctl.cli.run import execute, options_from
from meshctl.cli.spec import ARGUMENTS, COMMANDS, Arg, Opt
from meshctl.cli.version import VERSION_MESSAGE, version_text
from meshctl.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


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


def _click_option(opt: Opt) -> Any:
    """The click option declared by ``opt`` (meshctl.cli.spec)."""
    kwargs: dict[str, Any] = {"help": opt.help}
    if opt.metavar is not None:
        kwargs["metavar"] = opt.metavar
    if opt.kind == "flag":
        kwargs["is_flag"] = True
    elif opt.kind == "multiple":
        kwargs["multiple"] = True
    elif opt.kind == "choice":
        kwargs["type"] = click.Choice(list(opt.choices))
    elif opt.kind == "int":
        kwargs["type"] = click.IntRange(min=opt.minimum)
    if opt.path:
        kwargs["type"] = PATH
    if opt.default is not None:
        kwargs["default"] = opt.default
    if opt.show_default:
        kwargs["show_default"] = True
    return click.option(*opt.flags, opt.dest, **kwargs)


#: a file name, for shell completion only: never checked here (reading reports a problem with
#: its own exit code), and the value comes through as given, as the click-free parser takes it
PATH = click.Path(readable=False)


def _click_argument(arg: Arg) -> Any:
    """The click arguments declared by ``arg`` (meshctl.cli.spec)."""
    return click.argument(arg.dest, nargs=-1, metavar=arg.metavar,
                          type=PATH if arg.path else None)


def _options(opts: tuple[Opt, ...], arg: Arg | None = None) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        if arg is not None:
            fn = _click_argument(arg)(fn)
        for opt in reversed(opts):
            fn = _click_option(opt)(fn)
        return fn

    return decorate


def _run(operation: str, **kw: Any) -> None:
    try:
        opts = options_from(operation, kw)
    except UsageError as exc:
        raise click.UsageError(exc.message) from None
    sys.exit(execute(opts))


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
@_options(COMMANDS["kube-inject"][1], ARGUMENTS["kube-inject"])
def kube_inject(**kw: Any) -> None:
    """Inject the Istio sidecar into the workloads of Kubernetes manifests.

    Pods, Deployments, ReplicaSets, ReplicationControllers, StatefulSets, DaemonSets, Jobs,
    CronJobs, OpenShift DeploymentConfigs and Argo Rollouts are injected; every other document
    passes through byte-identical. Injected documents keep every original line, comment, key
    order and quoting; re-running on the output changes nothing.

    Inputs are named with -f or as arguments, after the options or between them
    (`meshctl kube-inject --check a.yaml b.yaml`, as pre-commit runs it).

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
@_options(COMMANDS["kube-uninject"][1], ARGUMENTS["kube-uninject"])
def kube_uninject(**kw: Any) -> None:
    """Remove an injected sidecar (reverses kube-inject, driven by sidecar.istio.io/status).

    Inputs are named with -f or as arguments, as for kube-inject.
    """
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


from meshctl.cli.completion import completion  # noqa: E402 - commands in their own modules
from meshctl.cli.fn import fn  # noqa: E402

cli.add_command(fn)
cli.add_command(completion)
