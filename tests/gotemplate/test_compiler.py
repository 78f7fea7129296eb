"""The template compiler (:mod:`meshctl.gotemplate.compiler`) renders exactly what gotpl renders.

Differential tests: every template is rendered by gotpl and by its compiled form, and the strings
must be identical. The data are the real thing: every workload of Istio's golden inputs, with the
settings of every golden case, captured where :class:`meshctl.sidecar.render.Renderer` renders it,
and rendered through all eight templates of the Istio injector config and meshctl's own templates
(the built-in profile's sidecar, gateway, grpc-agent and grpc-simple). Small templates pin each
construct, including gotpl's own quirks.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import gotpl
import pytest
import yaml

from meshctl.gotemplate.compiler import Unsupported, compile_template
from meshctl.gotemplate.fast import FastTemplate
from meshctl.gotemplate.types import GoMap, GoStruct
from meshctl.sidecar.config import BUILTIN_TEMPLATES
from meshctl.sidecar.config.profile import builtin_inject_config
from meshctl.sidecar.funcs import NATIVE_FUNCTIONS, gotpl_functions
from meshctl.sidecar.kubetypes import OBJECT_META
from meshctl.sidecar.render import Renderer

TEMPLATE_FUNCTIONS = gotpl_functions()


def gotpl_template(source: str, name: str = "t") -> gotpl.Template:
    return gotpl.Template(source, name=name, functions=TEMPLATE_FUNCTIONS)


def outcome(render: Any, data: Any) -> tuple[str, str]:
    try:
        return ("ok", render(data))
    except Exception as exc:  # noqa: BLE001 - compared, not handled
        return ("error", type(exc).__name__)


def native_form(template: gotpl.Template) -> Any:
    """The template compiled for the gotpl-free runtime, or None (a function with no native
    implementation)."""
    try:
        return compile_template(template, native=NATIVE_FUNCTIONS)
    except Unsupported:
        return None


def assert_native_agrees(want: tuple[str, str], native: Any, data: Any) -> bool:
    """The native runtime renders what gotpl renders or gives up (gotpl then renders); it
    never renders where gotpl fails. True when it rendered."""
    got = outcome(native.render, data)
    if got[0] == "error":
        return False
    assert want == got, native.code
    return True


def assert_same(source: str, data: Any) -> str:
    template = gotpl_template(source)
    compiled = compile_template(template)
    want = outcome(template.render, data)
    got = outcome(compiled.render, data)
    native = native_form(template)
    if native is not None:
        assert_native_agrees(want, native, data)
    if want[0] == "ok":
        assert got == want, compiled.code
    else:
        assert got[0] == "error", (want, got, compiled.code)
        # the wrapper reports gotpl's own error
        with pytest.raises(gotpl.TemplateError):
            FastTemplate(template, NATIVE_FUNCTIONS).render(data)
    return want[1]


class Obj:
    """A plain object: attributes and Go-style methods."""

    def __init__(self) -> None:
        self.Name = "obj"
        self.Inner = {"k": "v"}

    def Greet(self, who: str = "you") -> str:  # noqa: N802 - a Go-style method
        return f"hi {who}"

    def Child(self) -> Obj:  # noqa: N802
        return self


DATA: dict[str, Any] = {
    "s": "str",
    "e": "",
    "n": 3,
    "z": 0,
    "f": 1.5,
    "big": 1e21,
    "t": True,
    "no": False,
    "none": None,
    "l": [1, "two", 3.0],
    "el": [],
    "m": {"b": 2, "a": 1, "c": None},
    "em": {},
    "gm": GoMap({"x": "1"}),
    "egm": GoMap(),
    "o": Obj(),
    "meta": GoStruct({"name": "p", "annotations": {"a/b": "c"}}, OBJECT_META),
    "nested": {"a": {"b": {"c": "deep"}}},
    "ls": [{"n": "a"}, {"n": "b"}, {"n": "c"}],
}

CONSTRUCTS = [
    # printing
    "{{ .s }}|{{ .n }}|{{ .f }}|{{ .big }}|{{ .t }}|{{ .no }}|{{ .none }}|{{ .missing }}",
    "{{ .l }}|{{ .m }}|{{ .em }}|{{ .gm }}|{{ .el }}|{{ . | len }}",
    "{{ 1 }} {{ 1.0 }} {{ 0x10 }} {{ 'a' }} {{ \"q\\n\" }} {{ `raw` }} {{ true }} {{ 1e3 }}",
    "{{ nil }}",
    # lookups
    "{{ .nested.a.b.c }}|{{ .nested.x.y }}|{{ .missing.deeper }}|{{ .gm.x }}|{{ .gm.nope }}",
    "{{ .o.Name }}|{{ .o.Greet }}|{{ .o.Child.Name }}|{{ .o.Inner.k }}|{{ .o.Nope }}",
    '{{ .o.Greet "me" }}|{{ "me" | .o.Greet }}',
    "{{ .meta.Name }}|{{ .meta.Annotations }}|{{ .meta.Labels }}|{{ .meta.UID }}",
    '{{ (index .ls 1).n }}|{{ (.nested.a).b.c }}|{{ index .m "a" }}|{{ index .gm "q" }}',
    # truth
    "{{ if .em }}a{{ else }}b{{ end }}{{ if .egm }}a{{ else }}b{{ end }}"
    "{{ if .gm }}c{{ end }}{{ if .z }}d{{ end }}{{ if .el }}e{{ end }}{{ if .o }}f{{ end }}"
    "{{ if .missing }}g{{ else if .e }}h{{ else if .n }}i{{ end }}{{ if .meta }}j{{ end }}",
    # and / or
    "{{ and .n .s }}|{{ and .z .s }}|{{ or .e .z }}|{{ or .e .s .n }}|{{ and .s }}",
    '{{ or .missing "dflt" }}|{{ and .t .missing }}|{{ .s | and .t }}|{{ .s | or .e }}',
    '{{ .z | and .t }}|{{ .missing | or .e }}|{{ or (eq .s "str") .x.y }}',
    # comparisons (the compat adapter's eq/ne)
    '{{ eq .s "str" }}{{ eq .n 3 }}{{ eq .missing "x" }}{{ ne .missing "x" }}'
    '{{ eq .s "a" "b" "str" }}{{ lt .n 4 }}{{ ge .f 1.5 }}{{ eq .n 3.0 }}{{ not .e }}',
    "{{ eq .s 1 }}",
    # pipelines
    '{{ .s | quote }}|{{ .missing | quote }}|{{ .missing | default "d" }}|'
    '{{ .s | upper | quote }}|{{ "x" | printf "%s-%s" "y" }}',
    "{{ .m | toJSON }}|{{ toYaml .ls | indent 2 }}|{{ .nested | toJson }}",
    '{{ (printf "%d" .n) | quote }}|{{ print .n .s .n }}|{{ println .s }}',
    "{{ len .l }}{{ len .s }}",
    "{{ .s 1 }}",
    "{{ upper }}",
    # variables
    '{{ $x := .s }}{{ $x }}{{ $x = "re" }}{{ $x }}{{ if .t }}{{ $x = "in" }}'
    "{{ $y := 1 }}{{ $y }}{{ end }}{{ $x }}",
    "{{ $x := 1 }}{{ if .t }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}",
    "{{ $ }}|{{ $.s }}|{{ with .nested }}{{ $.s }}{{ .a.b.c }}{{ end }}",
    "{{ if $v := .s }}{{ $v }}{{ else }}[{{ $v }}]{{ end }}"
    "{{ if $v := .e }}{{ $v }}{{ else }}[{{ $v }}]{{ end }}",
    # with
    "{{ with .nested.a }}{{ .b.c }}{{ end }}{{ with .missing }}x{{ else }}{{ .s }}{{ end }}"
    "{{ with $w := .n }}{{ $w }}{{ . }}{{ end }}{{ with .em }}x{{ else }}y{{ end }}",
    # range
    "{{ range .l }}[{{ . }}]{{ end }}{{ range $i, $v := .l }}{{ $i }}={{ $v }},{{ end }}",
    "{{ range $k, $v := .m }}{{ $k }}:{{ $v }} {{ end }}{{ range .m }}{{ . }}{{ end }}",
    "{{ range .el }}x{{ else }}empty{{ end }}{{ range .missing }}x{{ else }}none{{ end }}",
    "{{ range $v := .ls }}{{ $v.n }}{{ .n }}{{ end }}{{ range 3 }}{{ . }}{{ end }}",
    '{{ range .ls }}{{ if eq .n "b" }}B{{ else }}{{ .n }}{{ end }}{{ end }}',
    '{{ $c := "" }}{{ range .ls }}{{ $c = print $c .n }}{{ end }}{{ $c }}',
    "{{ range .ls }}{{ .n }}{{ break }}{{ end }}{{ range .ls }}{{ continue }}x{{ end }}.",
    "{{ range $i, $e := .ls }}{{ range $.l }}{{ $i }}{{ . }}{{ end }}{{ end }}",
    "{{ range .s }}x{{ end }}",
    # whitespace trimming
    "a  {{- .s -}}  b\n  {{- if .t }}\n  c\n  {{- end }}\n",
    # templates
    '{{ define "x" }}[{{ . }}|{{ $ }}]{{ end }}{{ template "x" .s }}'
    '{{ template "x" }}{{ template "x" .l }}',
    '{{ define "r" }}{{ if . }}{{ len . }}{{ template "r" (slice . 1) }}{{ end }}{{ end }}'
    '{{ template "r" .l }}',
    '{{ block "b" .n }}<{{ . }}>{{ end }}',
    # functions from Istio's map and Sprig
    '{{ annotation .meta "a/b" "d" }}|{{ annotation .meta "x" 7 }}|'
    '{{ valueOrDefault .e "v" }}|{{ .s | contains "tr" }}|{{ toLower "AB" }}',
    '{{ ternary "a" "b" .t }}|{{ hasKey .m "a" }}|{{ join "," (list 1 2) }}|'
    '{{ dict "a" 1 | toJson }}|{{ default "x" .e }}|{{ empty .em }}',
    "{{ join 1 2 }}",
    # more of gotpl's own semantics
    '{{ .missing | .o.Greet }}|{{ (.o.Child).Name }}|{{ .o.Child.Greet "x" }}',
    "{{ with $x := .missing }}a{{ else }}[{{ $x }}]{{ end }}",
    "{{ $ = .s }}{{ $ }}{{ $.x }}",
    "{{ range .ls }}{{ $x := .n }}{{ $x }}{{ end }}{{ range $v := .m }}{{ $v }}{{ end }}",
    '{{ define "v" }}{{ $x := 1 }}{{ $x }}{{ end }}{{ $x := 2 }}{{ template "v" }}{{ $x }}',
    "{{ if .e }}a{{ else if .t }}b{{ end }}"
    "{{ with .e }}a{{ else }}{{ with .s }}{{ . }}{{ end }}{{ end }}",
    "{{ range $i, $c := .ls }}{{ if $i }},{{ end }}{{ $c.n | quote }}{{ end }}",
    '{{ $o := .o }}{{ $o.Greet }}{{ $o.Greet "v" }}{{ .o.Greet | quote }}',
    "{{ .o }}",
    '{{ template "nope" }}',
]


@pytest.mark.parametrize("source", CONSTRUCTS)
def test_construct(source: str) -> None:
    assert_same(source, DATA)


def test_constructs_are_not_trivial() -> None:
    """The unit templates exercise real output (and some errors), not empty strings."""
    outputs = [outcome(gotpl_template(s).render, DATA) for s in CONSTRUCTS]
    errors = sum(kind == "error" for kind, _ in outputs)
    assert sum(kind == "ok" and bool(text) for kind, text in outputs) + errors == len(CONSTRUCTS)
    assert 4 <= errors <= 10


def test_known_outputs() -> None:
    """A few results pinned by hand: the compiled code does what Go would."""
    assert assert_same('{{ .missing | default "d" }}', DATA) == "d"
    assert assert_same("{{ range $k, $v := .m }}{{ $k }}{{ end }}", DATA) == "abc"
    assert assert_same("{{ if .egm }}y{{ else }}n{{ end }}", DATA) == "n"
    assert assert_same('{{ or .e .z "x" }}', DATA) == "x"
    assert assert_same("{{ .o.Greet }}", DATA) == "hi you"


@pytest.mark.parametrize(
    "source",
    [
        "{{ range .ls }}{{ if .n }}{{ break }}{{ end }}{{ end }}",
        "{{ range .ls }}{{ with .n }}{{ continue }}{{ end }}{{ end }}",
        "{{ $x := 1 }}{{ range .l }}{{ $x }}{{ $x := 2 }}{{ end }}",
    ],
)
def test_unsupported_falls_back(source: str) -> None:
    template = gotpl_template(source)
    with pytest.raises(Unsupported):
        compile_template(template)
    fast = FastTemplate(template, NATIVE_FUNCTIONS)
    assert fast.compiled is None and fast.reason
    assert fast.render(DATA) == template.render(DATA)


def test_fast_template_reports_gotpl_errors() -> None:
    template = gotpl_template("{{ eq .s 1 }}")
    fast = FastTemplate(template, NATIVE_FUNCTIONS)
    assert fast.compiled is not None
    with pytest.raises(gotpl.TemplateError) as want:
        template.render(DATA)
    with pytest.raises(gotpl.TemplateError) as got:
        fast.render(DATA)
    assert str(got.value) == str(want.value)


# --------------------------------------------------------------------------------------------
# Differential: real templates, real template data


_COMPILED: dict[int, tuple[gotpl.Template, Any, Any]] = {}


def _compiled(template: gotpl.Template) -> tuple[Any, Any]:
    """The template compiled for gotpl's runtime and for the native one (None: unsupported)."""
    entry = _COMPILED.get(id(template))
    if entry is None or entry[0] is not template:
        entry = _COMPILED[id(template)] = (
            template, compile_template(template), native_form(template))
    return entry[1], entry[2]


