"""The use case as the CLI will call it: options in, text + objects + warnings out; what it
imports; the styles against each other."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from meshctl.commands.create_ingress import (
    V1BETA1_WARNING,
    CreateIngressOptions,
    create_ingress,
)
from tests.conftest import ROOT
from tests.gateways import schemas
from tests.gateways.args import options
from tests.gateways.test_kubectl_equivalence import SAME

#: what the command must not load (the injection engine, YAML libraries, click...), nor the
#: modules the start-up rule keeps off the path of every run
FORBIDDEN = ("click", "gotpl", "ruamel", "yaml", "jsonpatch", "rich", "meshctl.sidecar",
             "meshctl.gotemplate", "meshctl.commands.pipeline", "meshctl.yamltext",
             "meshctl.manifests", "meshctl.cli", "dataclasses", "typing", "re", "json", "inspect")

BOOKINFO = "bookinfo --service productpage:9080 --path /productpage --path /login --path /logout"


def test_imports_only_what_it_needs() -> None:
    code = (
        "from meshctl.commands.create_ingress import CreateIngressOptions, create_ingress\n"
        "for style in ('ingress', 'ingress-v1beta1', 'istio', 'gateway-api'):\n"
        "    create_ingress(CreateIngressOptions('x', rules=('a.com/*=s:80,tls=c',),"
        " style=style))\n"
    )
    res = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True,
                         text=True, cwd=ROOT, timeout=60)
    assert res.returncode == 0, res.stderr
    modules = {line.rsplit("|", 1)[1].strip() for line in res.stderr.splitlines()
               if line.startswith("import time:")}
    assert "meshctl.gateways.rules" in modules
    prefixes = tuple(f + "." for f in FORBIDDEN)
    assert sorted(m for m in modules if m in FORBIDDEN or m.startswith(prefixes)) == []


def test_result() -> None:
    result = create_ingress(options(BOOKINFO))
    assert isinstance(result.objects, tuple) and len(result.objects) == 1
    assert result.warnings == ()
    assert yaml.safe_load(result.text) == result.objects[0]
    spec = result.objects[0]["spec"]
    assert spec["ingressClassName"] == "istio"
    assert [p["path"] for p in spec["rules"][0]["http"]["paths"]] == [
        "/productpage", "/login", "/logout"
    ]
    # the record's defaults are the flags' defaults
    assert create_ingress(CreateIngressOptions("bookinfo", service="productpage:9080",
                                               paths=("/productpage", "/login", "/logout"))
                          ).text == result.text


def test_v1beta1_warns_and_json_is_one_object_or_a_list() -> None:
    result = create_ingress(options(BOOKINFO + " --style ingress-v1beta1 --output-format json"))
    assert result.warnings == (V1BETA1_WARNING,)
    assert json.loads(result.text) == result.objects[0]
    result = create_ingress(options(BOOKINFO + " --style istio --output-format json"))
    doc = json.loads(result.text)
    assert doc["kind"] == "List" and doc["items"] == list(result.objects)
    assert [o["kind"] for o in doc["items"]] == ["Gateway", "VirtualService"]


@pytest.mark.parametrize(
    ("flags", "class_name", "annotation"),
    [
        ("", "istio", None),
        ("--class nginx", "nginx", None),
        ("--class=", None, None),
        ("--annotation kubernetes.io/ingress.class=nginx", "nginx", "nginx"),
        ("--class nginx --annotation kubernetes.io/ingress.class=nginx", "nginx", "nginx"),
        ("--class= --annotation kubernetes.io/ingress.class=nginx", None, "nginx"),
    ],
)
def test_ingress_class(flags: str, class_name: str | None, annotation: str | None) -> None:
    v1 = create_ingress(options(f"x --rule /=web:80 {flags}")).objects[0]
    assert v1["spec"].get("ingressClassName") == class_name
    assert v1["metadata"].get("annotations", {}).get("kubernetes.io/ingress.class") == annotation
    old = create_ingress(options(f"x --rule /=web:80 --style ingress-v1beta1 {flags}")).objects[0]
    assert "ingressClassName" not in old["spec"]
    assert old["metadata"].get("annotations", {}).get("kubernetes.io/ingress.class") == (
        class_name or annotation
    )


@pytest.mark.parametrize("args", SAME + [BOOKINFO.split(" ", 1)[1]])
def test_v1beta1_is_the_v1_object_in_the_old_schema(args: str) -> None:
    """The API server's conversion of the v1beta1 object is the v1 object, field for field."""
    if "--annotation kubernetes.io/ingress.class" in args:
        pytest.skip("the class annotation stays an annotation in v1")
    v1 = create_ingress(options(f"demo {args}")).objects[0]
    old = create_ingress(options(f"demo {args} --style ingress-v1beta1")).objects[0]
    assert schemas.v1beta1_as_v1(old) == v1


@pytest.mark.skipif(schemas.legacy_archive() is None,
                    reason=f"set {schemas.LEGACY_ENV} to kubernetes-validate 1.21.0's sdist")
@pytest.mark.parametrize("args", SAME + [BOOKINFO.split(" ", 1)[1]])
def test_v1beta1_validates_on_kubernetes_1_21(args: str) -> None:
    old = create_ingress(options(f"demo {args} --style ingress-v1beta1")).objects[0]
    assert schemas.legacy_errors(old) == []


GATEWAY_CASES = [
    "--rule=foo.com/bar=svc1:8080,tls=my-cert",
    "--rule='foo.com/path*=svc:8080' --rule='bar.com/admin*=svc2:8081'",
    "--default-backend=web:80",
    "--default-backend=web:80 --rule=a.example.com/x=api:81 --rule='/y*=api:81'",
    "--rule=a.example.com/1=s:80 --rule=b.example.com/2=s:80 --rule='a.example.com/3*=s:81' "
    "--rule=/4=s:82 --rule=b.example.com/5=t:80",
    "--rule='*.example.com/*=web:80,tls=wild' --rule='/=web:80,tls=catch'",
    "--rule=a.example.com/=web:80,tls=shared --rule=b.example.com/=web:80,tls=shared",
    "-n shop --rule=/=web:80 --annotation a=1 --annotation example.com/k=v",
    "--service web:80 --host a.example.com --path /a --path /b --path-type Exact",
    BOOKINFO.split(" ", 1)[1],
]


@pytest.mark.parametrize("style", ["istio", "gateway-api"])
@pytest.mark.parametrize("args", GATEWAY_CASES)
def test_gateway_styles_validate(style: str, args: str) -> None:
    for obj in create_ingress(options(f"demo {args} --style {style}")).objects:
        assert schemas.errors(obj) == []


def test_docs_example_is_the_real_output() -> None:
    """The istio example of docs/create-ingress.md is what the walkthrough's command prints."""
    doc = (ROOT / "docs" / "create-ingress.md").read_text()
    block = doc.split("### `istio`", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    assert block == create_ingress(options(BOOKINFO + " --style istio")).text
    assert BOOKINFO.split(" --path")[0].split(" ", 1)[1] in doc.replace(" \\\n    ", " ")
