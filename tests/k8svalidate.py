"""Offline Kubernetes schema validation (kubernetes-validate's schemas), validators built once.

kubernetes_validate.validate() rebuilds the JSON-schema validator on every call (~17 ms); here a
validator is built once per (kind, apiVersion) and reused (~0.6 ms per document).
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


@functools.cache
def _definitions(schema_dir: str) -> Any:
    return kv.schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json", VERSION)


@functools.cache
def _validator(kind: str, api_version: str, strict: bool) -> jsonschema.protocols.Validator:
    version = [v for v in kv.all_versions() if kv.major_minor(v) <= VERSION][-1]
    schema_dir = f"v{version}-local" + ("-strict" if strict else "")
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = kv.schema_contents(
        f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{api}.json", VERSION
    )
    registry: Registry = Resource.from_contents(schema) @ Registry()
    registry = Resource.from_contents(_definitions(schema_dir)) @ registry
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def errors(obj: dict[str, Any], strict: bool = True) -> list[str]:
    """Validation errors of one object (empty list when valid)."""
    # round-trip through JSON so YAML-only types (e.g. dates) show up as they would to kubectl
    obj = json.loads(json.dumps(obj, default=str))
    v = _validator(obj["kind"], obj["apiVersion"], strict)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(obj)]


def has_schema(obj: dict[str, Any]) -> bool:
    try:
        _validator(obj["kind"], obj["apiVersion"], True)
    except Exception:
        return False
    return True
