"""Validation of the objects ``create ingress`` produces, offline.

* Kubernetes kinds: kubernetes-validate's strict schemas (no unknown field anywhere) of every
  version in :data:`K8S_VERSIONS`. kubernetes-validate 1.37 ships 1.25-1.37, none of which
  serves ``extensions/v1beta1`` Ingress: that kind is checked against the 1.21 strict schema of
  the kubernetes-validate 1.21.0 source archive when ``MESHCTL_K8S_LEGACY_SCHEMAS`` names it
  (``pip download kubernetes-validate==1.21.0 --no-deps --no-binary :all:``), and always by
  converting it to ``networking.k8s.io/v1`` field by field (:func:`v1beta1_as_v1`).
* Istio and Gateway API kinds: the ``openAPIV3Schema`` of the version the object names, from the
  CRDs in ../shared/crds, made strict the way the API server is (a structural schema prunes, and
  ``kubectl --validate=strict`` refuses, unknown fields: every object schema with ``properties``
  and no ``additionalProperties`` or ``x-kubernetes-preserve-unknown-fields`` gets
  ``additionalProperties: false``); ``metadata`` is checked as a strict ObjectMeta (Kubernetes
  1.37). jsonschema ignores the ``x-kubernetes-*`` keywords, so the CEL rules
  (``x-kubernetes-validations``) are not evaluated here; the builders check the ones that
  concern them (see meshctl.gateways.gatewayapi) and the tests do too.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import sys
import tarfile
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.conftest import SHARED

K8S_VERSIONS = ("1.30", "1.37")
LEGACY_VERSION = "1.21"
LEGACY_ENV = "MESHCTL_K8S_LEGACY_SCHEMAS"
_K8S_DEFS_ID = "https://kubernetes.io/api/_definitions.json"
_OBJECT_META = _K8S_DEFS_ID + "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

Validator = jsonschema.protocols.Validator


def _messages(validator: Validator, obj: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(obj)
    ]


# --------------------------------------------------------------------------------------------
# Kubernetes


def _k8s_dir(version: str) -> Any:
    return files("kubernetes_validate") / "kubernetes-json-schema" / f"v{version}.0-local-strict"


@functools.cache
def _k8s_defs(version: str) -> Any:
    return json.loads((_k8s_dir(version) / "_definitions.json").read_text())


@functools.cache
def _k8s_validator(kind: str, api_version: str, version: str) -> Validator:
    group, _, ver = api_version.rpartition("/")
    api = f"{group.split('.')[0]}-{ver}" if group else ver
    schema = json.loads((_k8s_dir(version) / f"{kind.lower()}-{api}.json").read_text())
    registry: Registry = Resource.from_contents(schema) @ Registry()
    registry = Resource.from_contents(_k8s_defs(version)) @ registry
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def k8s_errors(obj: dict[str, Any], version: str) -> list[str]:
    return _messages(_k8s_validator(obj["kind"], obj["apiVersion"], version), obj)


def legacy_archive() -> Path | None:
    """The archive named by ``MESHCTL_K8S_LEGACY_SCHEMAS``, else the one .ci/install-tools.sh
    put into the environment (``<prefix>/share/meshctl-tests``), else None."""
    path = os.environ.get(LEGACY_ENV)
    if path:
        return Path(path)
    installed = Path(sys.prefix) / "share" / "meshctl-tests" / "kubernetes-validate-1.21.0.tar.gz"
    return installed if installed.is_file() else None


@functools.cache
def _legacy_validator(kind: str, group: str, version: str) -> Validator:
    """The kubernetes-validate 1.21.0 archive's strict schema (draft 4, relative references)."""
    archive = legacy_archive()
    assert archive is not None
    folder = f"kubernetes_validate/kubernetes-json-schema/v{LEGACY_VERSION}.0-local-strict/"
    with tarfile.open(archive) as tar:
        members = {m.name.split("src/", 1)[-1]: m for m in tar.getmembers()}

        def load(name: str) -> Any:
            handle = tar.extractfile(members[folder + name])
            assert handle is not None
            return json.load(handle)

        schema = load(f"{kind.lower()}-{group}-{version}.json")
        defs = load("_definitions.json")
    base = "file:///k8s-legacy/"
    # draft 4 ignores "id" beside "$ref": the object's schema goes inside one with a base URI
    schema.pop("$schema", None)
    schema = {"id": base + "object.json", "allOf": [schema]}
    defs = {**defs, "id": base + "_definitions.json"}
    registry: Registry = Registry().with_resources(
        [
            (base + "object.json", DRAFT4.create_resource(schema)),
            (base + "_definitions.json", DRAFT4.create_resource(defs)),
        ]
    )
    return jsonschema.validators.Draft4Validator(schema, registry=registry)


def legacy_errors(obj: dict[str, Any]) -> list[str]:
    group, _, ver = obj["apiVersion"].rpartition("/")
    return _messages(_legacy_validator(obj["kind"], group.split(".")[0], ver), obj)


