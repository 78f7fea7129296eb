"""The routing model of ``create ingress`` and its two grammars.

kubectl's grammar, ``--rule host/path=service:port[,tls[=secret]]`` (``kubectl create ingress``,
k8s.io/kubectl pkg/cmd/create/create_ingress.go), with kubectl's meaning:

* a rule is first checked against kubectl's own pattern (host of word characters, ``*``, ``-``,
  ``.``; a path from the first ``/``; ``=``; a service and a port of word characters or ``-``),
  and a rule that kubectl rejects gets kubectl's message;
* the path is the text between the first ``/`` (kept) and ``=``; a path ending in ``*`` is
  ``Prefix`` with the ``*`` removed (``/*`` is ``Prefix /``), any other path is ``Exact``;
* the port is a number when Go's ``strconv.Atoi`` reads it as one (``080`` and ``+80`` are 80),
  else a port name;
* rules with the same host (``""`` = every host) share one Ingress rule, in the order in which
  the hosts first appear; their paths keep the order of the arguments;
* TLS, as kubectl builds ``spec.tls``: a rule with ``,tls=SECRET`` puts its host in the TLS entry
  of that secret (a new entry when no earlier rule used the secret); ``,tls`` alone means the
  ingress controller's default certificate (an entry without ``secretName``); a host gets TLS
  from its first ``tls`` rule only; ``tls`` without a host and without a secret adds nothing.
* ``--default-backend service:port`` and ``--annotation key=value`` as in kubectl (the value may
  be empty; the last of two equal keys wins).

Where kubectl would build an object that the API server rejects, panic, or silently drop part of
an argument, meshctl stops with one clear line instead (a :class:`UsageError`): a second ``,``
(kubectl drops the TLS part), text after the port (``svc:80:90``), ``tls`` misspelt (kubectl
reads ``,tlsfoo`` as ``,tls``), ``=`` or ``,`` inside the path (kubectl panics), and every value
the API server validates: host (DNS-1123 subdomain or ``*.`` wildcard, not an IP address),
path (absolute, no ``//``, ``/./``, ``/../``, ``%2f``, not ending in ``/.`` or ``/..``), service
(DNS-1035 label), port (1-65535, or an IANA port name), secret (DNS-1123 subdomain), annotation key
(qualified name). Every other argument gives exactly kubectl's object.

The walkthrough's short form, ``--service SVC:PORT`` with repeatable ``--path P`` (default ``/``),
``--host H`` (default: every host), ``--path-type Prefix|Exact|ImplementationSpecific`` (default
``Prefix``; a ``*`` in the path has no special meaning here) and ``--tls-secret S``, gives the
same model: one host, its paths in order, all to one backend, and TLS for that host with ``S``.

The checks need no regular expressions: this module is on the start-up path of the command, and
the tests compare each check with the pattern it replaces (kubectl's, and apimachinery's).
"""

from __future__ import annotations

from meshctl.errors import UsageError
from meshctl.records import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from collections.abc import Iterable, Sequence

EXACT = "Exact"
PREFIX = "Prefix"
IMPLEMENTATION_SPECIFIC = "ImplementationSpecific"
#: the path types of ``--path-type``, the default first
PATH_TYPES = (PREFIX, EXACT, IMPLEMENTATION_SPECIFIC)

RULE_FORMAT = "host/path=svcname:svcport[,tls[=secret]]"


class Backend(Frozen):
    """A Service and its port: a number, or the name of one of the Service's ports."""

    __slots__ = ("service", "port")
    service: str
    port: int | str


class PathRule(Frozen):
    __slots__ = ("path", "path_type", "backend")
    path: str
    path_type: str  # Exact | Prefix | ImplementationSpecific
    backend: Backend


class HostRule(Frozen):
    """The paths of one host (``""``: every host), in argument order."""

    __slots__ = ("host", "paths")
    host: str
    paths: tuple[PathRule, ...]


class TLS(Frozen):
    """One ``spec.tls`` entry: hosts (none: every host) served with one certificate."""

    __slots__ = ("hosts", "secret")
    hosts: tuple[str, ...]
    secret: str  # "": the ingress controller's default certificate


class Routes(Frozen):
    """Everything the arguments say about routing, whatever the style of the output."""

    __slots__ = ("rules", "tls", "default_backend", "warnings")
    DEFAULTS = {"tls": (), "default_backend": None, "warnings": ()}
    rules: tuple[HostRule, ...]
    tls: tuple[TLS, ...]
    default_backend: Backend | None
    warnings: tuple[str, ...]


