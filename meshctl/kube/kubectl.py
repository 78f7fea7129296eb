"""The one way meshctl reads a cluster: ``kubectl get ... -o json``, or a saved copy of its output.

Why kubectl and not an HTTP client: kubectl already understands every kubeconfig, context, exec
and auth-provider plugin, proxy and certificate setup users have; meshctl would have to
re-implement them all. The price is a subprocess per read (~30-60 ms), which a command that
reads two or three objects can afford.

Both :class:`Kubectl` and :class:`StateFile` answer the same lookups (see :class:`Source`), so the
URL rules and ``kube-inject --from-cluster`` do not care where objects come from:

* ``get(resource, name, namespace)``: one object, or :class:`~meshctl.errors.NotFoundError`
  naming it and the namespace searched;
* ``list(resource, namespace, selector)``: the objects of a namespace (cluster-scoped resources
  ignore it), filtered by an equality label selector;
* ``namespace()``: the namespace used when none is given (kubectl's current context, or
  ``default`` for a state file); ``namespace_exists(name)``: True, False, or None (cannot tell).

kubectl failures become meshctl errors by what kubectl printed (:func:`classify`):

==================================================================  ======================
kubectl cannot be started (not found, not executable)               KubectlError (exit 5)
connection refused, DNS, TLS, timeout, bad kubeconfig or context    UnreachableError (6)
``Unauthorized``, ``Forbidden``                                     ForbiddenError (7)
``NotFound``, unknown resource type                                 NotFoundError (8)
a pod that is not running (port-forward)                            NotReadyError (9)
anything else                                                       KubectlError (5)
==================================================================  ======================

:class:`meshctl.kube.portforward.PortForward` runs ``kubectl port-forward``. Nothing here
prints, and subprocess details stay inside this module.
"""

from __future__ import annotations

import json
import re
import subprocess

from meshctl.errors import (
    ConfigError,
    ForbiddenError,
    InputError,
    KubectlError,
    MeshctlError,
    NotFoundError,
    NotReadyError,
    UnreachableError,
)
from meshctl.records import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any, Protocol

    Obj = dict[str, Any]

    class Source(Protocol):
        """What the URL rules and ``--from-cluster`` read objects from."""

        def get(self, resource: str, name: str, namespace: str | None = None) -> Obj: ...

        def list(
            self,
            resource: str,
            namespace: str | None = None,
            selector: Mapping[str, str] | None = None,
        ) -> list[Obj]: ...

        def namespace(self) -> str: ...

        def namespace_exists(self, name: str) -> bool | None: ...


# Resource names as kubectl spells them. Gateways are fully qualified: ``gateways`` alone may
# mean Istio's networking.istio.io Gateway on a cluster that has both.
SERVICES = "services"
PODS = "pods"
NODES = "nodes"
NAMESPACES = "namespaces"
CONFIGMAPS = "configmaps"
GATEWAYS = "gateways.gateway.networking.k8s.io"

#: resource -> (API group, kind, namespaced)
RESOURCES: dict[str, tuple[str, str, bool]] = {
    SERVICES: ("", "Service", True),
    PODS: ("", "Pod", True),
    NODES: ("", "Node", False),
    NAMESPACES: ("", "Namespace", False),
    CONFIGMAPS: ("", "ConfigMap", True),
    GATEWAYS: ("gateway.networking.k8s.io", "Gateway", True),
}

#: what a resource is called in messages
_LABELS = {
    SERVICES: "service",
    PODS: "pod",
    NODES: "node",
    NAMESPACES: "namespace",
    CONFIGMAPS: "ConfigMap",
    GATEWAYS: "Gateway",
}


def _label(resource: str) -> str:
    return _LABELS.get(resource, resource)


def _where(resource: str, namespace: str) -> str:
    return f' in namespace "{namespace}"' if RESOURCES.get(resource, ("", "", True))[2] else ""


