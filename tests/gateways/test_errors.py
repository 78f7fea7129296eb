"""Every usage error of ``create ingress``: one line, exit code 2, its exact text.

(Rule-grammar errors that kubectl shares or differs on are in test_kubectl_equivalence.py.)
"""

from __future__ import annotations

import pytest

from meshctl.commands.create_ingress import create_ingress
from meshctl.errors import EXIT_USAGE, UsageError
from tests.gateways.args import options

SUBDOMAIN = (
    "must consist of lower case alphanumeric characters, '-' or '.', and must start and end "
    "with an alphanumeric character"
)

CASES = [
    # choices
    ("x --rule /=web:80 --style nginx",
     "--style 'nginx' is not one of ingress, ingress-v1beta1, istio, gateway-api"),
    ("x --rule /=web:80 --output-format toml",
     "--output-format 'toml' is not one of yaml, json"),
    ("x --service web:80 --path-type prefix",
     "--path-type 'prefix' is not one of Prefix, Exact, ImplementationSpecific"),
    # names
    ("Bookinfo --rule /=web:80", f"invalid name 'Bookinfo': a name {SUBDOMAIN}"),
    ("book_info --rule /=web:80", f"invalid name 'book_info': a name {SUBDOMAIN}"),
    (f"{'a' * 254} --rule /=web:80",
     f"invalid name '{'a' * 254}': a name must be no more than 253 characters"),
    ("x -n my.ns --rule /=web:80",
     "invalid namespace 'my.ns': a namespace must consist of lower case alphanumeric characters "
     "or '-', and must start and end with an alphanumeric character"),
    ("x --class Istio --rule /=web:80", f"--class 'Istio': a class name {SUBDOMAIN}"),
    # flags that do not go together
    ("x --rule /=web:80 --service web:80",
     "--rule and --service do not go together: give routes either as --rule or as --service "
     "with --path"),
    ("x --rule /=web:80 --path /a",
     "--path needs --service (with --rule, each rule has its own host, path and tls)"),
    ("x --rule /=web:80 --host a.com",
     "--host needs --service (with --rule, each rule has its own host, path and tls)"),
    ("x --default-backend web:80 --path-type Exact",
     "--path-type needs --service (with --rule, each rule has its own host, path and tls)"),
    ("x --rule /=web:80 --tls-secret cert",
     "--tls-secret needs --service (with --rule, each rule has its own host, path and tls)"),
    ("x --rule /=web:80 --gateway-selector istio=gw",
     "--gateway-selector applies to --style istio only"),
    ("x --rule /=web:80 --style istio --class istio",
     "--class does not apply to --style istio: its Gateway picks the gateway pods by "
     "--gateway-selector"),
    ("x --rule /=web:80 --class istio --annotation kubernetes.io/ingress.class=nginx",
     "--annotation kubernetes.io/ingress.class=nginx contradicts --class istio: Kubernetes "
     "refuses an Ingress whose class annotation and class differ"),
    ("x --rule /=web:80 --style ingress-v1beta1 --class a --annotation "
     "kubernetes.io/ingress.class=b",
     "--annotation kubernetes.io/ingress.class=b contradicts --class a: Kubernetes refuses an "
     "Ingress whose class annotation and class differ"),
    # the short form
    ("x --service web", "--service 'web' should be in format servicename:serviceport"),
    ("x --service web:80:81", "--service 'web:80:81' should be in format servicename:serviceport"),
    ("x --service Web:80",
     "--service 'Web:80': service name 'Web' must consist of lower case alphanumeric characters "
     "or '-', start with an alphabetic character, and end with an alphanumeric character"),
    ("x --service web:99999", "--service 'web:99999': port 99999 is out of range (1-65535)"),
    ("x --service web:http-web-frontend",
     "--service 'web:http-web-frontend': port 'http-web-frontend' is neither a number "
     "(1-65535) nor a valid port name: a port name must be no more than 15 characters"),
    ("x --service web:80 --path productpage",
     "--path 'productpage' must be an absolute path (start with '/')"),
    ("x --service web:80 --path /a/../b", "--path '/a/../b' must not contain '/../'"),
    ("x --service web:80 --path /a/.", "--path '/a/.' must not end with '/.'"),
    ("x --service web:80 --path ''", "--path '' must not be empty"),
    ("x --service web:80 --host '*'",
     "--host: host '*' must be a DNS-1123 subdomain, or a wildcard one whose first label is '*' "
     "alone (*.example.com)"),
    ("x --service web:80 --tls-secret My_Cert",
     f"--tls-secret: secret name 'My_Cert' {SUBDOMAIN}"),
    # annotations, selector
    ("x --rule /=web:80 --annotation 'bad key=v'",
     "annotation key 'bad key' must have a name part of alphanumeric characters, '-', '_' or "
     "'.', that starts and ends with an alphanumeric character"),
    ("x --rule /=web:80 --annotation ex_ample.com/k=v",
     "annotation key 'ex_ample.com/k' must have a DNS-1123 subdomain before '/' "
     "(example.com/my-key)"),
    ("x --rule /=web:80 --style istio --gateway-selector istio",
     "--gateway-selector 'istio' is invalid and should be in format key=[value]"),
    ("x --rule /=web:80 --style istio --gateway-selector 'istio=in gress'",
     "--gateway-selector: value 'in gress' of label 'istio' must be empty or consist of "
     "alphanumeric characters, '-', '_' or '.', and start and end with an alphanumeric "
     "character"),
    # what a style cannot express
    ("x --rule /=web:http --style istio",
     "--style istio: port 'http' of service 'web' is a name, but a VirtualService destination "
     "takes a port number (SERVICE:NUMBER)"),
    ("x --rule /=web:80 --default-backend web:http --style gateway-api",
     "--style gateway-api: port 'http' of service 'web' is a name, but an HTTPRoute backendRef "
     "takes a port number (SERVICE:NUMBER)"),
    ("x --rule a.com/=web:80,tls --style istio",
     "--style istio: TLS for a.com has no secret, and an Istio Gateway has no default "
     "certificate: use tls=SECRET"),
    ("x --rule a.com/=web:80,tls --rule b.com/=web:80,tls --style gateway-api",
     "--style gateway-api: TLS for a.com, b.com has no secret, and a Gateway API Gateway has "
     "no default certificate: use tls=SECRET"),
    ("x --service web:80 --path-type ImplementationSpecific --style gateway-api",
     "--style gateway-api: path type ImplementationSpecific has no Gateway API equivalent: use "
     "Prefix or Exact"),
    ("x --service web:80 --path '/a b' --style gateway-api",
     "--style gateway-api: path '/a b' must be at most 1024 characters of A-Z a-z 0-9 "
     "-/._~!$&'()*+,;=:@ or %XX escapes"),
    ("x --service web:80 --path '/a#b' --style gateway-api",
     "--style gateway-api: path '/a#b' must be at most 1024 characters of A-Z a-z 0-9 "
     "-/._~!$&'()*+,;=:@ or %XX escapes"),
    ("x --rule /=web:80 --style gateway-api --class=",
     "--style gateway-api needs a gateway class: --class must not be empty"),
    (" ".join(["x", "--style", "gateway-api"] + [f"--rule=/{i}=s{i}:80" for i in range(17)]),
     "--style gateway-api: an HTTPRoute has at most 16 rules, one per backend of a host (and "
     "one for the default backend); this host needs 17"),
    (" ".join(["x", "--style", "gateway-api", "--service", "web:80"]
              + [f"--path=/{i}" for i in range(65)]),
     "--style gateway-api: an HTTPRoute has at most 64 paths per backend and 128 in all"),
    (" ".join(["x", "--style", "gateway-api"]
              + [f"--rule=h{i}.com/=s:80,tls=c" for i in range(64)]),
     "--style gateway-api: a Gateway has at most 64 listeners, one for HTTP and one per TLS "
     "host"),
]


