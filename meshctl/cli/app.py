"""The click application: every command, its help text, built from the declarations.

Nothing here knows about YAML or Istio. The ``meshctl`` script starts in
:mod:`meshctl.cli.main`, which answers ``version``, cached ``--help`` and the usual command lines
without importing this module (or click) at all. The options and arguments of every command are
declared once, in :mod:`meshctl.cli.spec`, and the command's runner (which prints and returns
the exit code) is named there too; this module adds help texts and examples. A new command:
its declaration in spec.py, its runner in ``meshctl/cli/<name>.py``, its help here.

Usage errors are one line, like every other error (``meshctl: error: ... (see 'meshctl CMD
--help')``), exit code 2; click's own multi-line usage report is not used.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from meshctl import __version__
from meshctl.cli.spec import COMMANDS, Command, Opt, gnu_optional
from meshctl.cli.version import VERSION_MESSAGE, version_text
from meshctl.errors import EXIT_CODES, EXIT_USAGE

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Group(click.Group):
    """A group whose errors are one line (see the module docstring)."""

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except click.ClickException as exc:
            code = usage_error(exc)
        except click.Abort:  # EOF at a prompt (meshctl has none) or an interrupt
            sys.stderr.write("meshctl: error: aborted\n")
            code = 1
        if standalone_mode:
            sys.exit(code)
        return code


def usage_error(exc: click.ClickException) -> int:
    """Report a click error in one line; its exit code."""
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    sys.stdout.flush()
    sys.stderr.write(f"meshctl: error: {message}\n")
    return exc.exit_code if exc.exit_code else EXIT_USAGE


@click.group(
    cls=_Group,
    context_settings=CONTEXT_SETTINGS,
    epilog="""\b
Examples:
  meshctl kube-inject -f app.yaml | kubectl apply -f -
  meshctl kube-inject -f k8s/ -R --check        # CI: exit 1 if anything is not injected
  meshctl kube-inject -f app.yaml --diff        # review what injection changes
  meshctl kube-uninject -f injected.yaml        # remove the sidecar again
  meshctl create ingress bookinfo --service productpage:9080 --path /productpage
  meshctl url --ingress --path /productpage     # the app's address
  meshctl url grafana --port-forward            # a dashboard
  meshctl version
