"""The argument grammar: kubectl's rule pattern and apimachinery's name rules, checked by hand
in meshctl.gateways.rules, against the regular expressions they replace; rule parsing, host
grouping and kubectl's TLS construction; the short form."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from meshctl.errors import UsageError
from meshctl.gateways import rules
from meshctl.gateways.gatewayapi import path_chars_ok
from meshctl.gateways.rules import TLS, Backend, HostRule, PathRule

# kubectl pkg/cmd/create/create_ingress.go (Go RE2: \w is ASCII, '.' stops at a line break)
KUBECTL_RULE = re.compile(
    r"^(?P<host>[\w\*\-\.]*)(?P<path>/.*)=(?P<svcname>[\w\-]+):(?P<svcport>[\w\-]+)"
    r"(,(?P<istls>tls)=?(?P<secretname>[\w\-]+)?)?",
    re.ASCII,
)
# k8s.io/apimachinery/pkg/util/validation
LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
SUBDOMAIN = re.compile(rf"{LABEL}(\.{LABEL})*")
WILDCARD = re.compile(rf"\*\.{LABEL}(\.{LABEL})*")
DNS1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
NAME_PART = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
# the HTTPRoute CRD
GW_PATH = re.compile(r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$")
GW_HOSTNAME = re.compile(rf"^(\*\.)?{LABEL}(\.{LABEL})*$")

RULE_ALPHABET = "a/=:-_.*,tls1Z9 \n\té%"
NAME_ALPHABET = "az09-._*/A%"
PIECES = ["foo.com", "*.x", "", "/", "/a", "/b*", "*", "=", "svc", ":", "80", "http", "-",
          ",tls", "=sec", ",", "tls", "a=b", ":90", "\n", "_", ".", "é", "/=", "x"]


def _kubectl_pattern(s: str) -> bool:
    return KUBECTL_RULE.match(s) is not None


valid_rules = st.builds(
    lambda host, path, service, port, tls: f"{host}/{path}={service}:{port}{tls}",
    st.sampled_from(["", "a.com", "*.b.example", "x-1.y"]),
    st.sampled_from(["", "x", "x*", "a/b/", "*", "a.b", "%41", "a*b", "é"]),
    st.sampled_from(["s", "web-1", "a1"]),
    st.sampled_from(["80", "http", "080", "9080", "65535", "h2c"]),
    st.sampled_from(["", ",tls", ",tls=", ",tls=sec", ",tls=a.b-c"]),
)
rule_texts = st.one_of(
    st.text(alphabet=RULE_ALPHABET, max_size=24),
    st.lists(st.sampled_from(PIECES), max_size=10).map("".join),
    valid_rules,
)


@settings(max_examples=1000, deadline=None)
@given(rule_texts)
@example("foo.com/bar=svc1:8080,tls=my-cert")
@example("/a\n=b:c")
@example("a/\nx=b:c")
@example("a/x=b:c\n")
@example("é/x=b:c")
@example("/x=é:c")
def test_kubectl_accepts_is_kubectls_pattern(text: str) -> None:
    assert rules.kubectl_accepts(text) == _kubectl_pattern(text)


def _kubectl_reading(rule: str) -> tuple[str, str, str, str, int | str, str | None]:
    """What kubectl's create_ingress.go builds from a rule it accepts (string splits)."""
    parts = rule.split(",")
    host, rest = parts[0].split("/", 1)
    path_service = rest.split("=")
    path, service = "/" + path_service[0], path_service[1].split(":")
    path_type = "Exact"
    if path.endswith("*"):
        path, path_type = path[:-1], "Prefix"
    port: int | str = service[1]
    if re.fullmatch(r"[+-]?[0-9]+", service[1], re.ASCII):  # strconv.Atoi
        port = int(service[1])
    tls = None
    if len(parts) == 2:
        secret = parts[1].split("=")
        tls = secret[1] if len(secret) > 1 else ""
    return host, path, path_type, service[0], port, tls


@settings(max_examples=500, deadline=None)
@given(rule_texts)
def test_parse_rule_reads_what_kubectl_reads(text: str) -> None:
    """Never more permissive than kubectl; what it accepts it reads as kubectl does; every
    refusal is a UsageError of one line."""
    try:
        host, path, tls = rules.parse_rule(text)
    except UsageError as err:
        assert "\n" not in str(err)
        return
    assert _kubectl_pattern(text)
    got = (host, path.path, path.path_type, path.backend.service, path.backend.port, tls)
    assert got == _kubectl_reading(text)