# --------------------------------------------------------------------------------------------
# names, as the API server validates them (k8s.io/apimachinery/pkg/util/validation)

_DIGITS = frozenset("0123456789")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_ALPHA = _LOWER | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LOWER_ALNUM = _LOWER | _DIGITS
_LABEL_CHARS = _LOWER_ALNUM | {"-"}
_ALNUM = _ALPHA | _DIGITS
_NAME_CHARS = _ALNUM | frozenset("-_.")  # qualified names and label values
_WORD = _ALNUM | {"_"}  # Go's \w: ASCII only
_WORD_DASH = _WORD | {"-"}
_KUBECTL_HOST = _WORD_DASH | frozenset("*.")

_SUBDOMAIN_TEXT = (
    "must consist of lower case alphanumeric characters, '-' or '.', and must start and end "
    "with an alphanumeric character"
)


def _label_like(s: str) -> bool:
    """``[a-z0-9]([-a-z0-9]*[a-z0-9])?`` without a length limit."""
    return (
        s != ""
        and s[0] in _LOWER_ALNUM
        and s[-1] in _LOWER_ALNUM
        and all(c in _LABEL_CHARS for c in s)
    )


def subdomain_problem(s: str) -> str | None:
    """Why ``s`` is not a DNS-1123 subdomain (object names, hosts, secrets), or None."""
    if len(s) > 253:
        return "must be no more than 253 characters"
    if not all(_label_like(part) for part in s.split(".")):
        return _SUBDOMAIN_TEXT
    return None


def label_problem(s: str) -> str | None:
    """Why ``s`` is not a DNS-1123 label (namespaces), or None."""
    if len(s) > 63:
        return "must be no more than 63 characters"
    if not _label_like(s):
        return (
            "must consist of lower case alphanumeric characters or '-', and must start and end "
            "with an alphanumeric character"
        )
    return None


def dns1035_problem(s: str) -> str | None:
    """Why ``s`` is not a DNS-1035 label (Service names), or None."""
    if len(s) > 63:
        return "must be no more than 63 characters"
    if not (_label_like(s) and s[0] in _LOWER):
        return (
            "must consist of lower case alphanumeric characters or '-', start with an "
            "alphabetic character, and end with an alphanumeric character"
        )
    return None


def _is_ipv4(s: str) -> bool:
    parts = s.split(".")
    return len(parts) == 4 and all(
        p != "" and all(c in _DIGITS for c in p) and int(p) <= 255 for p in parts
    )


def host_problem(host: str) -> str | None:
    """Why ``host`` cannot be the host of an Ingress rule (or of Istio/Gateway API routes)."""
    if "*" in host:
        if not host.startswith("*.") or subdomain_problem(host[2:]) is not None:
            return (
                "must be a DNS-1123 subdomain, or a wildcard one whose first label is '*' "
                "alone (*.example.com)"
            )
        return "must be no more than 253 characters" if len(host) > 253 else None
    problem = subdomain_problem(host)
    if problem is None and _is_ipv4(host):
        return "must be a DNS name, not an IP address"
    return problem


def port_name_problem(s: str) -> str | None:
    """Why ``s`` is not an IANA service name (a Service port name), or None."""
    if len(s) > 15:
        return "must be no more than 15 characters"
    if s == "" or not all(c in _LABEL_CHARS for c in s):
        return "must contain only lower case alphanumeric characters (a-z, 0-9) and '-'"
    if not any(c in _LOWER for c in s):
        return "must contain at least one letter (a-z)"
    if "--" in s:
        return "must not contain consecutive hyphens (--)"
    if s[0] == "-" or s[-1] == "-":
        return "must not begin or end with a hyphen (-)"
    return None


def _name_part_ok(s: str) -> bool:
    """``([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]``."""
    return s != "" and s[0] in _ALNUM and s[-1] in _ALNUM and all(c in _NAME_CHARS for c in s)


def qualified_name_problem(s: str) -> str | None:
    """Why ``s`` is not a qualified name (label and annotation keys: ``[prefix/]name``)."""
    prefix, slash, name = s.rpartition("/")
    if slash and (prefix == "" or subdomain_problem(prefix) is not None):
        return "must have a DNS-1123 subdomain before '/' (example.com/my-key)"
    if len(name) > 63:
        return "must have a name part of no more than 63 characters"
    if not _name_part_ok(name):
        return (
            "must have a name part of alphanumeric characters, '-', '_' or '.', that starts "
            "and ends with an alphanumeric character"
        )
    return None


