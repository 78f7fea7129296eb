"""Offline Kubernetes schema validation (kubernetes-validate's schemas), validators built once.

kubernetes_validate.validate() rebuilds the JSON-schema validator on every call (~17 ms); here a
validator is built once per (kind, apiVersion, Kubernetes version) and reused (~0.6 ms per
document). ``VERSION`` is the default; ``VERSIONS`` are the releases every injected output of
the test corpus must validate against (tests/test_k8s_versions.py).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import jsonschema
from kubernetes_validate import utils as kv
from referencing import Registry, Resource

VERSION = "1.33"
#: Kubernetes 1.30 through 1.37
VERSIONS = tuple(f"1.{minor}" for minor in range(30, 38))


@functools.cache
def _definitions(schema_dir: str, k8s: str) -> Any:
    return kv.schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json", k8s)


@functools.cache
def _validator(kind: str, api_version: str, strict: bool,
               k8s: str = VERSION) -> jsonschema.protocols.Validator:
    (version,) = {v for v in kv.all_versions() if kv.major_minor(v) == k8s}
    schema_dir = f"v{version}-local" + ("-strict" if strict else "")
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = kv.schema_contents(
        f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{api}.json", k8s
    )
    registry: Registry = Resource.from_contents(schema) @ Registry()
    registry = Resource.from_contents(_definitions(schema_dir, k8s)) @ registry
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def errors(obj: dict[str, Any], strict: bool = True, k8s: str = VERSION) -> list[str]:
    """Validation errors of one object against Kubernetes ``k8s`` (empty list when valid)."""
    # round-trip through JSON so YAML-only types (e.g. dates) show up as they would to kubectl
    obj = json.loads(json.dumps(obj, default=str))
    v = _validator(obj["kind"], obj["apiVersion"], strict, k8s)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(obj)]


def has_schema(obj: dict[str, Any], k8s: str = VERSION) -> bool:
    try:
        _validator(obj["kind"], obj["apiVersion"], True, k8s)
    except Exception:
        return False
    return True