def _port_v1(port: int | str) -> dict[str, Any]:
    return {"number": port} if isinstance(port, int) else {"name": port}


def _backend_v1(backend: dict[str, Any]) -> dict[str, Any]:
    backend = dict(backend)
    out = {"service": {"name": backend.pop("serviceName"),
                       "port": _port_v1(backend.pop("servicePort"))}}
    assert backend == {}, f"unknown backend fields {backend}"
    return out


def v1beta1_as_v1(obj: dict[str, Any]) -> dict[str, Any]:
    """An ``extensions/v1beta1`` Ingress as the API server converts it to
    ``networking.k8s.io/v1`` (``backend`` -> ``defaultBackend``, ``serviceName``/``servicePort``
    -> ``service``), with the ``kubernetes.io/ingress.class`` annotation read as
    ``ingressClassName``. Every field is consumed: an unknown one fails."""
    obj = copy.deepcopy(obj)
    assert obj.pop("apiVersion") == "extensions/v1beta1" and obj.pop("kind") == "Ingress"
    meta = obj.pop("metadata")
    spec = obj.pop("spec")
    assert obj == {}, f"unknown fields {obj}"
    annotations = meta.get("annotations", {})
    new_spec: dict[str, Any] = {}
    if "kubernetes.io/ingress.class" in annotations:
        new_spec["ingressClassName"] = annotations.pop("kubernetes.io/ingress.class")
        if not annotations:
            del meta["annotations"]
    if "backend" in spec:
        new_spec["defaultBackend"] = _backend_v1(spec.pop("backend"))
    if "tls" in spec:
        new_spec["tls"] = spec.pop("tls")
    rules = spec.pop("rules", None)
    assert spec == {}, f"unknown spec fields {spec}"
    if rules is not None:
        new_spec["rules"] = []
        for rule in rules:
            rule = dict(rule)
            paths = []
            for path in rule.pop("http").pop("paths"):
                path = dict(path)
                path["backend"] = _backend_v1(path["backend"])
                assert set(path) <= {"path", "pathType", "backend"}, path
                paths.append(path)
            host = rule.pop("host", None)
            assert rule == {}, f"unknown rule fields {rule}"
            new_spec["rules"].append(({"host": host} if host else {}) | {"http": {"paths": paths}})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta,
            "spec": new_spec}


# --------------------------------------------------------------------------------------------
# CRDs


@functools.cache
def _crds() -> tuple[dict[str, Any], ...]:
    return tuple(
        yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
        for path in sorted((SHARED / "crds").glob("*.yaml"))
    )


def _closed(node: Any) -> Any:
    """A copy of an OpenAPI schema in which objects with known properties take no others."""
    if isinstance(node, list):
        return [_closed(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _closed(v) if k != "properties" else {p: _closed(s) for p, s in v.items()}
           for k, v in node.items()}
    if ("properties" in node and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


@functools.cache
def crd_schema(api_version: str, kind: str) -> dict[str, Any]:
    """The strict ``openAPIV3Schema`` of ``kind`` at ``api_version``."""
    group, _, version = api_version.partition("/")
    for crd in _crds():
        spec = crd["spec"]
        if spec["group"] == group and spec["names"]["kind"] == kind:
            for v in spec["versions"]:
                if v["name"] == version and v.get("served", True):
                    return _closed(v["schema"]["openAPIV3Schema"])  # type: ignore[no-any-return]
    raise LookupError(f"no CRD in ../shared/crds serves {kind} {api_version}")


@functools.cache
def _crd_validator(api_version: str, kind: str) -> Validator:
    schema = copy.deepcopy(crd_schema(api_version, kind))
    schema["properties"].update(
        apiVersion={"const": api_version}, kind={"const": kind}, metadata={"$ref": _OBJECT_META}
    )
    schema["required"] = ["apiVersion", "kind", "metadata", "spec"]
    registry: Registry = Resource.from_contents(_k8s_defs(K8S_VERSIONS[-1])) @ Registry()
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def crd_errors(obj: dict[str, Any]) -> list[str]:
    return _messages(_crd_validator(obj["apiVersion"], obj["kind"]), obj)


# --------------------------------------------------------------------------------------------


def errors(obj: dict[str, Any]) -> list[str]:
    """Everything wrong with ``obj`` (empty when it validates), whatever its kind."""
    api_version = obj["apiVersion"]
    if api_version == "networking.k8s.io/v1":
        return [f"Kubernetes {v}: {m}" for v in K8S_VERSIONS for m in k8s_errors(obj, v)]
    if api_version == "extensions/v1beta1":
        out = [f"as networking.k8s.io/v1, Kubernetes {v}: {m}"
               for v in K8S_VERSIONS for m in k8s_errors(v1beta1_as_v1(obj), v)]
        if legacy_archive() is not None:
            out += [f"Kubernetes {LEGACY_VERSION}: {m}" for m in legacy_errors(obj)]
        return out
    return crd_errors(obj)
