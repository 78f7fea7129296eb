"""Render: Istio's injection templates, compiled once, rendered per pod into partial pods.

:class:`Renderer` compiles every template of the settings once (gotpl, Sprig + Istio's function
map + the Go fixes of :mod:`meshctl.gotemplate.gotpl_adapter`). :func:`template_data` builds Istio's
``SidecarTemplateData`` (``.ObjectMeta``, ``.Spec``, ``.ProxyConfig`` ...) as Go-shaped views over
the pod's own dicts: nothing is copied. :meth:`Renderer.render` runs one template and parses its
YAML output; :func:`select_templates` resolves ``inject.istio.io/templates`` and aliases.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from meshctl.errors import ConfigError, MeshctlError
from meshctl.gotemplate.environ import allow as allow_environment
from meshctl.gotemplate.goyaml import ShapeCache
from meshctl.gotemplate.native import has_native, load_native
from meshctl.gotemplate.types import GoStruct, ProtoView
from meshctl.gotemplate.values import go_sprint
from meshctl.sidecar.config.meshconfig import MESH_CONFIG, PROXY_CONFIG, inbound_traffic_policy_mode
from meshctl.sidecar.config.settings import Settings
from meshctl.sidecar.funcs import NATIVE_FUNCTIONS
from meshctl.sidecar.kubetypes import NAMESPACED_NAME, OBJECT_META, POD_SPEC, TYPE_META
from meshctl.sidecar.names import IMAGE_TYPE, TEMPLATES
from meshctl.sidecar.workload import PodContext

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

    import gotpl

PROXY_UID: Final = 1337
KNOWN_IMAGE_TYPES: Final = ("distroless", "debug")


class InjectionError(MeshctlError):
    """The pod cannot be injected: a bad annotation, a missing template, a template that fails.

    Exported as :class:`meshctl.sidecar.inject.InjectionError`."""


def image_url(values: Mapping[str, Any], name: str, image_type: str,
              annotations: Mapping[str, Any]) -> str:
    """Istio's ``proxyImageURL``: ``hub/name:tag[-variant]``."""
    glob = values.get("global") if isinstance(values.get("global"), Mapping) else {}
    assert isinstance(glob, Mapping)
    tag = "" if glob.get("tag") is None else go_sprint(glob.get("tag"))
    if not image_type:
        image_type = str(glob.get("variant") or "")
    if IMAGE_TYPE in annotations:
        image_type = go_sprint(annotations[IMAGE_TYPE])
    if image_type:
        for known in KNOWN_IMAGE_TYPES:
            if tag.endswith("-" + known):
                tag = tag[: -len(known) - 1]
                break
        if image_type != "default":
            tag = f"{tag}-{image_type}"
    hub = "" if glob.get("hub") is None else go_sprint(glob.get("hub"))
    return f"{hub}/{name}:{tag}"


def _global_image(values: Mapping[str, Any], section: str) -> str:
    glob = values.get("global")
    sec = glob.get(section) if isinstance(glob, Mapping) else None
    image = sec.get("image") if isinstance(sec, Mapping) else None
    return go_sprint(image) if image else "proxyv2"


def proxy_image(values: Mapping[str, Any], proxy_config: Mapping[str, Any],
                annotations: Mapping[str, Any]) -> str:
    image = proxy_config.get("image")
    image_type = str(image.get("imageType") or "") if isinstance(image, Mapping) else ""
    return image_url(values, _global_image(values, "proxy"), image_type, annotations)


def proxy_init_image(values: Mapping[str, Any], annotations: Mapping[str, Any]) -> str:
    return image_url(values, _global_image(values, "proxy_init"), "", annotations)


def template_data(
    meta: Mapping[str, Any],
    spec: Mapping[str, Any],
    ctx: PodContext,
    mesh: Mapping[str, Any],
    settings: Settings,
    native_sidecars: bool,
) -> dict[str, Any]:
    """Istio's ``SidecarTemplateData`` for one (stripped) pod."""
    proxy_config = mesh.get("defaultConfig") or {}
    annotations = meta.get("annotations") or {}
    return {
        "TypeMeta": GoStruct({"kind": ctx.kind, "apiVersion": ctx.api_version}, TYPE_META),
        "DeploymentMeta": GoStruct({"Name": ctx.name, "Namespace": ctx.namespace},
                                   NAMESPACED_NAME),
        "ObjectMeta": GoStruct(meta, OBJECT_META),
        "Spec": GoStruct(spec, POD_SPEC),
        "ProxyConfig": ProtoView(proxy_config, PROXY_CONFIG),
        "MeshConfig": ProtoView(mesh, MESH_CONFIG),
        "Values": settings.values,
        "Revision": settings.revision,
        "NativeSidecars": native_sidecars,
        "ProxyImage": proxy_image(settings.values, proxy_config, annotations),
        "ProxyInitImage": proxy_init_image(settings.values, annotations),
        "ProxyUID": PROXY_UID,
        "ProxyGID": PROXY_UID,
        "InboundTrafficPolicyMode": inbound_traffic_policy_mode(mesh),
        "CompliancePolicy": settings.compliance_policy,
    }


def select_templates(annotations: Mapping[str, Any], settings: Settings) -> list[str]:
    """``inject.istio.io/templates`` (comma-separated) or the defaults, aliases expanded once."""
    if TEMPLATES in annotations:
        names = [n.strip() for n in go_sprint(annotations[TEMPLATES]).split(",")]
    else:
        names = list(settings.default_templates)
    out: list[str] = []
    for name in names:
        out.extend(settings.aliases.get(name, (name,)))
    return out


