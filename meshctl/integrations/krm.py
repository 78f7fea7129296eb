"""Injection as a step of a kustomize or kpt build: the KRM function and kustomize's exec plugin.

Two protocols, one set of options:

* **KRM function** (``meshctl fn``, :func:`run_resource_list`). Stdin is a ``ResourceList``
  (``config.kubernetes.io/v1``): ``items``, the resources, and ``functionConfig``, the options.
  Stdout is the same ResourceList with its items injected and ``results`` added: one per
  workload, its message the report's, meshctl's action and reason codes as ``tags``. The
  ResourceList's text is edited as any manifest is (:mod:`meshctl.commands.pipeline` treats it
  as a ``List``), so every item keeps its formatting, comments and annotations (the
  orchestrator's ``config.kubernetes.io/*`` ones too) and a workload comes out as
  ``kube-inject`` prints it. On an error the items come back unchanged, the error is a result of
  severity ``error`` pointing at the resource and field, and the run fails with meshctl's exit
  code and one line on stderr: kustomize ignores results when a function exits 0 and shows only
  stderr when it fails; kpt shows the results.
* **kustomize's exec transformer plugin** (``meshctl fn CONFIG``, :func:`run_transformer`).
  kustomize runs the plugin executable with the transformer's config file as its first argument
  and the resources as a plain YAML stream on stdin; the stream on stdout replaces them.

The options come from the functionConfig, or from the plugin's config file: a ``ConfigMap``'s
``data`` (kpt's habit), or the ``spec`` of a ``meshctl.dev/v1`` ``SidecarInjector``. The keys
are kube-inject's profile and cluster flags in camelCase (:data:`CONFIG_KEYS`); values are
strings (``nativeSidecars`` and ``fromCluster`` may be booleans in a SidecarInjector).
Relative file names are relative to the current directory (for kustomize's exec plugin, the
kustomization's directory)."""

from __future__ import annotations

from meshctl.commands import pipeline
from meshctl.commands.inject import make_injector, processor_for
from meshctl.commands.inject import run as inject_run
from meshctl.errors import ConfigError, InputError, MeshctlError
from meshctl.gotemplate.environ import is_variable_name
from meshctl.manifests import podsecurity
from meshctl.manifests.find import object_ref
from meshctl.manifests.read import read_sources
from meshctl.manifests.results import Result, RunResult
from meshctl.options import Options
from meshctl.outcomes import self_evident
from meshctl.records import Frozen
from meshctl.yamltext.edit import apply_patch_to_text
from meshctl.yamltext.source import YamlSyntaxError, load_document

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from collections.abc import Callable, Sequence
    from typing import Any

RESOURCE_LIST_API_VERSIONS = ("config.kubernetes.io/v1", "config.kubernetes.io/v1beta1")
RESOURCE_LIST_KIND = "ResourceList"
#: the kind of meshctl's own function config (kustomize transformer config)
CONFIG_API_VERSION = "meshctl.dev/v1"
CONFIG_KIND = "SidecarInjector"

_SIDECAR_CHOICES = ("auto", "true", "false")
#: a flag: a boolean, or "true"/"false" (a ConfigMap's data holds strings only)
_FLAG = ("true", "false")
#: functionConfig key -> (Options field, the values it takes: () for any string); one key per
#: profile and cluster flag of kube-inject (tests/integrations/test_krm.py checks that none is
#: missing)
CONFIG_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "injectConfigFile": ("inject_config_file", ()),
    "valuesFile": ("values_file", ()),
    "meshConfigFile": ("mesh_config_file", ()),
    "operatorFileName": ("operator_file", ()),
    "fromCluster": ("from_cluster", _FLAG),
    "istioNamespace": ("istio_namespace", ()),
    "injectConfigMapName": ("inject_configmap_name", ()),
    "meshConfigMapName": ("mesh_configmap_name", ()),
    "revision": ("revision", ()),
    "hub": ("hub", ()),
    "tag": ("tag", ()),
    "proxyImage": ("proxy_image", ()),
    "proxyInitImage": ("proxy_init_image", ()),
    "nativeSidecars": ("native_sidecars", _SIDECAR_CHOICES),
    "compliancePolicy": ("compliance_policy", ()),
    "reinject": ("reinject", ("auto", "strip", "merge")),
    "kubeconfig": ("kubeconfig", ()),
    "context": ("context", ()),
    "kubectl": ("kubectl", ()),
    "requestTimeout": ("request_timeout", ()),
    "templateEnv": ("template_env", ()),
}
#: keys whose value is a list of names (in a ConfigMap: one string, names separated by commas)
_LISTS = ("templateEnv",)
#: keys that read the cluster: they go with fromCluster (as their flags go with --from-cluster)
_CLUSTER_ONLY = ("injectConfigMapName", "meshConfigMapName", "kubeconfig", "context",
                 "requestTimeout")

#: annotations where orchestrators say which file and document an item came from (kpt and
#: kustomize set the ``internal.`` ones; the others are their older spellings)
_PATH_ANNOTATIONS = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path")
_INDEX_ANNOTATIONS = ("internal.config.kubernetes.io/index", "config.kubernetes.io/index")