def label_value_problem(s: str) -> str | None:
    if len(s) > 63:
        return "must be no more than 63 characters"
    if s and not _name_part_ok(s):
        return (
            "must be empty or consist of alphanumeric characters, '-', '_' or '.', and start "
            "and end with an alphanumeric character"
        )
    return None


_BAD_PATH_PARTS = ("//", "/./", "/../", "%2f", "%2F")
_BAD_PATH_ENDS = ("/..", "/.")


def path_problem(path: str, path_type: str) -> str | None:
    """Why the API server would reject ``path`` for ``path_type`` in an Ingress, or None."""
    if path_type == IMPLEMENTATION_SPECIFIC:
        if path and not path.startswith("/"):
            return "must be an absolute path (start with '/')"
        return None
    if not path.startswith("/"):
        return "must be an absolute path (start with '/')"
    for part in _BAD_PATH_PARTS:
        if part in path:
            return f"must not contain '{part}'"
    for end in _BAD_PATH_ENDS:
        if path.endswith(end):
            return f"must not end with '{end}'"
    return None


# --------------------------------------------------------------------------------------------
# values


def parse_port(text: str, where: str) -> int | str:
    """A port as kubectl's ``intstr.Parse`` reads it, checked as the API server checks it."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if body and all(c in _DIGITS for c in body):  # what strconv.Atoi accepts
        number = int(text)
        if not 1 <= number <= 65535:
            raise UsageError(f"{where}: port {text} is out of range (1-65535)")
        return number
    problem = port_name_problem(text)
    if problem is not None:
        raise UsageError(
            f"{where}: port {text!r} is neither a number (1-65535) nor a valid port name: "
            f"a port name {problem}"
        )
    return text


def _backend(service: str, port: str, where: str) -> Backend:
    problem = dns1035_problem(service)
    if problem is not None:
        raise UsageError(f"{where}: service name {service!r} {problem}")
    return Backend(service, parse_port(port, where))


def parse_backend(text: str, flag: str) -> Backend:
    """``service:port`` of ``--default-backend`` or ``--service``."""
    parts = text.split(":")
    if len(parts) != 2:
        raise UsageError(f"{flag} {text!r} should be in format servicename:serviceport")
    return _backend(parts[0], parts[1], f"{flag} {text!r}")


def _check_secret(secret: str, where: str) -> None:
    problem = subdomain_problem(secret)
    if problem is not None:
        raise UsageError(f"{where}: secret name {secret!r} {problem}")


def _check_host(host: str, where: str) -> None:
    problem = host_problem(host)
    if problem is not None:
        raise UsageError(f"{where}: host {host!r} {problem}")


def _key_values(items: Iterable[str], what: str) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"{what} {item!r} is invalid and should be in format key=[value]")
        pairs.append((key, value))
    return pairs


def parse_annotations(items: Iterable[str]) -> dict[str, str]:
    """``--annotation key=value`` (kubectl's format; the last of two equal keys wins)."""
    out: dict[str, str] = {}
    for key, value in _key_values(items, "annotation"):
        # the API server checks annotation keys in lower case
        problem = qualified_name_problem(key.lower())
        if problem is not None:
            raise UsageError(f"annotation key {key!r} {problem}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(f"the value of annotation {key!r} is not valid UTF-8 text") from None
        out[key] = value
    return out


def parse_selector(items: Iterable[str]) -> dict[str, str]:
    """``--gateway-selector key=value`` (labels of the gateway pods)."""
    out: dict[str, str] = {}
    for key, value in _key_values(items, "--gateway-selector"):
        problem = qualified_name_problem(key)
        if problem is not None:
            raise UsageError(f"--gateway-selector: label key {key!r} {problem}")
        problem = label_value_problem(value)
        if problem is not None:
            raise UsageError(f"--gateway-selector: value {value!r} of label {key!r} {problem}")
        out[key] = value
    return out


# --------------------------------------------------------------------------------------------
# kubectl's --rule


def kubectl_accepts(rule: str) -> bool:
    """Does kubectl's rule pattern match (a prefix of) ``rule``?

    The pattern, ``^[\\w*.-]*/.*=[\\w-]+:[\\w-]+`` (then an optional TLS part, irrelevant to a
    prefix match), checked by hand: the host runs to the first ``/``; some ``=`` after it, with
    no line break before it (``.`` does not match one), is followed by ``service:port``.
    """
    slash = rule.find("/")
    if slash < 0 or not all(c in _KUBECTL_HOST for c in rule[:slash]):
        return False
    end = rule.find("\n", slash)
    if end < 0:
        end = len(rule)
    eq = rule.find("=", slash)
    while 0 <= eq < end:
        i = eq + 1
        j = i
        while j < len(rule) and rule[j] in _WORD_DASH:
            j += 1
        if i < j < len(rule) - 1 and rule[j] == ":" and rule[j + 1] in _WORD_DASH:
            return True
        eq = rule.find("=", eq + 1)
    return False


def parse_rule(rule: str) -> tuple[str, PathRule, str | None]:
    """One ``--rule``: its host, its path and the TLS it asks for (None: no TLS; ``""``: the
    controller's default certificate; else a secret name)."""
    where = f"rule {rule!r}"
    if not kubectl_accepts(rule):
        raise UsageError(f"{where} is invalid and should be in format {RULE_FORMAT}")
    head, comma, tail = rule.partition(",")
    if comma:
        if "=" not in head:
            raise UsageError(f"{where}: the path must not contain ','")
        if "," in tail:
            raise UsageError(f"{where}: only one ',' is allowed, before tls[=secret]")
        if tail != "tls" and not tail.startswith("tls="):
            raise UsageError(f"{where}: expected 'tls' or 'tls=SECRET' after ',', not {tail!r}")
    host, _, rest = head.partition("/")
    path, _, backend = rest.partition("=")
    if "=" in backend:
        raise UsageError(f"{where}: '=' may appear only once, between the path and the service")
    service, colon, port = backend.partition(":")
    if not colon or ":" in port:
        raise UsageError(f"{where}: expected svcname:svcport after '=', not {backend!r}")
    path = "/" + path
    path_type = EXACT
    if path.endswith("*"):
        path, path_type = path[:-1], PREFIX
    if host:
        _check_host(host, where)
    problem = path_problem(path, path_type)
    if problem is not None:
        raise UsageError(f"{where}: path {path!r} {problem}")
    tls = tail[4:] if comma else None
    if tls:
        _check_secret(tls, where)
    return host, PathRule(path, path_type, _backend(service, port, where)), tls


def _group(pairs: Iterable[tuple[str, PathRule]]) -> tuple[HostRule, ...]:
    """Paths of the same host together, hosts in order of first appearance (as kubectl)."""
    groups: dict[str, list[PathRule]] = {}
    for host, path in pairs:
        groups.setdefault(host, []).append(path)
    return tuple(HostRule(host, tuple(paths)) for host, paths in groups.items())


def _kubectl_tls(items: Sequence[tuple[str, str, str]]) -> tuple[tuple[TLS, ...], list[str]]:
    """``spec.tls`` from (rule, host, secret) of the rules with ``tls``, as kubectl builds it."""
    entries: list[tuple[list[str], str]] = []
    secret_of: dict[str, str] = {}
    warnings = []
    for rule, host, secret in items:
        if host in secret_of:
            if secret_of[host] != secret:
                warnings.append(
                    f"rule {rule!r}: host {host or '(every host)'} already has TLS from an "
                    f"earlier rule; this rule's TLS is ignored, as kubectl does"
                )
            continue
        index = next((i for i, (_, s) in enumerate(entries) if s == secret), -1)
        if index >= 0:
            if not host:
                raise UsageError(
                    f"rule {rule!r}: TLS without a host cannot share "
                    f"{'secret ' + repr(secret) if secret else 'the default certificate'} with "
                    f"the TLS of host {entries[index][0][0]} (kubectl would write an empty "
                    f"host, which Kubernetes rejects): give the rule a host"
                )
            entries[index][0].append(host)
        elif host or secret:
            entries.append(([host] if host else [], secret))
        else:
            warnings.append(
                f"rule {rule!r}: 'tls' without a host and without a secret adds no TLS "
                f"(as with kubectl); use tls=SECRET"
            )
        secret_of[host] = secret
    return tuple(TLS(tuple(hosts), secret) for hosts, secret in entries), warnings


def routes_from_rules(rules: Sequence[str], default_backend: str | None = None) -> Routes:
    """The model of kubectl's ``--rule`` arguments (and ``--default-backend``)."""
    parsed = [parse_rule(rule) for rule in rules]
    tls, warnings = _kubectl_tls(
        [(rule, host, secret) for rule, (host, _, secret) in zip(rules, parsed, strict=True)
         if secret is not None]
    )
    return Routes(
        _group((host, path) for host, path, _ in parsed),
        tls,
        None if default_backend is None else parse_backend(default_backend, "--default-backend"),
        tuple(warnings),
    )


def routes_from_service(
    service: str,
    paths: Sequence[str] = (),
    host: str | None = None,
    path_type: str | None = None,
    tls_secret: str | None = None,
    default_backend: str | None = None,
) -> Routes:
    """The model of the short form: ``--service`` with ``--path`` (default ``/``), ``--host``,
    ``--path-type`` (default ``Prefix``) and ``--tls-secret``."""
    backend = parse_backend(service, "--service")
    path_type = PREFIX if path_type is None else path_type
    if path_type not in PATH_TYPES:
        raise UsageError(f"--path-type {path_type!r} is not one of {', '.join(PATH_TYPES)}")
    host = host or ""
    if host:
        _check_host(host, "--host")
    for path in paths:
        problem = path_problem(path, path_type) if path else "must not be empty"
        if problem is not None:
            raise UsageError(f"--path {path!r} {problem}")
    tls: tuple[TLS, ...] = ()
    if tls_secret is not None:
        _check_secret(tls_secret, "--tls-secret")
        tls = (TLS((host,) if host else (), tls_secret),)
    return Routes(
        (HostRule(host, tuple(PathRule(p, path_type, backend) for p in paths or ("/",))),),
        tls,
        None if default_backend is None else parse_backend(default_backend, "--default-backend"),
    )


# --------------------------------------------------------------------------------------------
# what the Gateway styles (Istio, Gateway API) need beyond an Ingress


def route_hosts(routes: Routes) -> list[str]:
    """The hosts that get a route object of their own: each rule's host, and every host
    (``""``) for the default backend when no rule has it already."""
    hosts = [rule.host for rule in routes.rules]
    if routes.default_backend is not None and "" not in hosts:
        hosts.append("")
    return hosts


def route_names(name: str, hosts: Sequence[str], kind: str) -> list[str]:
    """Names of the route objects of ``hosts``: ``name`` alone for one host, else
    ``name-HOST`` (``*`` as ``wildcard``, every host as ``catch-all``), else ``name-N`` when
    two hosts would get the same name."""
    if len(hosts) == 1:
        return [name]
    names = [f"{name}-{h.replace('*', 'wildcard') if h else 'catch-all'}" for h in hosts]
    if len(set(names)) < len(names):
        names = [f"{name}-{i}" for i in range(1, len(hosts) + 1)]
    for host, derived in zip(hosts, names, strict=True):
        if len(derived) > 253:
            raise UsageError(
                f"name {name!r} is too long for the {kind} of host {host or '(every host)'}: "
                f"{derived!r} would have more than 253 characters"
            )
    return names


def numbered(base: str, count: int) -> list[str]:
    """``base`` for one item, else ``base-1`` ... ``base-N``."""
    return [base] if count == 1 else [f"{base}-{i}" for i in range(1, count + 1)]


def require_port_numbers(routes: Routes, style: str, field: str) -> None:
    """A VirtualService destination and an HTTPRoute backendRef take port numbers only."""
    backends = [p.backend for rule in routes.rules for p in rule.paths]
    if routes.default_backend is not None:
        backends.append(routes.default_backend)
    for backend in backends:
        if not isinstance(backend.port, int):
            raise UsageError(
                f"--style {style}: port {backend.port!r} of service {backend.service!r} is a "
                f"name, but {field} takes a port number (SERVICE:NUMBER)"
            )


def require_secrets(routes: Routes, style: str, kind: str) -> None:
    """Istio and Gateway API gateways have no default certificate: TLS needs a secret."""
    for entry in routes.tls:
        if not entry.secret:
            raise UsageError(
                f"--style {style}: TLS for {', '.join(entry.hosts) or 'every host'} has no "
                f"secret, and {kind} has no default certificate: use tls=SECRET"
            )
