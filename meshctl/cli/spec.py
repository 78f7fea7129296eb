"""Every command's options and arguments, declared once, as data.

:mod:`meshctl.cli.app` turns these declarations into click commands (help texts, types,
defaults). :func:`parse` reads the same declarations to parse the plain command lines (the way
meshctl is run in pipes, CI, Helm, and for ``url`` and ``create ingress``) without importing
click, which costs about as much as injecting a small file (see docs/performance.md). It
accepts only what it parses exactly as click does and answers None for anything else (help, an
unknown or misspelt option, a bad value, combined short flags, ``--``, a missing argument):
click then parses the command line and reports any error itself. ``tests/cli/test_spec.py``
checks both parsers against each other.

Option kinds: ``str``, ``int``, ``choice`` (one of ``choices``), ``flag`` (no value),
``multiple`` (repeatable, a tuple), and ``optional``: a GNU-style optional value, given only as
``--flag=VALUE``; a bare ``--flag`` means ``flag_value`` and never takes the next word
(``meshctl url --wait productpage`` waits for ``productpage``).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any


class Opt:
    """One option: its flags, where its value goes, and how click should present it."""

    __slots__ = ("flags", "dest", "kind", "choices", "default", "minimum", "metavar",
                 "show_default", "help", "flag_value", "path")  # fmt: skip

    def __init__(self, *flags: str, dest: str, kind: str = "str", help: str,  # noqa: A002
                 choices: tuple[str, ...] = (), default: Any = None, minimum: int | None = None,
                 metavar: str | None = None, show_default: bool = False,
                 flag_value: str | None = None, path: bool = False) -> None:
        assert kind in ("str", "flag", "multiple", "choice", "int", "optional")
        assert (kind == "optional") == (flag_value is not None)
        self.flags = flags
        self.dest = dest
        self.kind = kind
        self.choices = choices
        self.default = default
        self.minimum = minimum
        self.metavar = metavar
        self.show_default = show_default
        self.help = help
        self.flag_value = flag_value
        self.path = path  # a file name: shells complete it as one

    @property
    def initial(self) -> Any:
        """The value when the option is not given (what click passes)."""
        if self.kind == "flag":
            return False
        if self.kind == "multiple":
            return ()
        return self.default


class Arg:
    """A positional argument: one word, or with ``variadic`` every remaining word (a tuple,
    possibly empty; click's ``nargs=-1``; only as the last argument)."""

    __slots__ = ("dest", "metavar", "required", "variadic", "path")

    def __init__(self, dest: str, metavar: str, *, required: bool = True,
                 variadic: bool = False, path: bool = False) -> None:
        assert not (variadic and required)
        self.dest = dest
        self.metavar = metavar
        self.required = required
        self.variadic = variadic
        self.path = path  # a file name: shells complete it as one


class Command:
    """A command: the words that name it, what runs it, its options and arguments.

    ``runner`` is ``"module:function"``, called with the parsed keyword arguments; it prints and
    returns the exit code (so the click-free path imports only what that command needs)."""

    __slots__ = ("words", "runner", "options", "args")

    def __init__(self, words: str, runner: str, options: tuple[Opt, ...],
                 args: tuple[Arg, ...] = ()) -> None:
        self.words = tuple(words.split())
        self.runner = runner
        self.options = options
        self.args = args


INPUT_OPTIONS: tuple[Opt, ...] = (
    Opt("-f", "--filename", dest="filenames", kind="multiple", metavar="FILE|DIR|URL|-",
        path=True,
        help="Input manifest: a file, a directory, an http(s) URL, or - for stdin. Repeatable."),
    Opt("-R", "--recursive", dest="recursive", kind="flag",
        help="Descend into directories named by -f (*.yaml, *.yml, *.json)."),
    Opt("--only-manifests", dest="only_manifests", kind="flag",
        help="Skip, with a warning, input files that are plainly not Kubernetes manifests "
        "(documents without apiVersion and kind), instead of failing: for hooks over a "
        "repository's YAML."),
    Opt("-o", "--output", dest="output", metavar="FILE", path=True,
        help="Write the result to FILE (atomically; may name an input) instead of stdout."),
    Opt("-i", "--in-place", dest="in_place", kind="flag",
        help="Rewrite each input file that changes, atomically. Inputs must be files."),
    Opt("--check", dest="check", kind="flag",
        help="Write nothing; exit 1 if any document would change (for CI)."),
    Opt("--diff", dest="diff", kind="flag", help="Print a unified diff of what would change."),
    Opt("--output-format", dest="output_format", kind="choice",
        choices=("yaml", "json", "patch", "jsonpatch"), default="yaml", show_default=True,
        help="yaml: the manifests, your bytes kept; json: the objects as JSON; patch: kustomize "
        "`patches:` entries (target + RFC 6902 operations) of each changed resource; jsonpatch: "
        "the bare operations, one JSON array per changed resource and line."),
    Opt("-q", "--quiet", dest="quiet", kind="flag", help="Do not print the per-resource report."),
    Opt("-j", "--jobs", dest="jobs", kind="int", minimum=0, default=0, show_default=True,
        help="Worker processes for big inputs; 0 decides from the input size and CPUs."),
    Opt("--report", dest="report_format", kind="choice", choices=("text", "json"),
        default="text", show_default=True,
        help="Format of the report printed on stderr after the output."),
    Opt("--color", dest="color", kind="choice", choices=("auto", "always", "never"),
        default="auto", show_default=True,
        help="Colour the report and --diff (auto: on a terminal, unless NO_COLOR is set); a "
        "progress bar shows on a terminal for runs longer than a second."),
)

#: how meshctl reaches a cluster: always through the real kubectl
CLUSTER_OPTIONS: tuple[Opt, ...] = (
    Opt("--kubeconfig", dest="kubeconfig", metavar="FILE", path=True,
        help="kubectl's --kubeconfig: the kubeconfig file to use."),
    Opt("--context", dest="context", metavar="NAME",
        help="kubectl's --context: the kubeconfig context to use."),
    Opt("--kubectl", dest="kubectl", metavar="PATH", default="kubectl", show_default=True,
        path=True, help="The kubectl to run (every auth plugin and kubeconfig works through it)."),
    Opt("--request-timeout", dest="request_timeout", metavar="DURATION",
        help="kubectl's --request-timeout for each request, e.g. 10s."),
)

PROFILE_OPTIONS: tuple[Opt, ...] = (
    Opt("--injectConfigFile", dest="inject_config_file", metavar="FILE", path=True,
        help="Istio injector config (ConfigMap istio-sidecar-injector, its data.config, or a "
        "bare template)."),
    Opt("--valuesFile", dest="values_file", metavar="FILE", path=True,
        help="Injector values (JSON or YAML, or the ConfigMap holding data.values)."),
    Opt("--meshConfigFile", dest="mesh_config_file", metavar="FILE", path=True,
        help="Mesh config (ConfigMap istio's data.mesh, or the mesh YAML itself)."),
    Opt("--operatorFileName", dest="operator_file", metavar="FILE", path=True,
        help="IstioOperator whose spec.values and spec.meshConfig override the files."),
    Opt("--from-cluster", dest="from_cluster", kind="flag",
        help="Read the injector config, values and mesh config from the cluster (ConfigMaps "
        "istio-sidecar-injector[-REV] and istio[-REV] in --istio-namespace), as istioctl does."),
    Opt("--istio-namespace", "--istioNamespace", dest="istio_namespace", default="istio-system",
        show_default=True, metavar="NS",
        help="Where Istio's ConfigMaps are (with --from-cluster). istioctl's -i is --in-place "
        "here."),
    Opt("--injectConfigMapName", dest="inject_configmap_name", metavar="NAME",
        help="ConfigMap of the injector config and values (default istio-sidecar-injector"
        "[-REV])."),
    Opt("--meshConfigMapName", dest="mesh_configmap_name", metavar="NAME",
        help="ConfigMap of the mesh config (default istio[-REV])."),
    Opt("-r", "--revision", dest="revision", default="", help="Istio control-plane revision."),
    Opt("--hub", dest="hub", help="Image hub of the proxy images (overrides values)."),
    Opt("--tag", dest="tag", help="Image tag of the proxy images (overrides values)."),
    Opt("--proxy-image", dest="proxy_image", help="Full proxy image (overrides hub and tag)."),
    Opt("--proxy-init-image", dest="proxy_init_image",
        help="Full proxy-init image (overrides hub and tag)."),
    Opt("--native-sidecars", dest="native_sidecars", kind="choice",
        choices=("auto", "true", "false"), default="auto", show_default=True,
        help="Inject istio-proxy as a native sidecar (an init container with "
        "restartPolicy: Always). Offline, auto means false, as istioctl."),
    Opt("--compliance-policy", dest="compliance_policy", default="", metavar="POLICY",
        help="Istio COMPLIANCE_POLICY, e.g. fips-140-3."),
    Opt("--template-env", dest="template_env", kind="multiple", metavar="NAME",
        help="Let templates read environment variable NAME (env, expandenv). Repeatable; "
        "templates read no other variable, and never the network."),
    Opt("--reinject", dest="reinject", kind="choice", choices=("auto", "strip", "merge"),
        default="auto", show_default=True,
        help="Already-injected workloads: strip = remove the previous injection, then inject "
        "(upgrades leave nothing stale); merge = Istio's kube-inject behaviour. auto: merge "
        "with --injectConfigFile, strip otherwise."),
)

URL_OPTIONS: tuple[Opt, ...] = (
    Opt("-n", "--namespace", dest="namespace", metavar="NS",
        help="Namespace of the service or Gateway (default: the context's namespace; for "
        "--ingress and addons: --istio-namespace)."),
    Opt("--port", dest="port", metavar="NAME|NUMBER",
        help="The service port, by name or number (default: the HTTP one; never by position)."),
    Opt("--path", dest="path", metavar="PATH", help="Path to append to the URL."),
    Opt("--scheme", dest="scheme", kind="choice", choices=("http", "https"),
        help="Scheme of the URL (default: https for a port named https or numbered 443)."),
    Opt("--ingress", dest="ingress", kind="flag",
        help="The mesh's ingress gateway (istio-ingressgateway, or the 2017 istio-ingress)."),
    Opt("--gateway", dest="gateway", metavar="NAME",
        help="A Gateway API Gateway: its address and listener port."),
    Opt("--istio-namespace", "--istioNamespace", dest="istio_namespace", default="istio-system",
        show_default=True, metavar="NS",
        help="Where the ingress gateway and the addons are."),
    Opt("--node-port", dest="node_port", kind="flag",
        help="Use a LoadBalancer service's node port (clusters without load balancers)."),
    Opt("--port-forward", dest="port_forward", kind="flag",
        help="Forward a free local port to the service (kubectl port-forward), print the local "
        "URL, and keep forwarding until Ctrl-C."),
    Opt("--local-port", dest="local_port", kind="int", minimum=1, metavar="PORT",
        help="The local port for --port-forward (default: a free one)."),
    Opt("--open", dest="open", kind="flag", help="Also open the URL in a browser."),
    Opt("--wait", dest="wait", kind="optional", flag_value="", metavar="[=DURATION]",
        help="Wait for a pending load-balancer address or a Ready pod, up to DURATION "
        "(--wait=5m; --wait alone: 5m)."),
    Opt("--format", dest="format", kind="choice", choices=("url", "env", "json"),
        default="url", show_default=True,
        help="url: the URL; env: export lines (INGRESS_HOST, INGRESS_PORT, GATEWAY_URL...) "
        "for eval; json: everything."),
    Opt("--from-file", dest="from_files", kind="multiple", metavar="STATE", path=True,
        help="Read objects saved with `kubectl get svc,pods,nodes -A -o json` instead of "
        "asking the cluster. Repeatable."),
)

CREATE_INGRESS_OPTIONS: tuple[Opt, ...] = (
    Opt("--rule", dest="rules", kind="multiple", metavar="HOST/PATH=SVC:PORT[,tls[=SECRET]]",
        help="A route in kubectl's grammar: a path ending in * is a prefix, else exact; a "
        "port that is not a number is a port name. Repeatable."),
    Opt("--default-backend", dest="default_backend", metavar="SVC:PORT",
        help="The backend of requests no rule matches."),
    Opt("--service", dest="service", metavar="SVC:PORT",
        help="The walkthrough's form: one backend for every --path."),
    Opt("--path", dest="paths", kind="multiple", metavar="PATH",
        help="With --service: a path to route (repeatable; default /)."),
    Opt("--host", dest="host", metavar="HOST", help="With --service: the host to route."),
    Opt("--path-type", dest="path_type", kind="choice",
        choices=("Prefix", "Exact", "ImplementationSpecific"),
        help="With --service: how paths match (default Prefix)."),
    Opt("--tls-secret", dest="tls_secret", metavar="SECRET",
        help="With --service: terminate TLS with this secret."),
    Opt("--annotation", dest="annotations", kind="multiple", metavar="KEY=VALUE",
        help="An annotation of every object. Repeatable."),
    Opt("--class", dest="ingress_class", metavar="CLASS",
        help="Ingress class / Gateway API gateway class (default istio; \"\" for none)."),
    Opt("-n", "--namespace", dest="namespace", metavar="NS",
        help="Namespace of the objects (default: none, kubectl's current one)."),
    Opt("--style", dest="style", kind="choice",
        choices=("ingress", "ingress-v1beta1", "istio", "gateway-api"), default="ingress",
        show_default=True,
        help="ingress: networking.k8s.io/v1 Ingress; ingress-v1beta1: the 2017 "
        "extensions/v1beta1 form; istio: Gateway + VirtualService; gateway-api: Gateway + "
        "HTTPRoute."),
    Opt("--gateway-selector", dest="gateway_selector", kind="multiple", metavar="KEY=VALUE",
        help="With --style istio: the gateway pods' labels (default istio=ingressgateway)."),
    Opt("--output-format", dest="output_format", kind="choice", choices=("yaml", "json"),
        default="yaml", show_default=True, help="yaml: a YAML stream; json: JSON."),
)

#: inputs named without -f, after the options or between them (pre-commit, xargs and find -exec
#: append file names to a command line); they come after the -f inputs
FILES = Arg("files", "[FILE|DIR|URL|-]...", required=False, variadic=True, path=True)

#: every command that has a click-free path, by its words
COMMANDS: dict[str, Command] = {
    "kube-inject": Command("kube-inject", "meshctl.cli.run:run_inject",
                           INPUT_OPTIONS + PROFILE_OPTIONS + CLUSTER_OPTIONS, (FILES,)),
    "kube-uninject": Command("kube-uninject", "meshctl.cli.run:run_uninject", INPUT_OPTIONS,
                             (FILES,)),
    "url": Command("url", "meshctl.cli.url:run_url", URL_OPTIONS + CLUSTER_OPTIONS,
                   (Arg("service", "[SERVICE]", required=False),)),
    "create ingress": Command("create ingress", "meshctl.cli.create:run_create_ingress",
                              CREATE_INGRESS_OPTIONS, (Arg("name", "NAME"),)),
}

#: options that end parsing in click (help, version), and click's end-of-options marker
_HANDS_OFF = ("-h", "--help", "--version", "--")


def _value(opt: Opt, text: str) -> Any:
    """The option's value from ``text``, or ``_BAD`` when click would refuse or convert it
    differently."""
    if opt.kind == "choice":
        return text if text in opt.choices else _BAD
    if opt.kind == "int":
        if not text.isascii() or not text.isdigit():
            return _BAD  # click's int() takes more (" 1", "+1", "1_0"): let click parse those
        number = int(text)
        return number if opt.minimum is None or number >= opt.minimum else _BAD
    return text


_BAD = object()


def find_command(argv: list[str]) -> Command | None:
    """The command ``argv`` starts with (its words), or None."""
    for words in (" ".join(argv[:2]), argv[0] if argv else ""):
        command = COMMANDS.get(words)
        if command is not None:
            return command
    return None


def gnu_optional(argv: list[str], options: tuple[Opt, ...]) -> list[str]:
    """``argv`` with each bare ``--flag`` of an ``optional`` option spelled ``--flag=VALUE``
    (its ``flag_value``), so that no parser takes the next word as its value."""
    bare = {flag: opt.flag_value for opt in options if opt.kind == "optional"
            for flag in opt.flags}  # fmt: skip
    if not bare:
        return argv
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            return out + argv[i:]
        out.append(f"{arg}={bare[arg]}" if arg in bare else arg)
    return out


def parse(argv: list[str]) -> tuple[Command, dict[str, Any]] | None:
    """``(command, keyword arguments)`` for ``argv`` = ``[WORDS..., ARGS...]``, exactly as
    click would pass them to the command, or None when click must parse this command line."""
    command = find_command(argv)
    if command is None:
        return None
    options = command.options
    by_flag = {flag: opt for opt in options for flag in opt.flags}
    kw: dict[str, Any] = {opt.dest: opt.initial for opt in options}
    positional: list[str] = []
    args = iter(gnu_optional(argv[len(command.words):], options))
    for arg in args:
        if arg in _HANDS_OFF:
            return None
        if arg == "-" or not arg.startswith("-"):
            positional.append(arg)
            continue
        value: str | None = None
        if arg.startswith("--") and "=" in arg:
            arg, value = arg.split("=", 1)
        opt = by_flag.get(arg)
        if opt is None:
            return None  # an unknown option, "-qR", "-ffile"
        if opt.kind == "flag":
            if value is not None:
                return None
            kw[opt.dest] = True
            continue
        if value is None:
            value = next(args, None)
            if value is None or (value.startswith("-") and value != "-"):
                return None  # missing value, or one click may read as an option
        parsed = _value(opt, value)
        if parsed is _BAD:
            return None
        if opt.kind == "multiple":
            kw[opt.dest] = (*kw[opt.dest], parsed)
        else:
            kw[opt.dest] = parsed
    variadic = bool(command.args) and command.args[-1].variadic
    if len(positional) > len(command.args) and not variadic:
        return None  # click reports the extra argument
    for i, spec in enumerate(command.args):
        if spec.variadic:
            kw[spec.dest] = tuple(positional[i:])
        elif i < len(positional):
            kw[spec.dest] = positional[i]
        elif spec.required:
            return None  # click reports the missing argument
        else:
            kw[spec.dest] = None
    return command, kw
