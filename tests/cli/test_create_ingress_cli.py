"""``meshctl create ingress`` through the command line (both paths compared by ``run_cli``):
manifests on stdout, warnings on stderr, one-line usage errors, and no injection engine or
click loaded by a plain command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from meshctl.commands.create_ingress import CreateIngressOptions, create_ingress
from meshctl.errors import EXIT_USAGE
from tests.clirunner import run_cli
from tests.conftest import ROOT

WALKTHROUGH = ["create", "ingress", "bookinfo", "--service", "productpage:9080",
               "--path", "/productpage", "--path", "/login", "--path", "/logout"]


def test_walkthrough_command_prints_the_use_case_output() -> None:
    res = run_cli(WALKTHROUGH)
    want = create_ingress(CreateIngressOptions(
        "bookinfo", service="productpage:9080", paths=("/productpage", "/login", "/logout")))
    assert (res.rc, res.stdout, res.stderr) == (0, want.text, "")
    (ingress,) = list(yaml.safe_load_all(res.stdout))
    assert ingress["spec"]["ingressClassName"] == "istio"
    paths = ingress["spec"]["rules"][0]["http"]["paths"]
    assert [p["path"] for p in paths] == ["/productpage", "/login", "/logout"]


def test_every_style_and_json() -> None:
    for style, kinds in (("ingress", ["Ingress"]), ("ingress-v1beta1", ["Ingress"]),
                         ("istio", ["Gateway", "VirtualService"]),
                         ("gateway-api", ["Gateway", "HTTPRoute"])):
        res = run_cli([*WALKTHROUGH, "--style", style])
        assert res.rc == 0
        assert [d["kind"] for d in yaml.safe_load_all(res.stdout)] == kinds
        assert (res.stderr != "") == (style == "ingress-v1beta1")  # the 1.22 warning
    res = run_cli([*WALKTHROUGH, "--output-format", "json"])
    assert json.loads(res.stdout)["kind"] == "Ingress"


def test_usage_errors_are_one_line() -> None:
    for args in (["create", "ingress", "Bad_Name", "--service", "a:80"],
                 ["create", "ingress", "x", "--rule", "no-equals-sign"],
                 ["create", "ingress", "x", "--service", "a:80", "--rule", "/=b:80"],
                 ["create", "ingress", "x", "--service", "a:notaport!"],
                 ["create", "ingress"],
                 ["create", "ingress", "x", "--style", "nginx"]):
        res = run_cli(args)
        assert (res.rc, res.stdout) == (EXIT_USAGE, ""), args
        assert res.stderr.startswith("meshctl: error: ") and res.stderr.count("\n") == 1, args


def test_plain_command_line_loads_no_click_and_no_engine() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from meshctl.cli.main import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()): rc = main({WALKTHROUGH!r})\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('click', 'gotpl', 'ruamel', "
        "'yaml', 'rich') or m.startswith(('meshctl.sidecar', 'meshctl.gotemplate', "
        "'meshctl.yamltext', 'meshctl.commands.pipeline'))]\n"
        "print(rc, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "MESHCTL_NO_CACHE": "1"}, check=True)
    assert out.stdout.strip() == "0 []"