class Access(Frozen):
    """How to run kubectl: its path and the global options every call gets.

    ``request_timeout`` is kubectl's ``--request-timeout`` (``"10s"``); None keeps kubectl's.
    """

    __slots__ = ("kubectl", "kubeconfig", "context", "request_timeout")
    DEFAULTS = {"kubectl": "kubectl", "kubeconfig": None, "context": None, "request_timeout": None}
    kubectl: str
    kubeconfig: str | None
    context: str | None
    request_timeout: str | None


# -- error classification -----------------------------------------------------------------------

#: klog lines (``E1201 10:53:36.960744   10500 memcache.go:381] ...``) repeat the real error
_KLOG = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s")
_SERVER = re.compile(r"^Error from server \(([A-Za-z]+)\):\s*(.*)$")
_UNREACHABLE = (
    "Unable to connect to the server",
    "The connection to the server",
    "Error in configuration",
    "context was not found",
    "does not exist",  # error: context "x" does not exist / cluster ... does not exist
    "error loading config file",
    "no configuration has been provided",
    "invalid configuration",
    "no such file or directory",  # --kubeconfig that does not exist
    "getting credentials",  # an exec auth plugin that fails or is missing
    "dial tcp",
    "i/o timeout",
    "TLS handshake",
    "x509:",
    "certificate",
    "connection refused",
    "error upgrading connection",  # port-forward: the streaming upgrade is refused on the way
    "no such host",
    "context deadline exceeded",
    "Client.Timeout",
    "EOF",
)
_UNREACHABLE_REASONS = {"ServiceUnavailable", "Timeout", "InternalError", "BadGateway"}


def error_line(stderr: str) -> str:
    """The one line of kubectl's stderr that says what went wrong (klog and warnings dropped)."""
    lines = [
        line.strip()
        for line in stderr.splitlines()
        if line.strip() and not _KLOG.match(line) and not line.startswith("Warning:")
    ]
    if not lines:
        return ""
    line = lines[-1]
    for earlier in reversed(lines[:-1]):  # the server error, when kubectl adds a line after it
        if earlier.startswith("Error from server") or earlier.startswith("error:"):
            line = earlier
            break
    return line.removeprefix("error: ")


def classify(stderr: str, returncode: int) -> MeshctlError:
    """The meshctl error for a failed kubectl call, from what kubectl printed on stderr."""
    line = error_line(stderr)
    server = _SERVER.match(line)
    if server is not None:
        reason, text = server.groups()
        if reason == "NotFound":
            return NotFoundError(text)
        if reason in ("Forbidden", "Unauthorized"):
            return ForbiddenError(f"the cluster refused the request: {text}")
        if reason in _UNREACHABLE_REASONS:
            return UnreachableError(f"the cluster could not answer: {text}")
        return KubectlError(f"kubectl failed: {line}")
    if "Unauthorized" in line or "must be logged in" in line or "forbidden" in line.lower():
        return ForbiddenError(f"the cluster refused the request: {line}")
    if "doesn't have a resource type" in line:
        return NotFoundError(f"{line} (is the CRD that defines it installed?)")
    if "pod is not running" in line or "timed out waiting for the condition" in line:
        return NotReadyError(line)
    if any(marker in line for marker in _UNREACHABLE):
        return UnreachableError(f"cannot reach the cluster: {line}")
    if not line:
        return KubectlError(f"kubectl failed with exit status {returncode} and no message")
    return KubectlError(f"kubectl failed: {line}")


def not_found(stderr: str) -> bool:
    server = _SERVER.match(error_line(stderr))
    return server is not None and server.group(1) == "NotFound"


# -- kubectl ------------------------------------------------------------------------------------


def selector_text(selector: Mapping[str, str]) -> str:
    """An equality selector in kubectl's ``-l`` syntax."""
    return ",".join(f"{key}={value}" for key, value in selector.items())