class FnOutput(Frozen):
    """What a KRM function run prints: the ResourceList (always), and when it failed, the
    error and the one line that says it (on stderr)."""

    __slots__ = ("text", "error", "message")
    DEFAULTS = {"error": None, "message": ""}

    text: str
    error: MeshctlError | None
    message: str


# --------------------------------------------------------------------------------------------
# options


def config_values(config: Any) -> dict[str, Any]:
    """The Options fields a functionConfig (or transformer config) sets; ConfigError when it is
    not one meshctl reads or holds a key or value it does not know."""
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise ConfigError("the function config must be a mapping")
    kind, api_version = config.get("kind"), config.get("apiVersion")
    if kind == "ConfigMap":
        where, values = "ConfigMap data", config.get("data")
    elif kind == CONFIG_KIND and api_version == CONFIG_API_VERSION:
        where, values = f"{CONFIG_KIND} spec", config.get("spec")
    else:
        raise ConfigError(f"function config of kind {kind!r} (apiVersion {api_version!r}): "
                          f"expected a ConfigMap or a {CONFIG_API_VERSION} {CONFIG_KIND}")
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ConfigError(f"{where} must be a mapping")
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in CONFIG_KEYS:
            raise ConfigError(f"{where}: unknown key {key!r}; "
                              f"known keys: {', '.join(CONFIG_KEYS)}")
        field, choices = CONFIG_KEYS[key]
        if key in _LISTS:
            names = value.split(",") if isinstance(value, str) else value
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ConfigError(f"{where}: {key} must be a list of names (or a string of "
                                  f"names separated by commas), not {value!r}")
            out[field] = tuple(n.strip() for n in names if n.strip())
            for name in out[field]:
                if not is_variable_name(name):
                    raise ConfigError(f"{where}: {key}: {name!r} is not an environment "
                                      "variable name")
            continue
        if isinstance(value, bool) and choices in (_SIDECAR_CHOICES, _FLAG):
            value = "true" if value else "false"
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string, not {value!r}")
        if choices and value not in choices:
            raise ConfigError(f"{where}: {key} must be one of {', '.join(choices)}, "
                              f"not {value!r}")
        if choices is _FLAG:
            out[field] = value == "true"
        elif value:  # an empty value means the default, as an empty flag would
            out[field] = value
    if not out.get("from_cluster"):
        for key in _CLUSTER_ONLY:
            if out.get(CONFIG_KEYS[key][0]):
                raise ConfigError(f"{where}: {key} reads the cluster: it goes with "
                                  "fromCluster: true")
    return out


def options_from_config(config: Any, filenames: tuple[str, ...] = ("-",)) -> Options:
    """kube-inject's options for ``filenames`` with the settings of ``config``."""
    return Options(filenames=filenames, **config_values(config))


# --------------------------------------------------------------------------------------------
# kustomize's exec transformer plugin


def load_config_file(path: str) -> Any:
    """The one object in the transformer config file ``path``."""
    (source,) = read_sources([path])
    documents = [c for c in source.chunks if c.has_content()]
    if len(documents) != 1:
        raise ConfigError(f"expected one object, found {len(documents)} documents",
                          source=source.name)
    try:
        return load_document(documents[0].text).data
    except YamlSyntaxError as exc:
        raise InputError(f"invalid YAML: {exc.problem}", source=source.name,
                         line=documents[0].start_line + exc.line - 1) from None


def run_transformer(config_file: str, stdin: Callable[[int], bytes]) -> RunResult:
    """kube-inject of the stream on stdin with the options of ``config_file``."""
    try:
        opts = options_from_config(load_config_file(config_file))
    except MeshctlError as exc:
        raise exc.located(source=config_file) from None
    return inject_run(opts, stdin=stdin)


# --------------------------------------------------------------------------------------------
# the KRM function


def run_resource_list(data: bytes) -> FnOutput:
    """Inject the items of the ResourceList ``data``; the ResourceList to print."""
    text: str | None = None  # the input, once it is known to be a ResourceList
    items: list[Any] = []
    try:
        (source,) = read_sources(["-"], stdin=lambda _limit: data)
        documents = [c for c in source.chunks if c.has_content()]
        if len(documents) != 1:
            raise InputError(f"expected one {RESOURCE_LIST_KIND}, found {len(documents)} "
                             "documents", source=source.name)
        resource_list = _resource_list(load_document(documents[0].text).data)
        text, items = source.text, resource_list["items"]
        opts = options_from_config(resource_list.get("functionConfig"))
        injector = make_injector(opts, len(items))
        processor = processor_for(opts, len(items), levels=podsecurity.levels_of(items),
                                  injector=injector)
        result = pipeline.run([source], pipeline.documents_to_parse([source]), processor, 1)
        result = result.replace(warnings=(*injector.settings.warnings, *result.warnings))
    except YamlSyntaxError as exc:  # JSON input: not checked when read
        error: MeshctlError = InputError(f"invalid YAML: {exc.problem}", source="<stdin>",
                                         line=exc.line)
        return _failed(text, items, error)
    except MeshctlError as exc:
        return _failed(text, items, exc)
    results = _results(items, result.results, result.warnings)
    return FnOutput(_add_results(result.sources[0].new_text, results))


