"""The output formats of a manifest run besides the manifests themselves.

* ``--output-format patch``: a YAML list whose entries are exactly kustomize ``patches:``
  entries, one per changed resource: ``target`` (group, version, kind, name, namespace) and
  ``patch`` (the RFC 6902 operations as a string), so the list can sit under ``patches:`` of an
  overlay's kustomization.yaml unchanged. A changed ``kind: List`` document gives one entry per
  changed item (kustomize reads a List's items as resources).
* ``--output-format jsonpatch``: the bare operations of each changed resource, one JSON array
  per line, in input order (for ``kubectl patch --type json -p "$(...)"``).
* ``--output-format json``: the resulting objects as JSON whatever the input: the object itself
  when there is one, else a ``v1`` ``List`` (as ``kubectl get -o json`` writes several). The
  objects are the input's data with each document's patch applied by :mod:`jsonpatch`.
* ``--diff``: a unified diff of every changed file.

The operations are strict RFC 6902 (a map is added whole when it is missing), so the same patch
applies with kustomize, ``kubectl patch`` and :func:`jsonpatch.apply_patch`.
"""

from __future__ import annotations

import json

from meshctl.manifests.results import DocumentChange, RunResult

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any


def _group_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def resource_patches(change: DocumentChange) -> list[tuple[dict[str, str], list[Any]]]:
    """``(target, operations)`` per changed resource of a changed document: the document itself,
    or each changed item of a ``List`` (its operations relative to the item)."""
    if not change.items:
        target = _target(change.api_version, change.kind, change.name, change.namespace)
        return [(target, list(change.patch))]
    out: list[tuple[dict[str, str], list[Any]]] = []
    for prefix, api_version, kind, namespace, name in change.items:
        ops = [_relative(op, prefix) for op in change.patch
               if op["path"] == prefix or op["path"].startswith(prefix + "/")]
        if ops:
            out.append((_target(api_version, kind, name, namespace), ops))
    return out


def _relative(op: dict[str, Any], prefix: str) -> dict[str, Any]:
    new = dict(op)
    new["path"] = op["path"][len(prefix):]
    if "from" in op:
        new["from"] = op["from"][len(prefix):]
    return new


def _target(api_version: str, kind: str, name: str, namespace: str) -> dict[str, str]:
    group, version = _group_version(api_version)
    return {"group": group, "version": version, "kind": kind, "name": name,
            "namespace": namespace}


def render_kustomize_patches(result: RunResult) -> str:
    """``--output-format patch`` (see the module docstring)."""
    from meshctl.yamltext.emitter import dump_flow, dump_scalar

    lines: list[str] = []
    for change in result.changes:
        for target, ops in resource_patches(change):
            fields = ", ".join(f"{k}: {dump_scalar(v, flow=True)}" for k, v in target.items())
            lines.append(f"- target: {{{fields}}}")
            lines.append("  patch: |-")
            lines.extend(f"    - {dump_flow(op)}" for op in ops)
    return "\n".join(lines) + "\n" if lines else "[]\n"


def render_jsonpatch(result: RunResult) -> str:
    """``--output-format jsonpatch``: one JSON array of operations per line."""
    return "".join(json.dumps(ops) + "\n" for change in result.changes
                   for _target, ops in resource_patches(change))


def render_json(result: RunResult) -> str:
    """``--output-format json``: every resulting object, as JSON (see the module docstring)."""
    import jsonpatch

    from meshctl.yamltext.source import load_document

    changes = {(c.source, c.document): c for c in result.changes}
    objects: list[Any] = []
    for s in result.sources:
        for chunk in s.source.chunks:
            if not chunk.has_content():
                continue
            data = load_document(chunk.text).data
            change = changes.get((chunk.source, chunk.index))
            if change is not None:
                data = jsonpatch.apply_patch(data, change.patch)
            if data is not None:
                objects.append(data)
    if len(objects) == 1:
        return json.dumps(objects[0], indent=2, ensure_ascii=False) + "\n"
    payload = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
               "items": objects}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def render_diff(result: RunResult) -> str:
    """``--diff``: a unified diff of every changed input (``a/NAME``, ``b/NAME``)."""
    import difflib  # only for --diff (start-up cost)

    out: list[str] = []
    for s in result.sources:
        if not s.changed:
            continue
        name = s.source.name
        out.extend(
            difflib.unified_diff(
                s.source.text.splitlines(keepends=True),
                s.new_text.splitlines(keepends=True),
                fromfile=f"a/{name}",
                tofile=f"b/{name}",
            )
        )
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n\\ No newline at end of file\n"
    return "".join(out)