@functools.cache
def _meshctl_templates() -> tuple[tuple[str, gotpl.Template], ...]:
    """The built-in profile's templates, named ``meshctl-<name>``."""
    sources = builtin_inject_config()["templates"]
    return tuple((f"meshctl-{name}", gotpl_template(sources[name], f"meshctl-{name}"))
                 for name in BUILTIN_TEMPLATES)


class Capture:
    """Wraps :meth:`Renderer.render_text`: every template of the renderer (and meshctl's own
    templates) is rendered by gotpl and compiled with the data the injector built."""

    def __init__(self) -> None:
        self.compared = 0
        self.errors_both = 0
        self.mismatches: list[str] = []
        self.pods = 0
        self.rendered: set[str] = set()
        self.native_rendered: dict[str, int] = {}
        self.native_fallbacks: dict[str, int] = {}

    def check(self, renderer: Renderer, data: Mapping[str, Any]) -> None:
        self.pods += 1
        templates = [(n, renderer.template(n)) for n in renderer.names]
        templates.extend(_meshctl_templates())
        gateway = gateway_data(data, self.pods)
        for name, template in templates:
            compiled, native = _compiled(template)
            for variant in (data, gateway):
                want = outcome(template.render, variant)
                got = outcome(compiled.render, variant)
                if native is not None:
                    tally = (self.native_rendered if assert_native_agrees(want, native, variant)
                             else self.native_fallbacks)
                    tally[name] = tally.get(name, 0) + 1
                self.compared += 1
                if want[0] == "error" and got[0] == "error":
                    self.errors_both += 1
                elif want != got:
                    self.mismatches.append(f"{name}: want {want[1][:200]!r} got {got[1][:200]!r}")
                else:
                    self.rendered.add(name)