class Kubectl:
    """kubectl as a subprocess: ``get ... -o json`` parsed, failures mapped to meshctl errors.

    ``env`` replaces the environment kubectl runs with (tests); None inherits meshctl's.
    """

    def __init__(self, access: Access | None = None, *, env: Mapping[str, str] | None = None):
        self.access = access if access is not None else Access()
        self.env = dict(env) if env is not None else None
        self._namespace: str | None = None

    def command(self, *args: str) -> list[str]:
        """The full command line: kubectl, its global options, then ``args``."""
        access = self.access
        cmd = [access.kubectl]
        if access.kubeconfig:
            cmd += ["--kubeconfig", access.kubeconfig]
        if access.context:
            cmd += ["--context", access.context]
        if access.request_timeout:
            cmd += ["--request-timeout", access.request_timeout]
        cmd += args
        return cmd

    def execute(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run kubectl; only a kubectl that cannot be started raises (KubectlError)."""
        cmd = self.command(*args)
        try:
            return subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                env=self.env,
                check=False,
            )
        except OSError as exc:
            raise kubectl_start_error(self.access.kubectl, exc) from None

    def run(self, *args: str) -> str:
        """kubectl's stdout; a failure raises the error :func:`classify` maps it to."""
        done = self.execute(*args)
        if done.returncode != 0:
            raise classify(done.stderr, done.returncode)
        return done.stdout

    def run_json(self, *args: str) -> Any:
        """Run kubectl with ``-o json`` appended and parse what it prints."""
        return _parse_json(self.run(*args, "-o", "json"), " ".join(args))

    def _namespace_args(self, resource: str, namespace: str | None) -> list[str]:
        if namespace and RESOURCES.get(resource, ("", "", True))[2]:
            return ["-n", namespace]
        return []

    def get(self, resource: str, name: str, namespace: str | None = None) -> Obj:
        done = self.execute(
            "get", resource, name, *self._namespace_args(resource, namespace), "-o", "json")
        if done.returncode != 0:
            if not_found(done.stderr):
                where = _where(resource, namespace or self.namespace())
                raise NotFoundError(f'{_label(resource)} "{name}" not found{where}')
            raise classify(done.stderr, done.returncode)
        obj = _parse_json(done.stdout, f"get {resource} {name}")
        if not isinstance(obj, dict):
            raise KubectlError(f"kubectl get {resource} {name} printed no object")
        return obj

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        selector: Mapping[str, str] | None = None,
    ) -> list[Obj]:
        args = ["get", resource, *self._namespace_args(resource, namespace)]
        if selector:
            args += ["-l", selector_text(selector)]
        found = self.run_json(*args)
        items = found.get("items") if isinstance(found, dict) else None
        return [item for item in items or () if isinstance(item, dict)]

    def namespace(self) -> str:
        """The current context's namespace (``default`` when it sets none)."""
        if self._namespace is None:
            done = self.execute("config", "view", "--minify", "-o", "jsonpath={..namespace}")
            found = done.stdout.strip() if done.returncode == 0 else ""
            self._namespace = found.split()[0] if found else "default"
        return self._namespace

    def namespace_exists(self, name: str) -> bool | None:
        try:
            self.get(NAMESPACES, name)
        except NotFoundError:
            return False
        except (ForbiddenError, KubectlError, UnreachableError):
            return None
        return True


def kubectl_start_error(kubectl: str, exc: OSError) -> KubectlError:
    if isinstance(exc, FileNotFoundError):
        return KubectlError(
            f"kubectl not found: {kubectl!r} (install kubectl or give its path with --kubectl)")
    return KubectlError(f"cannot run kubectl {kubectl!r}: {exc.strerror or exc}")


def _parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        first = text.strip().splitlines()[0][:80] if text.strip() else "nothing"
        raise KubectlError(f"kubectl {what} printed something that is not JSON: {first}") from None


