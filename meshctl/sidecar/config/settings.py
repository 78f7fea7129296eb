"""Injection settings: Istio's injector config, Helm values, mesh config and IstioOperator.

:func:`load_settings` assembles them the way Istio's chart and ``istioctl kube-inject`` do:

* the injector config (the ``config`` key of ConfigMap ``istio-sidecar-injector``): ``templates``,
  ``defaultTemplates``, ``policy``, ``aliases``, ``neverInjectSelector``,
  ``alwaysInjectSelector``, ``injectedAnnotations``. A file without a ``templates`` map is one
  bare template, named ``sidecar`` (istioctl's ``--injectConfigFile`` rule). A ``kind: ConfigMap``
  is read through its ``data.config`` (and ``data.values`` when no values are given);
* the Helm values tree (JSON or YAML, or a ConfigMap's ``data.values``);
* the mesh config (YAML, or a ConfigMap's ``data.mesh``) over Istio's mesh defaults;
* an IstioOperator: ``spec.values`` merges over the values, ``spec.meshConfig`` over the mesh;
* ``--hub``/``--tag``/``--proxy-image``/``--proxy-init-image`` set ``global.hub``,
  ``global.tag``, ``global.proxy.image`` and ``global.proxy_init.image``; ``--revision`` also sets
  the values' ``revision`` when they have none (as revision ``X``'s injector ConfigMap does).

As Istio's chart does, values ``sidecarInjectorWebhook.templates`` add templates,
``sidecarInjectorWebhook.defaultTemplates`` (when set) replaces ``defaultTemplates``, and
``global.proxy.autoInject`` is the policy.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping

from meshctl.errors import ConfigError, UsageError
from meshctl.gotemplate.goyaml import load_yaml
from meshctl.records import Frozen
from meshctl.sidecar.config.meshconfig import apply_mesh_config
from meshctl.yamltext.check import check_events
from meshctl.yamltext.source import StructureError, YamlSyntaxError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from os import PathLike
    from typing import Any, Final

    from meshctl.sidecar.config.schema import Problem

    Source = str | PathLike[str] | Mapping[str, Any] | None
    LabelSelector = Mapping[str, Any]


POLICIES: Final = ("enabled", "disabled")
DEFAULT_TEMPLATE: Final = "sidecar"


class Settings(Frozen):
    """Everything an injection needs, resolved once per run (:func:`load_settings`)."""

    __slots__ = (
        "templates", "default_templates", "aliases", "policy", "never_inject_selector",
        "always_inject_selector", "injected_annotations", "values", "mesh", "revision",
        "native_sidecars", "compliance_policy", "template_env", "warnings",
    )
    DEFAULTS = {"template_env": (), "warnings": ()}

    templates: Mapping[str, str]
    default_templates: tuple[str, ...]
    aliases: Mapping[str, tuple[str, ...]]
    policy: str
    never_inject_selector: tuple[LabelSelector, ...]
    always_inject_selector: tuple[LabelSelector, ...]
    injected_annotations: Mapping[str, str]
    values: Mapping[str, Any]
    mesh: Mapping[str, Any]
    revision: str
    native_sidecars: bool
    compliance_policy: str
    #: the environment variables templates may read (``--template-env``), as (name, value)
    template_env: tuple[tuple[str, str], ...]
    #: what the checks of the user's files found that is no error (unknown fields): the run's
    #: warnings, each naming its file and line
    warnings: tuple[str, ...]


# --------------------------------------------------------------------------------------------
# where a checked tree came from: the line of a value, for the messages


class Origin:
    """A config tree's file (``name``, ``text``), and where in it the tree is: under ``prefix``
    (an IstioOperator's ``spec.values``), or in the string at ``embedded`` (a ConfigMap's
    ``data.values``, itself YAML)."""

    __slots__ = ("name", "text", "prefix", "embedded", "_docs")

    def __init__(self, name: str | None, text: str | None, prefix: tuple[str, ...] = (),
                 embedded: tuple[str, ...] | None = None) -> None:
        self.name = name
        self.text = text
        self.prefix = prefix
        self.embedded = embedded
        self._docs: list[Any] = []

    def within(self, *, prefix: tuple[str, ...] = (),
               embedded: tuple[str, ...] | None = None) -> Origin:
        return Origin(self.name, self.text, (*self.prefix, *prefix), embedded)

    def line(self, path: tuple[str | int, ...]) -> int | None:
        """The line of the value at ``path`` of the tree, when it can be told."""
        from meshctl.yamltext.source import ScalarNode, YamlSyntaxError, load_document

        if self.text is None:
            return None
        try:
            doc = load_document(self.text, allow_duplicates=True)
            if self.embedded is None:
                offset = doc.offset_of((*self.prefix, *path))
                return None if offset is None else self.text.count("\n", 0, offset) + 1
            node = _node_at(doc.root, (*self.prefix, *self.embedded))
            if not isinstance(node, ScalarNode) or node.style not in ("|", ">"):
                offset = doc.offset_of((*self.prefix, *self.embedded))
                return None if offset is None else self.text.count("\n", 0, offset) + 1
            inner = load_document(node.value, allow_duplicates=True)
            offset = inner.offset_of(path)
            if offset is None:
                return None
            # a block scalar's content starts on the line after its header
            return self.text.count("\n", 0, node.start) + 1 + node.value.count("\n", 0, offset) + 1
        except YamlSyntaxError:
            return None

    def where(self, path: tuple[str | int, ...]) -> str:
        """``FILE: line L: `` (as much as is known) for messages."""
        parts = []
        if self.name:
            parts.append(f"{self.name}:")
        line = self.line(path)
        if line is not None:
            parts.append(f"line {line}:")
        return " ".join(parts) + (" " if parts else "")


def _node_at(node: Any, path: tuple[str | int, ...]) -> Any:
    from meshctl.yamltext.source import MapNode, SeqNode

    for step in path:
        if isinstance(node, MapNode):
            found = None
            for _key, value, key in node.entries:
                if key == step:
                    found = value
            node = found
        elif isinstance(node, SeqNode) and isinstance(step, int) and step < len(node.items):
            node = node.items[step]
        else:
            return None
    return node




# --------------------------------------------------------------------------------------------
# reading sources


def _read_text(source: str | PathLike[str], what: str) -> str:
    try:
        with open(source, encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {str(source)!r}: {exc.strerror or exc}") from None


def _parse(text: str, what: str) -> Any:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(text, object_pairs_hook=_unique_keys)
        except RecursionError:
            raise ConfigError(f"{what} is nested too deeply") from None
        except ValueError as exc:
            if str(exc).startswith("duplicate key"):
                raise ConfigError(f"{what}: {exc}") from None
    docs = [d for d in _load_all(text, what) if d is not None]
    if not docs:
        return None
    if len(docs) == 1:
        return docs[0]
    return {"kind": "List", "items": docs}


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _load_all(text: str, what: str) -> list[Any]:
    parts: list[tuple[int, str]] = []  # (line of the part's first line, text)
    current: list[str] = []
    start = lineno = 1
    for line in text.splitlines(keepends=True):
        if line.rstrip() == "---" or line.startswith("--- "):
            parts.append((start, "".join(current)))
            current = []
            start = lineno + 1
        else:
            current.append(line)
        lineno += 1
    parts.append((start, "".join(current)))
    docs = []
    for first, part in parts:
        if not part.strip():
            continue
        try:  # duplicate keys, nesting, alias bombs: refused before anything is built
            check_events(part)
        except YamlSyntaxError as exc:
            prefix = "" if isinstance(exc, StructureError) else "invalid YAML: "
            raise ConfigError(f"{what}: {prefix}{exc.problem}", line=first + exc.line - 1) \
                from None
        docs.append(load_yaml(part, what))
    return docs


def _load(source: Source, what: str) -> tuple[Any, Origin]:
    """The parsed source, and where it came from (for the lines of messages)."""
    if source is None or isinstance(source, Mapping):
        return source, Origin(None, None)
    text = _read_text(source, what)
    try:
        return _parse(text, what), Origin(str(source), text)
    except ConfigError as exc:
        raise exc.located(source=str(source)) from None


def _configmap_data(doc: Any, key: str) -> Any:
    """``data[key]`` of a ConfigMap (or of the first ConfigMap of a List that has it)."""
    if not isinstance(doc, Mapping):
        return None
    if doc.get("kind") == "List":
        for item in doc.get("items") or ():
            found = _configmap_data(item, key)
            if found is not None:
                return found
        return None
    if doc.get("kind") == "ConfigMap":
        data = doc.get("data")
        if isinstance(data, Mapping):
            return data.get(key)
    return None


# --------------------------------------------------------------------------------------------
# values


def deep_merge_values(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Helm-style: maps merge key by key, anything else (``null`` included) replaces."""
    out = dict(base)
    for key, value in overlay.items():
        current = out.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            out[key] = deep_merge_values(current, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def set_value(values: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b.c`` in a values tree, creating maps on the way (``--set`` semantics)."""
    parts = dotted.split(".")
    cur: dict[str, Any] = values
    for part in parts[:-1]:
        nxt = cur.get(part)
        if not isinstance(nxt, dict):
            nxt = dict(nxt) if isinstance(nxt, Mapping) else {}
            cur[part] = nxt
        cur = nxt
    cur[parts[-1]] = value


def _get(values: Mapping[str, Any], *path: str) -> Any:
    cur: Any = values
    for p in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(p)
    return cur


def _values_tree(doc: Any, what: str, origin: Origin, check: _Checks) -> dict[str, Any]:
    if doc is None:
        return {}
    cm = _configmap_data(doc, "values")
    if cm is not None:
        origin = origin.within(embedded=("data", "values"))
        doc = _parse(cm, what) if isinstance(cm, str) else cm
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{what} must be a mapping of Helm values")
    check.tree(doc, "values:Values", "values", origin)
    return copy.deepcopy(dict(doc))


# --------------------------------------------------------------------------------------------
# injector config


class _InjectConfig:
    """Istio's injector config as read (templates, policy, selectors), before it is resolved."""

    __slots__ = ("templates", "default_templates", "aliases", "policy", "never", "always",
                 "injected_annotations", "values_from_configmap", "origin")

    templates: dict[str, str]
    default_templates: list[str]
    aliases: dict[str, tuple[str, ...]]
    policy: str
    never: list[LabelSelector]
    always: list[LabelSelector]
    injected_annotations: dict[str, str]
    values_from_configmap: Any
    origin: Origin  # the file, for the lines of the values it holds

    def __init__(
        self,
        templates: dict[str, str] | None = None,
        default_templates: list[str] | None = None,
        aliases: dict[str, tuple[str, ...]] | None = None,
        policy: str = "enabled",
        never: list[LabelSelector] | None = None,
        always: list[LabelSelector] | None = None,
        injected_annotations: dict[str, str] | None = None,
        values_from_configmap: Any = None,
    ) -> None:
        self.templates = {} if templates is None else templates
        self.default_templates = [] if default_templates is None else default_templates
        self.aliases = {} if aliases is None else aliases
        self.policy = policy
        self.never = [] if never is None else never
        self.always = [] if always is None else always
        self.injected_annotations = {} if injected_annotations is None else injected_annotations
        self.values_from_configmap = values_from_configmap
        self.origin = Origin(None, None)


def _inject_config(source: Source) -> _InjectConfig:
    what = "injector config"
    if source is None:
        raise ConfigError("no injector config: give --injectConfigFile (Istio's injector config "
                          "or one template)")
    if isinstance(source, Mapping):
        return _inject_config_doc(source, None, what)
    text = _read_text(source, what)
    try:
        doc = _parse(text, what)
    except ConfigError:
        doc = None  # a bare template is rarely valid YAML
    try:
        cfg = _inject_config_doc(doc, text, what)
    except ConfigError as exc:
        raise exc.located(source=str(source)) from None
    cfg.origin = Origin(str(source), text)
    return cfg


def _inject_config_doc(doc: Any, text: str | None, what: str) -> _InjectConfig:
    values_cm = None
    cm = _configmap_data(doc, "config")
    if cm is not None:
        values_cm = _configmap_data(doc, "values")
        text = cm if isinstance(cm, str) else None
        try:
            doc = _parse(cm, what) if isinstance(cm, str) else cm
        except ConfigError:
            doc = None
    templates = doc.get("templates") if isinstance(doc, Mapping) else None
    if not isinstance(templates, Mapping) or not templates:
        if text is None:
            raise ConfigError(f"{what} has no templates")
        cfg = _InjectConfig(templates={DEFAULT_TEMPLATE: text})
        cfg.default_templates = [DEFAULT_TEMPLATE]
        cfg.values_from_configmap = values_cm
        return cfg
    assert isinstance(doc, Mapping)
    cfg = _InjectConfig()
    for name, body in templates.items():
        if not isinstance(body, str):
            raise ConfigError(f"{what}: template {name!r} must be a string")
        cfg.templates[str(name)] = body
    cfg.default_templates = _str_list(doc.get("defaultTemplates"), f"{what}: defaultTemplates")
    aliases = doc.get("aliases") or {}
    if not isinstance(aliases, Mapping):
        raise ConfigError(f"{what}: aliases must map a name to a list of templates")
    cfg.aliases = {str(k): tuple(_str_list(v, f"{what}: alias {k}")) for k, v in aliases.items()}
    cfg.policy = str(doc.get("policy") or "enabled") if doc.get("policy") is not None else "enabled"
    cfg.never = _selectors(doc.get("neverInjectSelector"), f"{what}: neverInjectSelector")
    cfg.always = _selectors(doc.get("alwaysInjectSelector"), f"{what}: alwaysInjectSelector")
    cfg.injected_annotations = _str_map(doc.get("injectedAnnotations"),
                                        f"{what}: injectedAnnotations")
    cfg.values_from_configmap = values_cm
    return cfg


def _str_list(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise ConfigError(f"{what} must be a list of names")
    return [str(v) for v in value]


def _selectors(value: Any, what: str) -> list[LabelSelector]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ConfigError(f"{what} must be a list of label selectors")
    return [dict(v) for v in value]


def _str_map(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{what} must be a map of strings")
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


# --------------------------------------------------------------------------------------------
# mesh


def _mesh_overlay(doc: Any, what: str, origin: Origin,
                  check: _Checks) -> Mapping[str, Any] | None:
    if doc is None:
        return None
    cm = _configmap_data(doc, "mesh")
    if cm is not None:
        origin = origin.within(embedded=("data", "mesh"))
        doc = _parse(cm, what) if isinstance(cm, str) else cm
    if doc is None:
        return None
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{what} must be a mapping")
    check.tree(doc, "mesh:MeshConfig", "mesh config", origin)
    return doc


# --------------------------------------------------------------------------------------------
# checks of what users give: types (meshctl.sidecar.config.schema), images


class _Checks:
    """Runs the checks of one load (:mod:`meshctl.sidecar.config.schema`, imported only when
    there is a file to check); errors raise, warnings are kept. Files named in ``trusted`` (the
    built-in profile's own, checked by its tests) are not checked again on every run."""

    def __init__(self, trusted: frozenset[str] = frozenset()) -> None:
        self.warnings: list[str] = []
        self.trusted = trusted

    def problems(self, problems: list[Problem], what: str, origin: Origin,
                 prefix: tuple[str, ...] = ()) -> None:
        for problem in problems:
            path = (*prefix, *problem.path)
            message = f"{what} {'.'.join(str(p) for p in path)}: {problem.message}"
            if problem.error:
                raise ConfigError(message, source=origin.name,
                                  line=origin.line(problem.path))
            self.warnings.append(f"{origin.where(problem.path)}{message}")

    def tree(self, tree: Any, root: str, what: str, origin: Origin) -> None:
        if origin.name in self.trusted:
            return
        from meshctl.sidecar.config import schema

        self.problems(schema.check(tree, root, strict=root != schema.VALUES), what, origin)

    def operator(self, spec: Any, origin: Origin) -> None:
        from meshctl.sidecar.config import schema

        self.problems(schema.check_operator_spec(spec), "IstioOperator",
                      origin.within(prefix=("spec",)), ("spec",))


#: an image tag (Docker's rule), a hub (registry host[:port] and repository path), a full image
_TAG: Final = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z"
_PATH: Final = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL: Final = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST: Final = rf"{_LABEL}(?:\.{_LABEL})*(?::[0-9]+)?"
_HUB: Final = rf"(?:{_HOST}/)?{_PATH}(?:/{_PATH})*\Z|{_HOST}\Z"
_IMAGE: Final = (rf"(?:{_HOST}/)?{_PATH}(?:/{_PATH})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?"
                 r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?\Z")


def _image_gaps(vals: Mapping[str, Any], source: str | None) -> list[str]:
    """A warning when the proxy image is built from an empty hub or tag (a values file that
    replaces Istio's values with only some of them: the pod gets ``/proxyv2:``, as from Istio)."""
    image = _get(vals, "global", "proxy", "image")
    if isinstance(image, str) and "/" in image:  # a full reference: hub and tag unused
        return []
    empty = [f"global.{k}" for k in ("hub", "tag") if str(_get(vals, "global", k) or "") == ""]
    if not empty:
        return []
    return [f"{source or 'values'}: {' and '.join(empty)} {'is' if len(empty) == 1 else 'are'} "
            f"empty: the proxy image is {_get(vals, 'global', 'hub') or ''}/"
            f"{image or 'proxyv2'}:{_get(vals, 'global', 'tag') or ''}, which no registry "
            "serves; set them in the values file or with --hub/--tag (the values file replaces "
            "the built-in values, as Istio's does)"]


def check_image_flags(hub: str | None, tag: str | None, proxy_image: str | None,
                      proxy_init_image: str | None) -> None:
    """``--hub``, ``--tag``, ``--proxy-image``, ``--proxy-init-image``: what an image reference
    allows (``--tag ""`` would give ``proxyv2:``)."""
    if tag is not None and not re.match(_TAG, tag):
        raise UsageError(f"--tag {tag!r}: an image tag is 1 to 128 letters, digits, '_', '.' "
                         "or '-', not starting with '.' or '-'")
    if hub is not None and not re.match(_HUB, hub):
        raise UsageError(f"--hub {hub!r}: not an image hub (a registry and repository path "
                         "such as docker.io/istio or localhost:5000/istio)")
    for flag, image in (("--proxy-image", proxy_image), ("--proxy-init-image", proxy_init_image)):
        if image is not None and not re.match(_IMAGE, image):
            raise UsageError(f"{flag} {image!r}: not an image reference (such as "
                             "docker.io/istio/proxyv2:1.29.0, or a name such as proxyv2)")


# --------------------------------------------------------------------------------------------


def load_settings(
    inject_config: Source,
    values: Source = None,
    mesh: Source = None,
    operator: Source = None,
    *,
    revision: str = "",
    native_sidecars: bool = False,
    compliance_policy: str = "",
    hub: str | None = None,
    tag: str | None = None,
    proxy_image: str | None = None,
    proxy_init_image: str | None = None,
    template_env: tuple[tuple[str, str], ...] = (),
    trusted: frozenset[str] = frozenset(),
) -> Settings:
    """Read and combine the injection settings (see the module docstring for the rules).

    Each source is a file path or already-parsed data. Raises :class:`ConfigError` for anything
    that cannot be used; the files (except those in ``trusted``) are checked against Istio's
    types (:mod:`meshctl.sidecar.config.schema`).
    """
    check_image_flags(hub, tag, proxy_image, proxy_init_image)
    checks = _Checks(trusted)
    cfg = _inject_config(inject_config)

    values_doc, origin = _load(values, "values file")
    if values_doc is None and cfg.values_from_configmap is not None:
        values_doc = {"kind": "ConfigMap", "data": {"values": cfg.values_from_configmap}}
        origin = cfg.origin
    vals = _values_tree(values_doc, "values file", origin, checks)
    values_name = origin.name if origin is not None else None

    mesh_doc, origin = _load(mesh, "mesh config")
    mesh_cfg = apply_mesh_config(_mesh_overlay(mesh_doc, "mesh config", origin, checks))

    op, origin = _load(operator, "IstioOperator")
    if op is not None:
        spec = op.get("spec") if isinstance(op, Mapping) else None
        if not isinstance(spec, Mapping):
            raise ConfigError("IstioOperator has no spec", source=origin.name)
        checks.operator(spec, origin)
        if isinstance(spec.get("values"), Mapping):
            vals = deep_merge_values(vals, spec["values"])
        if isinstance(spec.get("meshConfig"), Mapping):
            mesh_cfg = apply_mesh_config(spec["meshConfig"], mesh_cfg)

    if revision and not vals.get("revision"):
        vals["revision"] = revision  # what the revision's own injector ConfigMap would hold
    for dotted, value in (("global.hub", hub), ("global.tag", tag),
                          ("global.proxy.image", proxy_image),
                          ("global.proxy_init.image", proxy_init_image)):
        if value is not None:
            set_value(vals, dotted, value)
    if values_doc is not None:
        checks.warnings.extend(_image_gaps(vals, values_name))

    templates = dict(cfg.templates)
    extra = _get(vals, "sidecarInjectorWebhook", "templates")
    if isinstance(extra, Mapping):
        for name, body in extra.items():
            if not isinstance(body, str):
                raise ConfigError(
                    f"values sidecarInjectorWebhook.templates.{name} must be a string")
            templates[str(name)] = body
    defaults = cfg.default_templates or [DEFAULT_TEMPLATE]
    value_defaults = _get(vals, "sidecarInjectorWebhook", "defaultTemplates")
    if value_defaults:
        defaults = _str_list(value_defaults, "values sidecarInjectorWebhook.defaultTemplates")
    policy = cfg.policy
    auto_inject = _get(vals, "global", "proxy", "autoInject")
    if isinstance(auto_inject, str) and auto_inject:
        policy = auto_inject
    if policy not in POLICIES:
        raise ConfigError(f"invalid injection policy {policy!r}; valid: {', '.join(POLICIES)}")
    never = cfg.never or _selectors(_get(vals, "sidecarInjectorWebhook", "neverInjectSelector"),
                                    "values sidecarInjectorWebhook.neverInjectSelector")
    always = cfg.always or _selectors(_get(vals, "sidecarInjectorWebhook", "alwaysInjectSelector"),
                                      "values sidecarInjectorWebhook.alwaysInjectSelector")
    injected = cfg.injected_annotations or _str_map(
        _get(vals, "sidecarInjectorWebhook", "injectedAnnotations"),
        "values sidecarInjectorWebhook.injectedAnnotations")

    return Settings(
        templates=templates,
        default_templates=tuple(defaults),
        aliases=cfg.aliases,
        policy=policy,
        never_inject_selector=tuple(never),
        always_inject_selector=tuple(always),
        injected_annotations=injected,
        values=vals,
        mesh=mesh_cfg,
        revision=revision,
        native_sidecars=native_sidecars,
        compliance_policy=compliance_policy,
        template_env=template_env,
        warnings=tuple(checks.warnings),
    )
