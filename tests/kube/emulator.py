"""A loopback Kubernetes API for tests: kmock 0.8 served on 127.0.0.1, good enough for real kubectl.

kmock's :class:`~kmock.KubernetesEmulator` keeps objects in memory and answers the API's URLs;
real kubectl needs a few things it does not do (kmock 0.8), fixed here by subclassing:

* core discovery (``/api/v1``) must say ``groupVersion: v1``, not ``/v1``;
* a subresource (``pods/status``) must not repeat its parent's shortNames (kubectl would map
  ``po`` to two resources);
* a list needs ``kind: XList``, ``apiVersion`` and ``metadata`` (kubectl decodes it as an
  unstructured list and takes each item's kind from the list's kind);
* ``/api/v1/namespaces[/NAME]`` is the namespaces resource, not a namespace prefix (kmock's path
  parser reads ``namespaces`` as the prefix of a namespaced URL and fails);
* ``labelSelector`` must filter (equality, ``!=``, ``in``/``notin``, existence);
* errors look like the real API server's ``Status`` (``reason: NotFound``, ``services "x" not
  found``), since that is what kubectl prints and meshctl classifies.

Besides, the emulator serves Gateway API ``gateway.networking.k8s.io/v1`` Gateways, can answer
every resource request with 401 or 403 (:meth:`Emulator.deny`), and writes a kubeconfig that
points to it. It runs in a thread with its own event loop, so synchronous tests (and kubectl
subprocesses) talk to it while the test thread sets objects up.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp.web
import attrs
import kmock

#: resource (plural[.group]) -> (apiVersion, kind, namespaced, shortNames)
RESOURCES: dict[str, tuple[str, str, bool, tuple[str, ...]]] = {
    "namespaces": ("v1", "Namespace", False, ("ns",)),
    "nodes": ("v1", "Node", False, ("no",)),
    "services": ("v1", "Service", True, ("svc",)),
    "pods": ("v1", "Pod", True, ("po",)),
    "configmaps": ("v1", "ConfigMap", True, ("cm",)),
    "gateways.gateway.networking.k8s.io": (
        "gateway.networking.k8s.io/v1", "Gateway", True, ("gtw",)),
}
_KIND_TO_RESOURCE = {(api, kind): name for name, (api, kind, _, _) in RESOURCES.items()}
_VERBS = ("get", "list", "watch", "create", "update", "patch", "delete")

#: kmock's parser takes ``/api/v1/namespaces/X`` for the prefix of a namespaced URL; such paths
#: are rewritten to this placeholder plural first and mapped back in :meth:`Emulator._handle`.
_NAMESPACES_PATH = re.compile(r"/api/v1/namespaces(?:/([^/]+))?/?")
_PLACEHOLDER = "meshctl-test-namespaces"


def _kmock_resource(name: str) -> kmock.resource:
    api_version = RESOURCES[name][0]
    plural = name.split(".", 1)[0]
    group, _, version = api_version.rpartition("/")
    return kmock.resource(group, version, plural)


# -- label selectors --------------------------------------------------------------------------

_SET_TERM = re.compile(r"^\s*([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_selector(text: str) -> Iterator[str]:
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            yield text[start:i]
            start = i + 1
    yield text[start:]


def selector_matches(selector: str, labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector semantics (the string form of ``?labelSelector=``)."""
    for term in _split_selector(selector):
        term = term.strip()
        if not term:
            continue
        match = _SET_TERM.match(term)
        if match:
            key, op, values = match.groups()
            choices = {v.strip() for v in values.split(",")}
            present = key in labels and labels[key] in choices
            if present != (op == "in"):
                return False
        elif "!=" in term:
            key, value = (s.strip() for s in term.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = (s.strip() for s in term.replace("==", "=").split("=", 1))
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


# -- the handler --------------------------------------------------------------------------------


@attrs.define(kw_only=True)
class Emulator(kmock.KubernetesEmulator):
    """kmock's emulator with the fixes real kubectl needs (see the module docstring)."""

    #: when set, resource requests answer this status (401 or 403); see :meth:`deny`
    denied: int | None = None
    #: with ``denied`` 403: only these resources (plural names) are forbidden; None: all
    denied_resources: set[str] | None = None
    denied_user: str = "tester"

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        for name, (_api, kind, namespaced, short) in RESOURCES.items():
            self.resources[_kmock_resource(name)] = kmock.ResourceInfo(
                kind=kind, singular=kind.lower(), namespaced=namespaced, shortnames=set(short),
                verbs=set(_VERBS), subresources={"status"},
            )

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        match = _NAMESPACES_PATH.fullmatch(raw_request.path)
        if match is not None:
            path = f"/api/v1/{_PLACEHOLDER}" + (f"/{match.group(1)}" if match.group(1) else "")
            raw_request = raw_request.clone(rel_url=raw_request.rel_url.with_path(path))
        return await super().__call__(raw_request)

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        resource = request.resource
        if resource is not None and resource.plural == _PLACEHOLDER:
            fixed = attrs.evolve(request, resource=kmock.resource("", "v1", "namespaces"))
            # kmock's views find a request among the handled ones by identity: swap it there too
            for i, seen in enumerate(self._requests):
                if seen is request:
                    self._requests[i] = fixed
            request, resource = fixed, fixed.resource
        if self.denied == 401 or (
                self.denied is not None and resource is not None and resource.plural is not None
                and (self.denied_resources is None or resource.plural in self.denied_resources)):
            raise self._denial(request)
        return await super()._handle(request)

    def _denial(self, request: kmock.Request) -> kmock.KubernetesError:
        if self.denied == 401:
            return kmock.KubernetesError(401, "Unauthorized", "Unauthorized", {})
        res = request.resource
        plural = res.plural if res is not None else ""
        group = res.group if res is not None else ""
        verb = "get" if request.name else "list"
        where = (f' in the namespace "{request.namespace}"' if request.namespace
                 else " at the cluster scope")
        what = f'{plural} "{request.name}"' if request.name else plural
        message = (f'{what} is forbidden: User "{self.denied_user}" cannot {verb} resource '
                   f'"{plural}" in API group "{group}"{where}')
        return kmock.KubernetesError(
            403, "Forbidden", message, {"name": request.name or "", "kind": plural})

    async def _serve_version(self, request: kmock.Request) -> Any:
        payload = await super()._serve_version(request)
        resource = request.resource
        assert resource is not None
        if resource.group == "":
            payload["groupVersion"] = resource.version  # "v1", never "/v1"
        for entry in payload["resources"]:
            if "/" in entry["name"]:  # a subresource: no shortNames, no categories
                entry["shortNames"] = []
                entry["categories"] = []
                entry["verbs"] = ["get", "patch", "update"]
        return payload

    async def _serve_list(self, request: kmock.Request) -> Any:
        payload = await super()._serve_list(request)
        resource = request.resource
        assert resource is not None
        info = self.resources[resource]
        selector = request.params.get("labelSelector")
        items = payload["items"]
        if selector:
            items = [o for o in items
                     if selector_matches(selector, o.get("metadata", {}).get("labels") or {})]
        fields = request.params.get("fieldSelector")
        if fields:
            items = [o for o in items if _fields_match(fields, o)]
        api = f"{resource.group}/{resource.version}" if resource.group else resource.version
        return {
            "kind": f"{info.kind}List",
            "apiVersion": api,
            "metadata": {"resourceVersion": "1"},
            "items": items,
        }

    async def _serve_fetch(self, request: kmock.Request) -> Any:
        try:
            return await super()._serve_fetch(request)
        except kmock.KubernetesObjectNotFoundError:
            resource = request.resource
            assert resource is not None
            kind = resource.plural if not resource.group else f"{resource.plural}.{resource.group}"
            raise kmock.KubernetesError(
                404, "NotFound", f'{kind} "{request.name}" not found',
                {"name": request.name, "kind": resource.plural}) from None


def _fields_match(selector: str, obj: Mapping[str, Any]) -> bool:
    for term in selector.split(","):
        negate = "!=" in term
        key, value = term.split("!=" if negate else "=", 1)
        node: Any = obj
        for part in key.strip().lstrip("=").split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if (str(node) == value.strip().lstrip("=")) == negate:
            return False
    return True


# -- the server ---------------------------------------------------------------------------------


class EmulatorServer:
    """The emulator on a free port of 127.0.0.1, in a thread, with a kubeconfig that points to it.

    Objects are added and removed from the test's thread (:meth:`add`, :meth:`clear`); the
    changes run on the server's event loop, so no request sees half of them.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.kubeconfig = directory / "kubeconfig"
        self.url = ""
        self.port = 0
        self._handler: Emulator | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="kube-emulator", daemon=True)

    # lifecycle

    def start(self) -> EmulatorServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the Kubernetes emulator did not start in 10 s")
        if self._failure is not None:
            raise RuntimeError("the Kubernetes emulator failed to start") from self._failure
        self._write_kubeconfig()
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(10)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start()
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with Emulator() as handler, kmock.Server(handler) as server:
            self._handler = handler
            self.port = server.port
            self.url = f"http://127.0.0.1:{server.port}"
            self._ready.set()
            await self._stop.wait()

    def _write_kubeconfig(self) -> None:
        self.kubeconfig.write_text(
            "apiVersion: v1\n"
            "kind: Config\n"
            "clusters:\n"
            "- name: emulator\n"
            f"  cluster: {{server: '{self.url}'}}\n"
            "users:\n"
            "- name: tester\n"
            "  user: {token: test-token}\n"
            "contexts:\n"
            "- name: emulator\n"
            "  context: {cluster: emulator, user: tester, namespace: default}\n"
            "- name: elsewhere\n"
            "  context: {cluster: emulator, user: tester, namespace: bookinfo}\n"
            "current-context: emulator\n",
            encoding="utf-8",
        )

    # state, changed on the server's loop

    def _call(self, fn: Any, *args: Any) -> Any:
        assert self._loop is not None

        async def run() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    @property
    def handler(self) -> Emulator:
        assert self._handler is not None
        return self._handler

    def add(self, *objects: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> None:
        """Store objects (each by its apiVersion, kind, metadata.namespace and name); a List or
        any iterable of objects is flattened."""
        flat: list[Mapping[str, Any]] = []
        for obj in objects:
            if isinstance(obj, Mapping):
                if obj.get("kind") == "List" or str(obj.get("kind", "")).endswith("List"):
                    flat.extend(obj.get("items") or [])
                else:
                    flat.append(obj)
            else:
                flat.extend(obj)
        self._call(self._add, flat)

    def _add(self, objects: list[Mapping[str, Any]]) -> None:
        for obj in objects:
            key = (obj["apiVersion"], obj["kind"])
            name = _KIND_TO_RESOURCE[key]
            meta = obj["metadata"]
            namespaced = RESOURCES[name][2]
            namespace = meta.get("namespace", "default") if namespaced else None
            stored = dict(obj)
            if namespaced:
                stored["metadata"] = {**meta, "namespace": namespace}
            self.handler.objects[_kmock_resource(name), namespace, meta["name"]] = stored

    def remove(self, resource: str, namespace: str | None, name: str) -> None:
        self._call(self._remove, resource, namespace, name)

    def _remove(self, resource: str, namespace: str | None, name: str) -> None:
        del self.handler.objects[_kmock_resource(resource), namespace, name]

    def clear(self) -> None:
        """Forget every object and every denial (between tests)."""
        self._call(self._clear)

    def _clear(self) -> None:
        self.handler.objects.clear()
        self.handler.denied = None
        self.handler.denied_resources = None

    def deny(self, status: int | None, resources: Iterable[str] | None = None) -> None:
        """Answer resource requests with 403 Forbidden (all, or those of ``resources``: plural
        names), or every request with 401 Unauthorized; None serves again."""
        self._call(self._deny, status, set(resources) if resources is not None else None)

    def _deny(self, status: int | None, resources: set[str] | None) -> None:
        self.handler.denied = status
        self.handler.denied_resources = resources

    def requests(self) -> list[str]:
        """The paths (with query) requested so far, oldest first."""
        paths = self._call(lambda: [str(r.url.relative()) for r in self.handler])
        return [p.replace(f"/api/v1/{_PLACEHOLDER}", "/api/v1/namespaces") for p in paths]