ALL_TEMPLATES = frozenset(
    {
        "sidecar",
        "gateway",
        "grpc-simple",
        "grpc-agent",
        "waypoint",
        "kube-gateway",
        "agentgateway",
        "agentgateway-waypoint",
        *(f"meshctl-{name}" for name in BUILTIN_TEMPLATES),
    }
)


def gateway_data(data: Mapping[str, Any], n: int) -> dict[str, Any]:
    """The sidecar data plus what Istio's gateway deployment controller adds (kube-gateway,
    waypoint and agentgateway templates read these), varied per pod."""
    ports = [
        GoStruct({"name": f"p{i}", "port": 80 + i, "protocol": "TCP", "appProtocol": "http"})
        for i in range(n % 3)
    ]
    labels = GoMap({"topology.istio.io/network": "net1"} if n % 2 else {})
    return {
        **data,
        "KubeVersion": 127 + n % 3,
        "DeploymentName": f"gw-{n}",
        "Name": f"gw{n}",
        "Namespace": "ns",
        "UID": f"uid-{n}",
        "ServiceAccount": f"sa-{n}",
        "ServiceType": "LoadBalancer" if n % 2 else "ClusterIP",
        "Ports": ports,
        "InfrastructureLabels": labels,
        "InfrastructureAnnotations": GoMap({"a": "b"} if n % 3 else {}),
        "GatewayClass": "istio",
        "GatewayNameLabel": f"gw{n}",
        "ClusterID": "Kubernetes",
        "ControllerLabel": "istio.io-mesh-controller",
        "AgentgatewayImage": "agw:1",
    }