""",
)
@click.version_option(__version__, "--version", prog_name="meshctl", message=VERSION_MESSAGE)
def cli() -> None:
    """meshctl takes you through the service mesh: inject the sidecar, open the mesh's front
    door, find the URLs.

    kube-inject does what `istioctl kube-inject` does, keeps your comments, key order and
    quoting, and changes only the lines injection must change. It works offline on a built-in
    profile, or renders your own Istio injector config (files or the cluster's) exactly as
    Istio does.
    """


#: a file name, for shell completion only: never checked here (reading reports a problem with
#: its own exit code), and the value comes through as given, as the click-free parser takes it
PATH = click.Path(readable=False)


def _click_option(opt: Opt) -> click.Option:
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
    return click.Option([*opt.flags, opt.dest], **kwargs)


class _Command(click.Command):
    """A command of the declarations; GNU optional values (``--wait[=DURATION]``) never take
    the next word (:func:`meshctl.cli.spec.gnu_optional`)."""

    def __init__(self, declared: Command, **kwargs: Any) -> None:
        self.declared = declared
        params: list[click.Parameter] = [
            click.Argument([a.dest], metavar=a.metavar, required=a.required,
                           nargs=-1 if a.variadic else 1, type=PATH if a.path else None)
            for a in declared.args
        ]
        params.extend(_click_option(opt) for opt in declared.options)
        super().__init__(name=declared.words[-1], params=params, callback=self._run,
                         context_settings=CONTEXT_SETTINGS, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, gnu_optional(args, self.declared.options))

    def _run(self, **kw: Any) -> None:
        module, function = self.declared.runner.split(":")
        sys.exit(getattr(importlib.import_module(module), function)(kw))


#: the exit codes, for the commands' help (the table is in meshctl.errors)
EXIT_CODES_TEXT = "\b\nExit codes:\n" + "".join(
    f"  {code:<3}  {meaning}\n" for code, meaning in EXIT_CODES) + "\n"


def _command(words: str, help: str, epilog: str) -> _Command:  # noqa: A002
    return _Command(COMMANDS[words], help=help, epilog=epilog)


cli.add_command(_command("kube-inject", help="""\
Inject the Istio sidecar into the workloads of Kubernetes manifests.

Pods, Deployments, ReplicaSets, ReplicationControllers, StatefulSets, DaemonSets, Jobs,
CronJobs, OpenShift DeploymentConfigs and Argo Rollouts are injected; every other document
passes through byte-identical. Injected documents keep every original line, comment, key
order and quoting; re-running on the output changes nothing.

Inputs are named with -f or as arguments, after the options or between them
(`meshctl kube-inject --check a.yaml b.yaml`, as pre-commit runs it).

The report (one line per workload, with a reason code) goes to stderr after the output.
""", epilog=EXIT_CODES_TEXT + """\b
Examples:
  # inject the bundled BookInfo example with the built-in profile
  meshctl kube-inject -f examples/bookinfo/bookinfo.yaml
  # pipe into kubectl
  meshctl kube-inject -f app.yaml | kubectl apply -f -
  # render your cluster's own Istio config, exactly as istioctl would
  meshctl kube-inject -f app.yaml --from-cluster
  # ... or the same config exported to files
  kubectl -n istio-system get cm istio-sidecar-injector -o yaml > inject.yaml
  kubectl -n istio-system get cm istio -o yaml > mesh.yaml
  meshctl kube-inject -f app.yaml --injectConfigFile inject.yaml \\
      --valuesFile inject.yaml --meshConfigFile mesh.yaml
  # CI: fail when a manifest is not injected, review the change, fix in place
  meshctl kube-inject -f k8s/ -R --check
  meshctl kube-inject -f k8s/ -R --diff
  meshctl kube-inject -f k8s/ -R --in-place
"""))

cli.add_command(_command("kube-uninject", help="""\
Remove an injected sidecar (reverses kube-inject, driven by sidecar.istio.io/status).

Inputs are named with -f or as arguments, as for kube-inject.
""", epilog=EXIT_CODES_TEXT + """\b
Examples:
  meshctl kube-uninject -f injected.yaml > app.yaml
  meshctl kube-inject -f app.yaml | meshctl kube-uninject -f -
"""))

cli.add_command(_command("url", help="""\
Print the URL that reaches SERVICE from outside the cluster.

SERVICE is a Service (LoadBalancer: its address; NodePort: the node of a Ready pod and the
node port; ClusterIP: use --port-forward), or one of Istio's addons: grafana, prometheus,
tracing, jaeger, zipkin, kiali. --ingress finds the mesh's ingress gateway, --gateway NAME a
Gateway API Gateway. Ports are chosen by name or number, never by position; a note on stderr
says which was chosen when there was a choice.

The cluster is read through kubectl (--kubectl, --kubeconfig, --context), or from objects saved
with `kubectl get svc,pods,nodes -A -o json` (--from-file). A ClusterIP service without
--port-forward is a usage error (exit code 2).
""", epilog=EXIT_CODES_TEXT + """\b
Examples:
  meshctl url --ingress --path /productpage     # http://203.0.113.10/productpage
  eval "$(meshctl url --ingress --format env)"  # INGRESS_HOST, INGRESS_PORT, GATEWAY_URL
  meshctl url productpage -n bookinfo --port http
  meshctl url --ingress --wait=5m               # wait for the load balancer's address
  meshctl url grafana --port-forward --open     # today's addons are ClusterIP services
  meshctl url --gateway bookinfo-gateway -n bookinfo
"""))


@cli.group("create", context_settings=CONTEXT_SETTINGS, epilog="""\b
Examples:
  meshctl create ingress bookinfo --service productpage:9080 --path /productpage
  meshctl create ingress --help
""")
def create() -> None:
    """Create manifests for the mesh (printed on stdout, for `kubectl apply -f -`)."""


create.add_command(_command("create ingress", help="""\
Print the mesh's front door for NAME: an Ingress of class istio (kubectl create ingress's
object and grammar), the 2017 extensions/v1beta1 Ingress, an Istio Gateway + VirtualService,
or a Gateway API Gateway + HTTPRoute (--style).

Routes in kubectl's grammar: --rule host/path=service:port[,tls[=secret]] (a path ending in *
is a prefix, else exact; a port that is not a number is a port name), --default-backend.
Or the walkthrough's form: --service SVC:PORT with --path, --host, --path-type, --tls-secret.
""", epilog="""\b
Examples:
  meshctl create ingress bookinfo --service productpage:9080 \\
      --path /productpage --path /login --path /logout | kubectl apply -f -
  meshctl create ingress shop --rule "shop.example.com/*=frontend:http,tls=shop-cert"
  meshctl create ingress bookinfo --service productpage:9080 --style istio
  meshctl create ingress bookinfo --service productpage:9080 --style gateway-api
"""))


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


# commands that run through click only (no click-free path to declare in spec.py)
from meshctl.cli.completion import completion  # noqa: E402
from meshctl.cli.fn import fn  # noqa: E402

cli.add_command(fn)
cli.add_command(completion)