# -- saved state ----------------------------------------------------------------------------------


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def _flatten(doc: Any, source: str) -> Iterable[Obj]:
    """The objects of a document: itself, or the items of a List (kubectl's ``List`` or an API
    server's ``ServiceList`` whose items carry no kind), or of a JSON array."""
    if doc is None:
        return
    if isinstance(doc, list):
        for item in doc:
            yield from _flatten(item, source)
        return
    if not isinstance(doc, dict):
        raise InputError("not a Kubernetes object or List", source=source)
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
        item_kind = kind[: -len("List")]
        for item in doc["items"]:
            if isinstance(item, dict) and "kind" not in item and item_kind:
                item = {"apiVersion": doc.get("apiVersion", "v1"), "kind": item_kind, **item}
            yield from _flatten(item, source)
        return
    if not isinstance(kind, str) or not isinstance(doc.get("metadata"), dict):
        raise InputError("an object without kind or metadata", source=source)
    yield doc


def parse_state(text: str, source: str) -> list[Obj]:
    """The objects of ``kubectl get ... -o json`` (or ``-o yaml``) output: one or several JSON
    values one after the other, or a YAML stream; Lists are flattened."""
    stripped = text.lstrip()
    docs: list[Any] = []
    if not stripped:
        return []
    if stripped[0] in "[{":
        decoder = json.JSONDecoder()
        pos = len(text) - len(stripped)
        try:
            while pos < len(text):
                value, end = decoder.raw_decode(text, pos)
                docs.append(value)
                pos = end
                while pos < len(text) and text[pos].isspace():
                    pos += 1
        except ValueError as exc:
            raise InputError(f"not valid JSON: {exc}", source=source) from None
    else:
        docs = _load_yaml(text, source)
    return [obj for doc in docs for obj in _flatten(doc, source)]


def _load_yaml(text: str, source: str) -> list[Any]:
    # only a YAML state file pays for a YAML parser (ruamel is already a dependency)
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return list(YAML(typ="safe").load_all(text))
    except YAMLError as exc:
        message = " ".join(str(exc).split())
        raise InputError(f"not valid YAML or JSON: {message}", source=source) from None


class StateFile:
    """Objects saved with ``kubectl get svc,pods,nodes -A -o json`` (several files, YAML streams
    and concatenated JSON too), answering the same lookups as :class:`Kubectl`, offline."""

    def __init__(self, objects: Iterable[Mapping[str, Any]], source: str = "<state>") -> None:
        self.source = source
        self.objects: list[Obj] = [dict(obj) for obj in objects]

    @classmethod
    def read(cls, paths: Sequence[str]) -> StateFile:
        """Read state files (``-`` is stdin); an unreadable or unparsable one is an InputError."""
        objects: list[Obj] = []
        for path in paths:
            if path == "-":
                import sys

                text = sys.stdin.read()
            else:
                try:
                    with open(path, encoding="utf-8") as f:
                        text = f.read()
                except OSError as exc:
                    raise InputError(f"cannot read state file: {exc.strerror}",
                                     source=path) from None
                except UnicodeDecodeError:
                    raise InputError("state file is not UTF-8 text", source=path) from None
            objects += parse_state(text, "<stdin>" if path == "-" else path)
        return cls(objects, ", ".join(paths))

    def _matches(self, obj: Obj, resource: str) -> bool:
        group, kind, _ = RESOURCES.get(resource, ("", resource, True))
        return obj.get("kind") == kind and _group(str(obj.get("apiVersion", ""))) == group

    def _namespace_of(self, obj: Obj) -> str:
        return str(obj["metadata"].get("namespace") or "default")

    def get(self, resource: str, name: str, namespace: str | None = None) -> Obj:
        namespaced = RESOURCES.get(resource, ("", "", True))[2]
        namespace = namespace or self.namespace()
        for obj in self.objects:
            if not self._matches(obj, resource) or obj["metadata"].get("name") != name:
                continue
            if not namespaced or self._namespace_of(obj) == namespace:
                return obj
        where = _where(resource, namespace)
        raise NotFoundError(f'{_label(resource)} "{name}" not found{where} (state file)',
                            source=self.source)

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        selector: Mapping[str, str] | None = None,
    ) -> list[Obj]:
        namespaced = RESOURCES.get(resource, ("", "", True))[2]
        namespace = namespace or self.namespace()
        found = []
        for obj in self.objects:
            if not self._matches(obj, resource):
                continue
            if namespaced and self._namespace_of(obj) != namespace:
                continue
            labels = obj["metadata"].get("labels") or {}
            if selector and any(labels.get(k) != v for k, v in selector.items()):
                continue
            found.append(obj)
        return found

    def namespace(self) -> str:
        return "default"

    def namespace_exists(self, name: str) -> bool | None:
        for obj in self.objects:
            if obj.get("kind") == "Namespace" and obj["metadata"].get("name") == name:
                return True
            if obj["metadata"].get("namespace") == name:
                return True
        return False