class Renderer:
    """All templates of one settings object, compiled once.

    Every template is checked here (a syntax error is a :class:`ConfigError` now, before any
    pod). With ``compiled`` (templates compiled to Python, :mod:`meshctl.gotemplate.compiler`),
    a template the persistent cache holds compiled for the native runtime
    (:mod:`meshctl.gotemplate.native`) is loaded from there without importing gotpl at all; gotpl
    is loaded only to compile a template the cache does not hold, or to render a pod the
    native code does not reproduce (and to report a template's errors). Otherwise gotpl
    renders, from its compiled templates in the cache
    (:func:`~meshctl.gotemplate.gotpl_adapter.template_loader`). The default templates are loaded
    here, the others (an Istio config has eight) when a pod first asks for them; with
    ``compiled``, a template the cache does not hold natively yet is compiled natively here
    (and stored), whether or not a pod uses it.
    """

    def __init__(self, settings: Settings, *, compiled: bool = False) -> None:
        self.settings = settings
        allow_environment(settings.template_env)  # what env/expandenv may read in this run
        self._loaders: dict[str, Callable[[], gotpl.Template]] = {}
        self._compiled: dict[str, gotpl.Template] = {}
        self._parsers: dict[str, ShapeCache] = {name: ShapeCache() for name in settings.templates}
        # templates compiled to Python (~5x faster per render, ~40 ms to compile once, then
        # kept in the persistent cache), gotpl as the fallback for anything unsupported.
        # MESHCTL_COMPILED_TEMPLATES=1/0 forces the choice either way.
        forced = os.environ.get("MESHCTL_COMPILED_TEMPLATES")
        if forced in ("0", "1"):
            compiled = forced == "1"
        self._fast: dict[str, Callable[[Any], str]] | None = {} if compiled else None
        for name, source in settings.templates.items():
            if self._fast is not None and has_native(source, name, NATIVE_FUNCTIONS):
                continue  # compiled without error before: it parses
            self._add_loader(name, source)
            if self._fast is not None:
                # gotpl is loaded and the template parsed: store its native form as well, so
                # that the next run finds every template of the profile (the built-in one has
                # four) in the cache and checks them without importing gotpl
                self._fast_render(name)
        # the templates most pods use: loaded now, so that forked workers inherit them
        for name in select_templates({}, settings):
            if name in settings.templates:
                if self._fast is not None:
                    self._fast_render(name)
                else:
                    self.template(name)

    @property
    def names(self) -> list[str]:
        return sorted(self.settings.templates)

    def _add_loader(self, name: str, source: str) -> None:
        from meshctl.gotemplate.gotpl_adapter import TemplateError, template_loader
        from meshctl.sidecar.funcs import gotpl_functions

        try:
            self._loaders[name] = template_loader(source, name, gotpl_functions())
        except TemplateError as exc:
            raise ConfigError(f"template {name!r} does not parse: {exc}") from None

    def not_found(self, name: str) -> str:
        """The message for a template the settings do not have (Istio's words)."""
        return f"requested template {name!r} not found; have {', '.join(self.names)}"

    def _check_name(self, name: str) -> str:
        source = self.settings.templates.get(name)
        if source is None:
            raise InjectionError(self.not_found(name))
        return source

    def template(self, name: str) -> gotpl.Template:
        """The gotpl template ``name`` (loaded from the cache on first use)."""
        template = self._compiled.get(name)
        if template is None:
            source = self._check_name(name)
            if name not in self._loaders:
                self._add_loader(name, source)
            template = self._compiled[name] = self._loaders[name]()
        return template

    def _fast_render(self, name: str) -> Callable[[Any], str]:
        """The compiled form of template ``name``: native from the cache, else compiled now."""
        assert self._fast is not None
        render = self._fast.get(name)
        if render is None:
            native = load_native(self._check_name(name), name, NATIVE_FUNCTIONS)
            if native is not None:
                render = native.render
            else:
                from meshctl.gotemplate.fast import FastTemplate

                render = FastTemplate(self.template(name), NATIVE_FUNCTIONS).render
            self._fast[name] = render
        return render

    def render_text(self, name: str, data: Mapping[str, Any]) -> str:
        if self._fast is not None:
            render = self._fast_render(name)
            try:
                return render(data)
            except Exception:  # noqa: BLE001 - not reproduced natively: gotpl renders it
                pass
        template = self.template(name)
        from meshctl.gotemplate.gotpl_adapter import TemplateError

        try:
            return template.render(data)
        except TemplateError as exc:
            raise InjectionError(f"template {name!r} failed: {exc}") from None

    def render(self, name: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Render ``name`` and parse it: a partial pod (``metadata``/``spec``), maybe empty.

        The result may be shared with a parse cache (:class:`ShapeCache`): do not modify it.
        """
        text = self.render_text(name, data)
        try:
            doc = self._parsers[name].load(text, f"template {name!r} output")
        except ConfigError as exc:
            raise InjectionError(f"failed parsing generated injected YAML (check the injector "
                                 f"config): {exc}") from None
        if doc is None:
            return {}
        if not isinstance(doc, dict):
            raise InjectionError(f"template {name!r} did not render a mapping")
        return doc