def _resource_list(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("kind") != RESOURCE_LIST_KIND:
        raise InputError(f"expected a {RESOURCE_LIST_KIND} (apiVersion "
                         f"{RESOURCE_LIST_API_VERSIONS[0]}) on stdin")
    if data.get("apiVersion") not in RESOURCE_LIST_API_VERSIONS:
        raise InputError(f"{RESOURCE_LIST_KIND} apiVersion {data.get('apiVersion')!r}: "
                         f"expected one of {', '.join(RESOURCE_LIST_API_VERSIONS)}")
    if not isinstance(data.get("items"), list):
        raise InputError(f"the {RESOURCE_LIST_KIND} has no items list")
    return data


def _failed(text: str | None, items: Sequence[Any], exc: MeshctlError) -> FnOutput:
    """The ResourceList as it came (an empty one, if it could not be read) with the error as
    its result."""
    item = None
    field: tuple[str | int, ...] = ()
    path = exc.path or ()
    if (len(path) >= 2 and path[0] == "items" and isinstance(path[1], int)
            and 0 <= path[1] < len(items) and isinstance(items[path[1]], dict)):
        item, field = items[path[1]], path[2:]
    entry: dict[str, Any] = {"message": exc.message, "severity": "error"}
    if item is not None:
        entry.update(_where(item))
        if field:
            entry["field"] = {"path": _field_path(field)}
        message = f"{_describe(item)}: {exc.message}"
    else:
        message = str(exc)
    return FnOutput(_add_results(_EMPTY if text is None else text, [entry]), exc, message)


_EMPTY = f"""\
apiVersion: {RESOURCE_LIST_API_VERSIONS[0]}
kind: {RESOURCE_LIST_KIND}
items: []
"""


def _add_results(text: str, results: list[dict[str, Any]]) -> str:
    """``text`` (one ResourceList) with ``results`` added to its own, in its style."""
    if not results:
        return text
    doc = load_document(text)
    ops: list[dict[str, Any]]
    if isinstance(doc.data.get("results"), list):
        ops = [{"op": "add", "path": "/results/-", "value": r} for r in results]
    else:
        ops = [{"op": "add", "path": "/results", "value": results}]
    return apply_patch_to_text(doc, ops)


def _results(items: Sequence[Any], results: Sequence[Result],
             warnings: Sequence[str]) -> list[dict[str, Any]]:
    """The KRM results of a run: one per workload, one per warning."""
    out: list[dict[str, Any]] = [{"message": w, "severity": "warning"} for w in warnings]
    start = 0
    for r in results:
        item: Any = None
        for i in range(start, len(items)):  # results come in item order
            candidate = items[i]
            if isinstance(candidate, dict) and object_ref(candidate) == (r.kind, r.namespace,
                                                                         r.name):
                item, start = candidate, i + 1
                break
        where = _where(item) if item is not None else {}
        if self_evident(r.action, r.reason):
            message = r.reason.sentence
        else:
            message = f"{r.action} ({r.reason}): {r.reason.sentence}"
        out.extend({"message": w, "severity": "warning", **where} for w in r.warnings)
        out.append({"message": message, "severity": "info", **where,
                    "tags": {"action": str(r.action), "reason": str(r.reason)}})
    return out


def _where(item: dict[str, Any]) -> dict[str, Any]:
    """``resourceRef`` and, when the orchestrator said, ``file`` of an item."""
    meta = item.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    ref = {"apiVersion": str(item.get("apiVersion") or ""), "kind": str(item.get("kind") or ""),
           "name": str(meta.get("name") or meta.get("generateName") or "")}
    if meta.get("namespace"):
        ref["namespace"] = str(meta["namespace"])
    out: dict[str, Any] = {"resourceRef": ref}
    annotations = meta.get("annotations")
    annotations = annotations if isinstance(annotations, dict) else {}
    path = next((annotations[a] for a in _PATH_ANNOTATIONS if a in annotations), None)
    if isinstance(path, str) and path:
        file: dict[str, Any] = {"path": path}
        index = next((annotations[a] for a in _INDEX_ANNOTATIONS if a in annotations), None)
        if isinstance(index, (str, int)) and str(index).isdigit():
            file["index"] = int(index)
        out["file"] = file
    return out


def _describe(item: dict[str, Any]) -> str:
    """``Deployment shop/web (apps/web.yaml)``: an item, as a person names it."""
    where = _where(item)
    ref = where["resourceRef"]
    name = f"{ref['namespace']}/{ref['name']}" if "namespace" in ref else ref["name"]
    text = f"{ref['kind']} {name}"
    if "file" in where:
        text += f" ({where['file']['path']})"
    return text


def _field_path(path: Sequence[str | int]) -> str:
    """A KRM field path: ``spec.template.spec.containers[0].image``; a key with a dot or a
    slash in brackets (``metadata.annotations[sidecar.istio.io/inject]``)."""
    out = ""
    for part in path:
        if isinstance(part, int) or "." in part or "/" in part or "[" in part:
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