def _golden_cases() -> list[dict[str, Any]]:
    from tests.conformance import test_engine_goldens as goldens

    return goldens.CASES


def _run(monkeypatch: pytest.MonkeyPatch, capture: Capture, cases: list[dict[str, Any]]) -> None:
    from tests.conformance import test_engine_goldens as goldens

    original = Renderer.render_text

    def spy(self: Renderer, name: str, data: Mapping[str, Any]) -> str:
        if (id(self), id(data)) not in seen:
            seen.add((id(self), id(data)))
            keep.append(data)  # ids stay unique while the data live
            capture.check(self, data)
        return original(self, name, data)

    seen: set[tuple[int, int]] = set()
    keep: list[Any] = []
    monkeypatch.setattr(Renderer, "render_text", spy)
    for case in cases:
        goldens.run_case(case)


def test_golden_corpus_renders_identically(monkeypatch: pytest.MonkeyPatch) -> None:
    capture = Capture()
    cases = _golden_cases()
    _run(monkeypatch, capture, cases)
    assert not capture.mismatches, "\n".join(capture.mismatches[:20])
    assert capture.pods >= len(cases)  # every case renders at least one pod
    assert capture.compared >= 18 * capture.pods
    # every template rendered (the compiled code, not a fallback) for some pods
    assert capture.rendered >= ALL_TEMPLATES, capture.rendered
    assert capture.errors_both <= capture.compared // 2
    # every template has a native form, and it renders nearly every pod without gotpl
    assert set(capture.native_rendered) >= ALL_TEMPLATES, capture.native_rendered
    for name in ("sidecar", *(f"meshctl-{name}" for name in BUILTIN_TEMPLATES)):
        rendered = capture.native_rendered[name]
        assert rendered >= 0.95 * (rendered + capture.native_fallbacks.get(name, 0)), (
            name, rendered, capture.native_fallbacks)