@settings(max_examples=300, deadline=None)
@given(valid_rules)
def test_valid_rules_parse_as_kubectl_reads_them(text: str) -> None:
    host, path, tls = rules.parse_rule(text)
    got = (host, path.path, path.path_type, path.backend.service, path.backend.port, tls)
    assert got == _kubectl_reading(text)


names = st.text(alphabet=NAME_ALPHABET, max_size=70) | st.text(alphabet="ab-.", max_size=300)


@settings(max_examples=500, deadline=None)
@given(names)
@example("a" * 253)
@example("a" * 254)
@example("a..b")
def test_subdomain(s: str) -> None:
    expected = SUBDOMAIN.fullmatch(s) is not None and len(s) <= 253
    assert (rules.subdomain_problem(s) is None) == expected


@settings(max_examples=500, deadline=None)
@given(names)
@example("a" * 63)
@example("a" * 64)
def test_labels(s: str) -> None:
    assert (rules.label_problem(s) is None) == (re.fullmatch(LABEL, s) is not None and len(s) <= 63)
    expected = DNS1035.fullmatch(s) is not None and len(s) <= 63
    assert (rules.dns1035_problem(s) is None) == expected


@settings(max_examples=500, deadline=None)
@given(names)
@example("*.example.com")
@example("*")
@example("a.*.com")
@example("10.0.0.1")
@example("1.2.3.4.5")
@example("256.1.1.1")
def test_host(s: str) -> None:
    is_ip = re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", s) is not None and all(
        int(p) <= 255 for p in s.split(".")
    )
    wild = WILDCARD.fullmatch(s) is not None
    plain = SUBDOMAIN.fullmatch(s) is not None and not is_ip
    assert (rules.host_problem(s) is None) == ((wild or plain) and len(s) <= 253)
    if rules.host_problem(s) is None:  # every host we accept is a Gateway API hostname
        assert GW_HOSTNAME.match(s)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="az09-A_", max_size=17))
@example("http")
@example("9080")
@example("a--b")
@example("-ab")
@example("abcdefghijklmnop")
def test_port_name(s: str) -> None:
    expected = (
        len(s) <= 15
        and re.fullmatch("[-a-z0-9]+", s) is not None
        and re.search("[a-z]", s) is not None
        and "--" not in s
        and not s.startswith("-")
        and not s.endswith("-")
    )
    assert (rules.port_name_problem(s) is None) == expected


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="aZ09-_./", max_size=80))
@example("example.com/key")
@example("/key")
@example("a/b/c")
@example("Example.com/key")
def test_qualified_name_and_label_value(s: str) -> None:
    prefix, slash, name = s.rpartition("/")
    expected = (
        NAME_PART.fullmatch(name) is not None
        and len(name) <= 63
        and (not slash or (SUBDOMAIN.fullmatch(prefix) is not None and len(prefix) <= 253))
    )
    assert (rules.qualified_name_problem(s) is None) == expected
    value_ok = LABEL_VALUE.fullmatch(s) is not None and len(s) <= 63
    assert (rules.label_value_problem(s) is None) == value_ok


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="a/%2fF#~ !:@é", max_size=12))
@example("%")
@example("%2")
@example("%zz")
def test_gateway_api_path_characters(s: str) -> None:
    assert path_chars_ok(s) == (GW_PATH.match(s) is not None)


# --------------------------------------------------------------------------------------------
# parsing


@pytest.mark.parametrize(
    ("rule", "host", "path", "path_type", "backend", "tls"),
    [
        ("foo.com/bar=svc1:8080,tls=my-cert", "foo.com", "/bar", "Exact", ("svc1", 8080),
         "my-cert"),
        ("/path=svc:port", "", "/path", "Exact", ("svc", "port"), None),
        ("foo.com/path*=svc:8080", "foo.com", "/path", "Prefix", ("svc", 8080), None),
        ("foo.com/*=svc:8080", "foo.com", "/", "Prefix", ("svc", 8080), None),
        ("foo.com/=svc:https,tls", "foo.com", "/", "Exact", ("svc", "https"), ""),
        ("foo.com/=svc:https,tls=", "foo.com", "/", "Exact", ("svc", "https"), ""),
        ("*.foo.com/a/b/*=svc:080", "*.foo.com", "/a/b/", "Prefix", ("svc", 80), None),
        ("/a*b=svc:1", "", "/a*b", "Exact", ("svc", 1), None),
        ("/**=svc:65535", "", "/*", "Prefix", ("svc", 65535), None),
        ("/x=s:h2c,tls=a.b-c", "", "/x", "Exact", ("s", "h2c"), "a.b-c"),
    ],
)
def test_parse_rule(
    rule: str, host: str, path: str, path_type: str, backend: tuple[str, int | str],
    tls: str | None,
) -> None:
    got_host, got_path, got_tls = rules.parse_rule(rule)
    assert (got_host, got_path.path, got_path.path_type, got_tls) == (host, path, path_type, tls)
    assert (got_path.backend.service, got_path.backend.port) == backend


