"""Strategic merge of a rendered template (or a container) into a pod, as Kubernetes does it.

Istio merges each rendered template into the pod with a strategic merge patch over
``corev1.Pod``. The rules reproduced here:

* mappings merge key by key; a ``null`` in the patch deletes the key;
* lists the Kubernetes API marks ``patchStrategy: merge`` merge item by item on their merge key
  (containers, init containers and volumes by ``name``, env by ``name``, ports by
  ``containerPort``, volume mounts by ``mountPath`` ...): a matching item is merged, a new one is
  appended; an empty patch list changes nothing;
* every other list, and every scalar, is replaced by the patch;
* ``$patch: replace`` / ``$patch: delete`` directives in a patch mapping or list item are honoured.

Values are copied from the patch, never shared with it, and ``null``s inside new values are
dropped (Istio's typed round trip drops them). The original is not modified: changed mappings
and lists are new objects, unchanged branches are shared with the original.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final
    Copier = Callable[[Any], Any]

#: Per Kubernetes type: field -> (type of its items or value, merge key of a merge list).
#: A merge key of ``""`` marks a list of scalars merged as a set (``patchStrategy: merge``).
_Schema = Mapping[str, tuple[str | None, str | None]]

SCHEMA: Final[Mapping[str, _Schema]] = {
    "Pod": {"metadata": ("ObjectMeta", None), "spec": ("PodSpec", None)},
    "ObjectMeta": {"ownerReferences": (None, "uid"), "finalizers": (None, "")},
    "PodSpec": {
        "containers": ("Container", "name"),
        "initContainers": ("Container", "name"),
        "ephemeralContainers": ("Container", "name"),
        "volumes": (None, "name"),
        "imagePullSecrets": (None, "name"),
        "hostAliases": (None, "ip"),
        "topologySpreadConstraints": (None, "topologyKey"),
        "resourceClaims": (None, "name"),
        "schedulingGates": (None, "name"),
    },
    "Container": {
        "env": (None, "name"),
        "ports": (None, "containerPort"),
        "volumeMounts": (None, "mountPath"),
        "volumeDevices": (None, "devicePath"),
        "resizePolicy": (None, "resourceName"),
    },
}

_PATCH: Final = "$patch"


def strategic_merge(original: Mapping[str, Any] | None, patch: Mapping[str, Any] | None,
                    type_name: str = "Pod", *, copy: bool = True) -> dict[str, Any]:
    """Merge ``patch`` into ``original`` (a ``type_name`` object) and return the result.

    With ``copy=False`` values taken from the patch are shared with it, not cleaned copies: for
    results that are only read (Istio's accumulated "template pod").
    """
    if original is None:
        original = {}
    if not patch:
        return dict(original)
    return _merge_map(original, patch, type_name, clean if copy else _share)


def _share(value: Any) -> Any:
    return value


#: values that are neither mappings nor lists, by exact type: :func:`clean` meets ~400 per pod,
#: and ``isinstance(x, Mapping)`` is an ABC check (a Python-level call) for each
_SCALARS: Final = frozenset({str, int, float, bool, type(None)})


def clean(value: Any) -> Any:
    """A deep copy of a patch value without ``null``s and ``$`` directives."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict or (kind is not list and isinstance(value, Mapping)):
        return {k: clean(v) for k, v in value.items()
                if v is not None and not (isinstance(k, str) and k.startswith("$"))}
    if kind is list or isinstance(value, list):
        return [clean(v) for v in value
                if not ((type(v) is dict or (type(v) not in _SCALARS and isinstance(v, Mapping)))
                        and v.get(_PATCH) == "delete")]
    return value




def _merge_map(original: Mapping[str, Any], patch: Mapping[str, Any], type_name: str | None,
               take: Copier) -> dict[str, Any]:
    directive = patch.get(_PATCH)
    if directive == "replace":
        return clean(patch)  # type: ignore[no-any-return]
    if directive == "delete":
        return {}
    schema = SCHEMA.get(type_name or "", {})
    out = dict(original)
    for key, pvalue in patch.items():
        if isinstance(key, str) and key.startswith("$"):
            continue
        if pvalue is None:
            out.pop(key, None)
            continue
        sub_type, merge_key = schema.get(key, (None, None))
        ovalue = out.get(key)
        if isinstance(ovalue, Mapping) and isinstance(pvalue, Mapping):
            out[key] = _merge_map(ovalue, pvalue, sub_type, take)
        elif isinstance(ovalue, list) and isinstance(pvalue, list) and merge_key is not None:
            out[key] = _merge_list(ovalue, pvalue, sub_type, merge_key, take)
        elif isinstance(pvalue, Mapping) and pvalue.get(_PATCH) == "delete":
            out.pop(key, None)
        else:
            out[key] = take(pvalue)
    return out


def _merge_list(original: list[Any], patch: list[Any], item_type: str | None,
                merge_key: str, take: Copier) -> list[Any]:
    """``mergeSlice``: merge by key, then Kubernetes' order (``normalizeElementOrder``)."""
    if not patch:
        return original

    def key_of(item: Any) -> Any:
        if merge_key == "":
            return _hashable(item)
        return _hashable(item.get(merge_key)) if isinstance(item, Mapping) else _hashable(item)

    server_order: dict[Any, int] = {}
    for i, item in enumerate(original):
        server_order.setdefault(key_of(item), i)
    merged: dict[Any, Any] = {}
    deleted: set[Any] = set()
    patch_keys: list[Any] = []
    for item in patch:
        k = key_of(item)
        if isinstance(item, Mapping) and item.get(_PATCH) == "delete":
            deleted.add(k)
            merged.pop(k, None)
            continue
        if k in merged:
            base = merged[k]
        elif k in server_order:
            base = original[server_order[k]]
        else:
            base = None
        if merge_key and isinstance(item, Mapping) and isinstance(base, Mapping):
            merged[k] = _merge_map(base, item, item_type, take)
        elif base is not None and merge_key == "":
            merged[k] = base
        else:
            merged[k] = take(item)
        if k not in patch_keys:
            patch_keys.append(k)
    patch_items = [(k, merged[k]) for k in patch_keys if k in merged]
    server_only = [(key_of(o), o) for o in original
                   if key_of(o) not in merged and key_of(o) not in deleted]
    # mergeSortedSlice: server-only items are inserted among the patch items by their position
    # in the original list; a patch item the original does not have goes first.
    result: list[Any] = []
    i = j = 0
    while i < len(server_only) or j < len(patch_items):
        if i >= len(server_only):
            result.append(patch_items[j][1])
            j += 1
        elif j >= len(patch_items):
            result.append(server_only[i][1])
            i += 1
        else:
            li = server_order.get(server_only[i][0], -1)
            ri = server_order.get(patch_items[j][0], -1)
            if li >= 0 and ri >= 0 and li < ri:
                result.append(server_only[i][1])
                i += 1
            else:
                result.append(patch_items[j][1])
                j += 1
    return result


def _hashable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value