def source_for(access: Access, from_files: Sequence[str] = ()) -> Source:
    """The cluster through kubectl, or the saved state files when there are any."""
    if from_files:
        return StateFile.read(from_files)
    return Kubectl(access)


# -- ConfigMaps for kube-inject --from-cluster ----------------------------------------------------

#: istioctl's names and keys
INJECTOR_CONFIGMAP = "istio-sidecar-injector"
MESH_CONFIGMAP = "istio"
INJECTOR_CONFIG_KEY = "config"
INJECTOR_VALUES_KEY = "values"
MESH_CONFIG_KEY = "mesh"


class IstioConfigMaps(Frozen):
    """The injector configuration read from a cluster: the texts istioctl reads, and where."""

    __slots__ = ("namespace", "injector_name", "mesh_name", "config", "values", "mesh")
    namespace: str
    injector_name: str
    mesh_name: str
    #: the injector ConfigMap's ``config`` key (the templates and injection policy)
    config: str
    #: its ``values`` key; None on Istio releases that had none
    values: str | None
    #: the mesh ConfigMap's ``mesh`` key
    mesh: str


def configmap_names(
    revision: str | None = None,
    injector_name: str | None = None,
    mesh_name: str | None = None,
) -> tuple[str, str]:
    """istioctl's rule: the default names get ``-REV`` for a revision; a given name is used as is
    (``--injectConfigMapName``, ``--meshConfigMapName``)."""
    suffix = f"-{revision}" if revision and revision != "default" else ""
    return (
        injector_name or INJECTOR_CONFIGMAP + suffix,
        mesh_name or MESH_CONFIGMAP + suffix,
    )


def get_configmap(source: Source, name: str, namespace: str) -> dict[str, str]:
    """The ``data`` of a ConfigMap; a missing one is a NotFoundError naming it and the
    namespace searched."""
    obj = source.get(CONFIGMAPS, name, namespace)
    data = obj.get("data") or {}
    return {str(k): str(v) for k, v in data.items()}


def read_istio_configmaps(
    source: Source,
    namespace: str = "istio-system",
    revision: str | None = None,
    injector_name: str | None = None,
    mesh_name: str | None = None,
) -> IstioConfigMaps:
    """Istio's injector and mesh ConfigMaps, as ``istioctl kube-inject`` reads them."""
    injector, mesh = configmap_names(revision, injector_name, mesh_name)
    injector_data = get_configmap(source, injector, namespace)
    mesh_data = get_configmap(source, mesh, namespace)
    for name, data, key in ((injector, injector_data, INJECTOR_CONFIG_KEY),
                            (mesh, mesh_data, MESH_CONFIG_KEY)):
        if key not in data:
            raise ConfigError(
                f'ConfigMap "{name}" in namespace "{namespace}" has no key "{key}"'
                f" (keys: {', '.join(sorted(data)) or 'none'})")
    return IstioConfigMaps(
        namespace, injector, mesh, injector_data[INJECTOR_CONFIG_KEY],
        injector_data.get(INJECTOR_VALUES_KEY), mesh_data[MESH_CONFIG_KEY])
