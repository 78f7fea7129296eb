"""Generate meshctl/sidecar/config/data/schema.json: the field names and types of Istio's values,
mesh config and proxy config, read from Istio's own sources, for every release meshctl knows.

    python docs/gen_config_schema.py ISTIO_CHECKOUT:ISTIO_API_CHECKOUT [...]

Each pair is one Istio release, oldest first (``ISTIO_CHECKOUT/operator/pkg/apis/
values_types.proto`` and the istiod chart's ``values.yaml``, ``ISTIO_API_CHECKOUT/mesh/v1alpha1/
{config,proxy}.proto``); the fields of all of them are kept (a field one release knows is no
typo), the newest type winning. Keys of the chart's default values that the proto leaves out
(Istio reads values without its types) are added with the type of their default. Only names
and types are kept; meshctl.sidecar.config.schema checks the user's files against them. A
message of another package (networking types, Kubernetes types) is kept as "a mapping", not
checked inside.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parent.parent / "meshctl" / "sidecar" / "config" / "data" / \
    "schema.json"

#: protobuf scalar and well-known types -> meshctl's descriptor
WELL_KNOWN = {
    "string": "string", "bytes": "string", "bool": "bool",
    "int32": "int", "int64": "int", "uint32": "int", "uint64": "int", "sint32": "int",
    "sint64": "int", "fixed32": "int", "fixed64": "int", "sfixed32": "int", "sfixed64": "int",
    "float": "float", "double": "float",
    "google.protobuf.BoolValue": "bool", "google.protobuf.StringValue": "string",
    "google.protobuf.Int32Value": "int", "google.protobuf.UInt32Value": "int",
    "google.protobuf.Int64Value": "int", "google.protobuf.UInt64Value": "int",
    "google.protobuf.DoubleValue": "float", "google.protobuf.FloatValue": "float",
    "google.protobuf.Duration": "duration", "google.protobuf.Struct": "struct",
    "google.protobuf.Value": "any", "google.protobuf.ListValue": "list",
    "google.protobuf.Any": "struct",
}

#: the proto package of each file read (types resolve within their package)
PACKAGES = {"values": "istio.operator.v1alpha1", "mesh": "istio.mesh.v1alpha1",
            "proxy": "istio.mesh.v1alpha1"}

TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*|\d+|\"[^\"]*\"|'[^']*'|[{}<>;=,\[\]()]|-")


def tokens(text: str) -> list[str]:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return TOKEN.findall(text)


class Parser:
    def __init__(self, ns: str, toks: list[str]) -> None:
        self.ns = ns
        self.toks = toks
        self.i = 0
        self.messages: dict[str, list[tuple[str, str, bool, str]]] = {}
        self.enums: dict[str, list[str]] = {}

    def peek(self) -> str:
        return self.toks[self.i]

    def take(self) -> str:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def skip_statement(self) -> None:
        depth = 0
        while True:
            tok = self.take()
            if tok in "{[(":
                depth += 1
            elif tok in "}])":
                depth -= 1
                if depth == 0 and tok == "}":
                    return
            elif tok == ";" and depth == 0:
                return

    def file(self) -> None:
        while self.i < len(self.toks):
            tok = self.peek()
            if tok == "message":
                self.message("")
            elif tok == "enum":
                self.enum("")
            else:
                self.skip_statement()

    def enum(self, scope: str) -> None:
        self.take()
        name = f"{scope}{self.take()}"
        self.take()  # {
        values = []
        while self.peek() != "}":
            tok = self.take()
            if tok in ("option", "reserved"):
                self.i -= 1
                self.skip_statement()
                continue
            values.append(tok)
            while self.take() != ";":
                pass
        self.take()
        self.enums[name] = values

    def message(self, scope: str) -> None:
        self.take()
        name = f"{scope}{self.take()}"
        self.take()  # {
        fields: list[tuple[str, str, bool, str]] = []
        self.messages[name] = fields
        self.body(name, fields)

    def body(self, name: str, fields: list[tuple[str, str, bool, str]]) -> None:
        while self.peek() != "}":
            tok = self.peek()
            if tok == "message":
                self.message(f"{name}.")
            elif tok == "enum":
                self.enum(f"{name}.")
            elif tok == "oneof":
                self.take()
                self.take()
                self.take()  # {
                self.body(name, fields)
            elif tok in ("option", "reserved", "extensions"):
                self.skip_statement()
            else:
                self.field(name, fields)
        self.take()

    def field(self, scope: str, fields: list[tuple[str, str, bool, str]]) -> None:
        repeated = False
        tok = self.take()
        if tok in ("repeated", "optional"):
            repeated = tok == "repeated"
            tok = self.take()
        if tok == "map":
            self.take()  # <
            self.take()  # key type
            self.take()  # ,
            value = self.take()
            self.take()  # >
            type_ = f"map<{value}>"
        else:
            type_ = tok
        name = self.take()
        while self.take() != ";":
            pass
        fields.append((name, type_, repeated, scope))


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def resolve(ns: str, parser: Parser, type_: str, scope: str, known: dict[str, Any]) -> str:
    if type_.startswith("map<"):
        return "map:" + resolve(ns, parser, type_[4:-1], scope, known)
    if type_ in WELL_KNOWN:
        return WELL_KNOWN[type_]
    if type_ == "IntOrString":
        return "intorstring"
    parts = scope.split(".")
    for i in range(len(parts), -1, -1):
        candidate = ".".join([*parts[:i], type_]) if i else type_
        if candidate in parser.messages:
            return f"msg:{ns}:{candidate}"
        if candidate in parser.enums:
            return f"enum:{ns}:{candidate}"
    short = type_.removeprefix("istio.mesh.v1alpha1.")
    for other_ns, other in known.items():  # the other file of the same proto package
        if PACKAGES[other_ns] == PACKAGES[ns] and other_ns != ns:
            if short in other.messages:
                return f"msg:{other_ns}:{short}"
            if short in other.enums:
                return f"enum:{other_ns}:{short}"
    return "struct"  # a message of another package: a mapping, not checked inside


def read_release(istio: str, api: str) -> dict[str, Any]:
    sources = {
        "values": Path(istio) / "operator" / "pkg" / "apis" / "values_types.proto",
        "mesh": Path(api) / "mesh" / "v1alpha1" / "config.proto",
        "proxy": Path(api) / "mesh" / "v1alpha1" / "proxy.proto",
    }
    parsers: dict[str, Parser] = {}
    for ns, path in sources.items():
        p = Parser(ns, tokens(path.read_text()))
        p.file()
        parsers[ns] = p
    out: dict[str, Any] = {"messages": {}, "enums": {}}
    for ns, p in parsers.items():
        for name, values in p.enums.items():
            out["enums"][f"{ns}:{name}"] = values
        for name, fields in p.messages.items():
            table: dict[str, str] = {}
            for field, type_, repeated, scope in fields:
                desc = resolve(ns, p, type_, scope, parsers)
                desc = f"[]{desc}" if repeated else desc
                table[field] = desc
                table.setdefault(camel(field), desc)
            out["messages"][f"{ns}:{name}"] = table
    chart = Path(istio) / "manifests" / "charts" / "istio-control" / "istio-discovery" / \
        "values.yaml"
    if chart.exists():
        defaults = yaml.safe_load(chart.read_text()) or {}
        defaults = defaults.get("_internal_defaults_do_not_set", defaults)
        add_chart_keys(defaults, "values:Values", out["messages"])
    return out


def infer(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "struct"
    return "any"


def add_chart_keys(tree: dict[str, Any], message: str, messages: dict[str, Any]) -> None:
    fields = messages.setdefault(message, {})
    for key, value in tree.items():
        desc = fields.get(key)
        if desc is None:
            fields[key] = infer(value)
        elif desc.startswith("msg:") and isinstance(value, dict):
            add_chart_keys(value, desc[4:], messages)


def main(*releases: str) -> None:
    merged: dict[str, Any] = {"messages": {}, "enums": {}}
    for release in releases:
        istio, api = release.split(":", 1)
        out = read_release(istio, api)
        for name, values in out["enums"].items():
            merged["enums"][name] = sorted(set(merged["enums"].get(name, [])) | set(values))
        for name, fields in out["messages"].items():
            merged["messages"].setdefault(name, {}).update(fields)
    OUT.write_text(json.dumps(merged, indent=0, sort_keys=True, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({len(merged['messages'])} messages, {len(merged['enums'])} enums)")


if __name__ == "__main__":
    main(*sys.argv[1:])