def _tls(routes: rules.Routes) -> list[tuple[tuple[str, ...], str]]:
    return [(t.hosts, t.secret) for t in routes.tls]


def test_rules_grouped_by_host_in_order_of_first_appearance() -> None:
    routes = rules.routes_from_rules(["b.com/1=s:80", "/2=s:80", "a.com/3=s:80", "b.com/4=t:80",
                                      "/5=s:80"])
    assert [(r.host, [p.path for p in r.paths]) for r in routes.rules] == [
        ("b.com", ["/1", "/4"]), ("", ["/2", "/5"]), ("a.com", ["/3"])
    ]


@pytest.mark.parametrize(
    ("rule_args", "tls", "warnings"),
    [
        (["a.com/=s:80,tls=x", "b.com/=s:80,tls=x"], [(("a.com", "b.com"), "x")], 0),
        (["a.com/=s:80,tls", "b.com/=s:80,tls=y", "c.com/=s:80,tls"],
         [(("a.com", "c.com"), ""), (("b.com",), "y")], 0),
        (["/=s:80,tls=x", "a.com/=s:80,tls=x"], [(("a.com",), "x")], 0),
        (["/=s:80,tls=x", "/y=s:80,tls=z"], [((), "x")], 1),
        (["a.com/=s:80,tls=x", "a.com/y=s:80,tls=x"], [(("a.com",), "x")], 0),
        (["a.com/=s:80,tls=x", "a.com/y=s:80,tls"], [(("a.com",), "x")], 1),
        (["/=s:80,tls"], [], 1),
        (["a.com/=s:80", "a.com/y=s:80,tls=x"], [(("a.com",), "x")], 0),
    ],
)
def test_tls_as_kubectl_builds_it(
    rule_args: list[str], tls: list[tuple[tuple[str, ...], str]], warnings: int
) -> None:
    routes = rules.routes_from_rules(rule_args)
    assert _tls(routes) == tls
    assert len(routes.warnings) == warnings


def test_short_form() -> None:
    routes = rules.routes_from_service(
        "productpage:9080", ["/productpage", "/login"], "bookinfo.example.com", None, "cert"
    )
    backend = routes.rules[0].paths[0].backend
    assert (backend.service, backend.port) == ("productpage", 9080)
    assert [(r.host, [(p.path, p.path_type) for p in r.paths]) for r in routes.rules] == [
        ("bookinfo.example.com", [("/productpage", "Prefix"), ("/login", "Prefix")])
    ]
    assert _tls(routes) == [(("bookinfo.example.com",), "cert")]
    # no path: everything; a '*' is literal; no host: TLS for every host
    routes = rules.routes_from_service("web:http", [], None, "Exact", "cert")
    assert [(p.path, p.path_type) for p in routes.rules[0].paths] == [("/", "Exact")]
    assert _tls(routes) == [((), "cert")]
    routes = rules.routes_from_service("web:80", ["/a*"])
    assert [(p.path, p.path_type) for p in routes.rules[0].paths] == [("/a*", "Prefix")]


def test_route_names() -> None:
    assert rules.route_names("x", ["a.com"], "HTTPRoute") == ["x"]
    assert rules.route_names("x", ["a.com", "*.a.com", ""], "HTTPRoute") == [
        "x-a.com", "x-wildcard.a.com", "x-catch-all"
    ]
    assert rules.route_names("x", ["wildcard.a.com", "*.a.com"], "HTTPRoute") == ["x-1", "x-2"]
    with pytest.raises(UsageError, match="more than 253 characters"):
        rules.route_names("x" * 250, ["a.com", "b.com"], "HTTPRoute")


def test_model_records_are_frozen() -> None:
    path = PathRule("/", "Prefix", Backend("s", 80))
    routes = rules.Routes((HostRule("", (path,)),), (TLS((), "x"),))
    assert routes.default_backend is None and routes.warnings == ()
    with pytest.raises(AttributeError):
        routes.tls = ()  # type: ignore[misc]