def test_meshctl_profile_renders_identically(monkeypatch: pytest.MonkeyPatch) -> None:
    """meshctl's built-in profile (its own values and mesh config) on the golden inputs."""
    from meshctl.manifests.find import pod_template_path
    from meshctl.options import Options
    from meshctl.sidecar.config.profile import settings_for
    from meshctl.sidecar.inject import Injector
    from tests.conformance.test_engine_goldens import GOLDEN

    capture = Capture()
    original = Renderer.render_text

    def spy(self: Renderer, name: str, data: Mapping[str, Any]) -> str:
        capture.check(self, data)
        return original(self, name, data)

    monkeypatch.setattr(Renderer, "render_text", spy)
    injector = Injector(settings_for(Options(filenames=())))
    for doc in _workloads(GOLDEN / "inject"):
        path = pod_template_path(doc)
        assert path is not None
        try:
            injector.inject(doc, path)
        except Exception:  # noqa: BLE001, S112 - bad inputs are part of the golden suite
            continue
    assert capture.pods >= 50
    assert not capture.mismatches, "\n".join(capture.mismatches[:20])
    for name in BUILTIN_TEMPLATES:
        assert capture.native_fallbacks.get(f"meshctl-{name}", 0) <= capture.pods // 20, (
            capture.native_fallbacks)