@pytest.mark.parametrize(("args", "message"), CASES, ids=[c[0][:60] for c in CASES])
def test_usage_error(args: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        create_ingress(options(args))
    assert str(err.value) == message
    assert "\n" not in str(err.value)
    assert err.value.exit_code == EXIT_USAGE


def test_limits_are_exact() -> None:
    """One under each Gateway API limit is fine."""
    rule_args = ["x", "--style", "gateway-api"] + [f"--rule=/{i}=s{i}:80" for i in range(16)]
    assert len(create_ingress(options(rule_args)).objects) == 2
    rule_args = ["x", "--style", "gateway-api", "--service", "web:80"]
    assert create_ingress(options(rule_args + [f"--path=/{i}" for i in range(64)]))
    tls_args = ["x", "--style", "gateway-api"] + [f"--rule=h{i}.com/=s:80,tls=c" for i in range(63)]
    gateway = create_ingress(options(tls_args)).objects[0]
    assert len(gateway["spec"]["listeners"]) == 64


def test_annotation_value_that_is_not_utf8() -> None:
    """An undecodable argument byte reaches Python as a lone surrogate: refused, not crashed."""
    with pytest.raises(UsageError) as err:
        create_ingress(options(["x", "--rule", "/=web:80", "--annotation", "k=a\udcffb"]))
    assert str(err.value) == "the value of annotation 'k' is not valid UTF-8 text"
