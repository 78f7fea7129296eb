"""The options of ``kube-inject`` and ``kube-uninject``, declared once, as data.

:mod:`meshctl.cli.app` turns these declarations into click options (help texts, types,
defaults). :func:`parse` reads the same declarations to parse the plain command lines
(``meshctl kube-inject -f app.yaml``, the way meshctl is run in pipes, CI and Helm) without
importing click, which costs about as much as injecting a small file (see
docs/performance.md). It accepts only what it parses exactly as click does and answers None
for anything else (help, an unknown or misspelt option, a bad value, combined short flags,
``--``): click then parses the command line and reports any error itself.
``tests/cli/test_spec.py`` checks both parsers against each other.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any


class Opt:
    """One option: its flags, where its value goes, and how click should present it."""

    __slots__ = ("flags", "dest", "kind", "choices", "default", "minimum", "metavar",
                 "show_default", "help")

    def __init__(self, *flags: str, dest: str, kind: str = "str", help: str,  # noqa: A002
                 choices: tuple[str, ...] = (), default: Any = None, minimum: int | None = None,
                 metavar: str | None = None, show_default: bool = False) -> None:
        assert kind in ("str", "flag", "multiple", "choice", "int")
        self.flags = flags
        self.dest = dest
        self.kind = kind
        self.choices = choices
        self.default = default
        self.minimum = minimum
        self.metavar = metavar
        self.show_default = show_default
        self.help = help

    @property
    def initial(self) -> Any:
        """The value when the option is not given (what click passes)."""
        if self.kind == "flag":
            return False
        if self.kind == "multiple":
            return ()
        return self.default


INPUT_OPTIONS: tuple[Opt, ...] = (
    Opt("-f", "--filename", dest="filenames", kind="multiple", metavar="FILE|DIR|URL|-",
        help="Input manifest: a file, a directory, an http(s) URL, or - for stdin. Repeatable."),
    Opt("-R", "--recursive", dest="recursive", kind="flag",
        help="Descend into directories named by -f (*.yaml, *.yml, *.json)."),
    Opt("-o", "--output", dest="output", metavar="FILE",
        help="Write the result to FILE (atomically; may name an input) instead of stdout."),
    Opt("-i", "--in-place", dest="in_place", kind="flag",
        help="Rewrite each input file that changes, atomically. Inputs must be files."),
    Opt("--check", dest="check", kind="flag",
        help="Write nothing; exit 1 if any document would change (for CI)."),
    Opt("--diff", dest="diff", kind="flag", help="Print a unified diff of what would change."),
    Opt("--output-format", dest="output_format", kind="choice", choices=("yaml", "patch"),
        default="yaml", show_default=True,
        help="yaml: the manifests; patch: the RFC 6902 JSON Patch of each changed document."),
    Opt("-q", "--quiet", dest="quiet", kind="flag", help="Do not print the per-resource report."),
    Opt("-j", "--jobs", dest="jobs", kind="int", minimum=0, default=0, show_default=True,
        help="Worker processes for big inputs; 0 decides from the input size and CPUs."),
    Opt("--report", dest="report_format", kind="choice", choices=("text", "json"),
        default="text", show_default=True,
        help="Format of the report printed on stderr after the output."),
)

PROFILE_OPTIONS: tuple[Opt, ...] = (
    Opt("--injectConfigFile", dest="inject_config_file", metavar="FILE",
        help="Istio injector config (ConfigMap istio-sidecar-injector, its data.config, or a "
        "bare template)."),
    Opt("--valuesFile", dest="values_file", metavar="FILE",
        help="Injector values (JSON or YAML, or the ConfigMap holding data.values)."),
    Opt("--meshConfigFile", dest="mesh_config_file", metavar="FILE",
        help="Mesh config (ConfigMap istio's data.mesh, or the mesh YAML itself)."),
    Opt("--operatorFileName", dest="operator_file", metavar="FILE",
        help="IstioOperator whose spec.values and spec.meshConfig override the files."),
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

#: each command's options and the operation it runs
COMMANDS: dict[str, tuple[str, tuple[Opt, ...]]] = {
    "kube-inject": ("inject", INPUT_OPTIONS + PROFILE_OPTIONS),
    "kube-uninject": ("uninject", INPUT_OPTIONS),
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


def parse(argv: list[str]) -> tuple[str, dict[str, Any]] | None:
    """``(operation, keyword arguments)`` for ``argv`` = ``[COMMAND, ARGS...]``, exactly as click
    would pass them to the command, or None when click must parse this command line."""
    if not argv or argv[0] not in COMMANDS:
        return None
    operation, options = COMMANDS[argv[0]]
    by_flag = {flag: opt for opt in options for flag in opt.flags}
    kw: dict[str, Any] = {opt.dest: opt.initial for opt in options}
    args = iter(argv[1:])
    for arg in args:
        if arg in _HANDS_OFF:
            return None
        value: str | None = None
        if arg.startswith("--") and "=" in arg:
            arg, value = arg.split("=", 1)
        opt = by_flag.get(arg)
        if opt is None:
            return None  # a positional argument, an unknown option, "-qR", "-ffile"
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
    return operation, kw