def _workloads(folder: Path) -> Iterator[dict[str, Any]]:
    from meshctl.manifests.find import pod_template_path

    for path in sorted(folder.glob("*.yaml")):
        if path.name.endswith((".injected", ".iop.yaml")) or "mesh" in path.name:
            continue
        try:
            docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except yaml.YAMLError:
            continue
        for doc in docs:
            items = (
                doc.get("items") if isinstance(doc, dict) and doc.get("kind") == "List" else [doc]
            )
            for item in items if isinstance(items, list) else ():
                if isinstance(item, dict) and pod_template_path(item) is not None:
                    yield item


def test_cached_compiled_templates_render_identically(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The compiled form stored in the persistent cache (code object + constants) renders
    exactly like gotpl, and a second Renderer really loads it instead of compiling."""
    from meshctl.gotemplate import compiler
    from tests.conformance import test_engine_goldens as goldens

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("MESHCTL_NO_CACHE", raising=False)
    monkeypatch.delenv("MESHCTL_COMPILED_TEMPLATES", raising=False)

    seen: list[tuple[str, Any]] = []
    original = Renderer.render_text

    def spy(self: Renderer, name: str, data: Mapping[str, Any]) -> str:
        seen.append((name, data))
        return original(self, name, data)

    monkeypatch.setattr(Renderer, "render_text", spy)
    cases = [c for c in goldens.all_cases() if not c.get("expect_error_containing")][:40]
    for case in cases:
        goldens.run_case(case)
    monkeypatch.setattr(Renderer, "render_text", original)
    assert len(seen) >= 40

    settings = goldens.injector_for(cases[0]).settings
    Renderer(settings, compiled=True)  # compiles and stores the default templates
    assert list((tmp_path / "meshctl").glob("native-*")), "nothing stored"
    compiled_fresh = []
    monkeypatch.setattr(
        compiler, "compile_template",
        lambda *a, **k: compiled_fresh.append(a) or pytest.fail("compiled again, not loaded"),
    )  # fmt: skip
    cached = Renderer(settings, compiled=True)
    assert not compiled_fresh
    sidecar = cached._fast["sidecar"]  # type: ignore[index]  # noqa: SLF001
    assert getattr(sidecar, "__self__", None).__class__.__name__ == "NativeTemplate"
    rendered = 0
    for name, data in seen:
        if name != "sidecar":
            continue
        want = cached.template(name).render(data)
        assert sidecar(data) == want
        rendered += 1
    assert rendered >= 20
