"""The user's values, mesh config and IstioOperator checked against Istio's own types.

``data/schema.json`` holds the field names and types of Istio's Helm values
(``values_types.proto``), mesh config (``config.proto``) and proxy config (``proxy.proto``),
generated from Istio's sources by ``docs/gen_config_schema.py``. :func:`check` walks a user's
tree along it and returns the problems, each at its path:

* a field Istio does not know: a **warning** (a typo such as ``concurency`` silently does
  nothing; in the values, only a custom template would read it);
* a value of the wrong type: an **error** (``concurrency: abc``, ``privileged: "false"``, which
  Go templates read as true, a mapping where a list belongs, an unknown enum name, a duration
  Istio cannot parse). A number or boolean where the values (which Istio's injector renders
  without parsing them into its types) expect a string only warns; the mesh config, which Istio
  parses into its protobuf types, is strict (``strict=True``), as Istio is.

A message of another package (Kubernetes or networking types) is only checked to be a mapping.
"""

from __future__ import annotations

import json
import os
import re

from meshctl.records import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final

#: the roots meshctl checks
VALUES: Final = "values:Values"
MESH: Final = "mesh:MeshConfig"
PROXY: Final = "proxy:ProxyConfig"

#: IstioOperator's ``spec`` (a Go struct, operator/pkg/apis/types.go): field -> descriptor
OPERATOR_SPEC: Final = {
    "profile": "string", "installPackagePath": "string", "hub": "string", "tag": "any",
    "namespace": "string", "revision": "string", "compatibilityVersion": "string",
    "meshConfig": f"msg:{MESH}", "components": "struct", "values": f"msg:{VALUES}",
    "unvalidatedValues": "any",
}

_DURATION: Final = (r"^-?(\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)"
                    r"((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))*$")
_INTEGER: Final = r"^-?\d+$"
_schema: list[dict[str, Any]] = []


def _load() -> dict[str, Any]:
    if not _schema:
        path = os.path.join(os.path.dirname(__file__), "data", "schema.json")
        with open(path, encoding="utf-8") as fh:
            _schema.append(json.load(fh))
    return _schema[0]


class Problem(Frozen):
    """A value that does not fit Istio's types: ``error`` (exit 3) or a warning."""

    __slots__ = ("path", "message", "error")

    path: tuple[str | int, ...]
    message: str
    error: bool


def _kind(value: Any) -> str:
    if value is True or value is False:
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def check(data: Any, root: str, *, strict: bool) -> list[Problem]:
    """The problems of ``data`` against message ``root`` (``VALUES``, ``MESH``...)."""
    problems: list[Problem] = []
    _check(data, f"msg:{root}", (), strict, problems)
    return problems


def check_operator_spec(spec: Any) -> list[Problem]:
    """An IstioOperator's ``spec``: its own fields, its ``values`` and ``meshConfig``."""
    problems: list[Problem] = []
    if not isinstance(spec, dict):
        return problems
    for key, value in spec.items():
        desc = OPERATOR_SPEC.get(str(key))
        if desc is None:
            problems.append(Problem((key,), f"unknown field {key!r} of IstioOperator spec "
                                    "(Istio ignores it)", False))
        else:
            _check(value, desc, (key,), key == "meshConfig", problems)
    return problems


def _check(value: Any, desc: str, path: tuple[str | int, ...], strict: bool,
           problems: list[Problem]) -> None:
    if value is None:
        return  # unset
    if desc.startswith("[]"):
        if not isinstance(value, list):
            problems.append(Problem(path, f"must be a list, not {_kind(value)}", True))
            return
        for i, item in enumerate(value):
            _check(item, desc[2:], (*path, i), strict, problems)
        return
    kind, _, name = desc.partition(":")
    if kind == "msg":
        _message(value, name, path, strict, problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(Problem(path, f"must be a mapping, not {_kind(value)}", True))
            return
        for key, item in value.items():
            _check(item, name, (*path, key), strict, problems)
    elif kind == "enum":
        names = _load()["enums"].get(name, [])
        ok = value in names or (isinstance(value, int) and not isinstance(value, bool))
        if not ok:
            problems.append(Problem(path, f"must be one of {', '.join(names)}, not "
                                    f"{json.dumps(value)}", True))
    else:
        message = _scalar(value, kind, strict)
        if message is not None:
            problems.append(Problem(path, message[1:], message[0] == "!"))


def _message(value: Any, name: str, path: tuple[str | int, ...], strict: bool,
             problems: list[Problem]) -> None:
    if not isinstance(value, dict):
        problems.append(Problem(path, f"must be a mapping, not {_kind(value)}", True))
        return
    fields = _load()["messages"].get(name, {})
    for key, item in value.items():
        desc = fields.get(str(key))
        if desc is None:
            where = name.partition(":")[2].rsplit(".", 1)[-1]
            # Istio's injector hands the values to the templates as they are (a custom template
            # may read its own keys); the mesh config is parsed into Istio's types
            note = ("only a custom template would read it" if name.startswith("values:")
                    else "Istio ignores it")
            problems.append(Problem((*path, key), f"unknown field {str(key)!r} of {where}"
                                    f"{_did_you_mean(str(key), fields)} ({note})", False))
            continue
        _check(item, desc, (*path, key), strict, problems)


def _did_you_mean(key: str, fields: dict[str, str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


def _scalar(value: Any, kind: str, strict: bool) -> str | None:
    """None when ``value`` fits ``kind``, else the problem, ``!`` first for an error."""
    is_bool = value is True or value is False
    number = isinstance(value, (int, float)) and not is_bool
    if kind == "string":
        if isinstance(value, str):
            return None
        if (number or is_bool) and not strict:
            return f"~should be a string, not {_kind(value)} (write it in quotes)"
        return f"!must be a string, not {_kind(value)}"
    if kind == "bool":
        if is_bool:
            return None
        return f"!must be true or false, not {_kind(value)} {json.dumps(value)}"
    if kind == "int":
        if (number and float(value).is_integer()) or (
                isinstance(value, str) and re.match(_INTEGER, value.strip())):
            return None
        return f"!must be an integer, not {_kind(value)} {json.dumps(value)}"
    if kind == "float":
        if number:
            return None
        if isinstance(value, str):
            try:
                float(value)
                return None
            except ValueError:
                pass
        return f"!must be a number, not {_kind(value)} {json.dumps(value)}"
    if kind == "duration":
        if isinstance(value, str) and (re.match(_DURATION, value) or value in ("0", "-0")):
            return None
        return (f"!must be a duration such as \"10s\" or \"1m30s\", not {_kind(value)} "
                f"{json.dumps(value)}")
    if kind == "struct":
        return None if isinstance(value, dict) else f"!must be a mapping, not {_kind(value)}"
    if kind == "list":
        return None if isinstance(value, list) else f"!must be a list, not {_kind(value)}"
    if kind == "intorstring":
        if isinstance(value, (int, str)) and not is_bool:
            return None
        return f"!must be a number or a string, not {_kind(value)}"
    return None  # any
