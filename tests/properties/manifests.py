"""Hypothesis strategies for Kubernetes manifests as users write them, and as they break.

A manifest is generated as data (:func:`objects`: workload kinds and others, nested in a
``List`` sometimes), then written as YAML text in a random style (:func:`render`): block or
flow collections, sequences indented or not under their key, plain, single- or double-quoted
scalars, comments at the end of lines and on lines of their own, anchors and aliases (shared
labels, shared resources), unicode, empty and null collections, CRLF line endings, ``---``
and ``...`` markers, comment-only documents, or as JSON. :func:`broken` then mutates such a
text the way files get damaged (bytes inserted, deleted, lines swapped or duplicated, the text
cut) or changes its data into shapes that are wrong (``containers: null``, a non-string
annotation, a top-level list ...).

Every strategy is built from hypothesis primitives, so failures shrink to small examples.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import strategies as st

# --- data ----------------------------------------------------------------------------------

#: kind -> (apiVersion, path of the pod template from the object's root)
WORKLOADS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Pod": ("v1", ()),
    "Deployment": ("apps/v1", ("spec", "template")),
    "StatefulSet": ("apps/v1", ("spec", "template")),
    "DaemonSet": ("apps/v1", ("spec", "template")),
    "ReplicaSet": ("apps/v1", ("spec", "template")),
    "Job": ("batch/v1", ("spec", "template")),
    "CronJob": ("batch/v1", ("spec", "jobTemplate", "spec", "template")),
}
UNICODE = ["café", "日本語", "emoji 🚀", "Ünïcødé", "tab\there", "a: b", "# not a comment",
           "- dash", "'quoted'", '"double"', "yes", "null", "0755", "1e3", "~", ""]

names = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
#: any text YAML can hold in a file: no control characters (other than tab) or surrogates
texts = st.one_of(names, st.sampled_from(UNICODE), st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), whitelist_characters="\t"), max_size=12))


@st.composite
def probes(draw: st.DrawFn, ports: list[dict[str, Any]]) -> dict[str, Any]:
    """A probe: on a number (one the container also names, sometimes), a named port (one it
    does not declare, sometimes), the agent's port; without a port, or with a gRPC service."""
    port_names = [p["name"] for p in ports if "name" in p]
    port = draw(st.one_of(
        st.integers(1, 65535), st.sampled_from(port_names or ["missing"]), st.just(15020),
        st.sampled_from([p["containerPort"] for p in ports] or [8080])))
    action = draw(st.sampled_from(["httpGet", "tcpSocket", "grpc", "exec"]))
    if action == "httpGet":
        probe: dict[str, Any] = {"httpGet": {"path": "/" + draw(names), "port": port}}
        if draw(st.integers(0, 7)) == 0:
            del probe["httpGet"]["port"]  # invalid in Kubernetes, written all the same
        if draw(st.booleans()):
            probe["httpGet"]["scheme"] = draw(st.sampled_from(["HTTP", "HTTPS"]))
    elif action == "tcpSocket":
        probe = {"tcpSocket": {"port": port}}
    elif action == "grpc":
        probe = {"grpc": {"port": draw(st.integers(1, 65535))}}
        if draw(st.booleans()):
            probe["grpc"]["service"] = draw(st.sampled_from(["", "svc", "a.b.Health"]))
    else:
        probe = {"exec": {"command": ["cat", "/tmp/ok"]}}
    if draw(st.booleans()):
        probe["periodSeconds"] = draw(st.integers(1, 30))
    return probe


@st.composite
def containers(draw: st.DrawFn, name: str) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": draw(st.sampled_from(
        ["nginx", "example.com/app:1.0", "busybox@sha256:" + "a" * 64]))}
    if draw(st.booleans()):
        ports = [{"containerPort": 8080 + i, **({"name": f"p{i}"} if draw(st.booleans())
                                                 else {})}
                 for i in range(draw(st.integers(1, 2)))]
        c["ports"] = ports
    else:
        ports = []
    for field in ("readinessProbe", "livenessProbe", "startupProbe"):
        if draw(st.integers(0, 3)) == 0:
            c[field] = draw(probes(ports))
    if draw(st.integers(0, 5)) == 0:
        hook = draw(probes(ports))
        c["lifecycle"] = {"preStop": {k: v for k, v in hook.items() if k != "periodSeconds"
                                      and k != "grpc"} or {"exec": {"command": ["true"]}}}
    if draw(st.integers(0, 3)) == 0:
        c["env"] = [{"name": draw(names).upper().replace("-", "_"), "value": draw(texts)}
                    for _ in range(draw(st.integers(0, 2)))]
    elif draw(st.integers(0, 5)) == 0:
        c["env"] = None
    if draw(st.integers(0, 3)) == 0:
        c["resources"] = {"limits": {"cpu": draw(st.sampled_from(["100m", "1", "2000m"])),
                                     "memory": draw(st.sampled_from(["64Mi", "1Gi"]))}}
    if draw(st.integers(0, 4)) == 0:
        c["args"] = draw(st.lists(texts, max_size=3))
    return c


@st.composite
def pod_template(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 3))
    cnames = draw(st.lists(names, min_size=n, max_size=n, unique=True).filter(
        lambda xs: not any(x.startswith("istio") for x in xs)))
    spec: dict[str, Any] = {"containers": [draw(containers(c)) for c in cnames]}
    if draw(st.integers(0, 3)) == 0:
        spec["initContainers"] = [{"name": "setup-" + cnames[0], "image": "busybox"}]
    elif draw(st.integers(0, 5)) == 0:  # empty and null collections
        spec["initContainers"] = draw(st.sampled_from([[], None]))
    if draw(st.integers(0, 3)) == 0:
        spec["volumes"] = [{"name": "data-" + draw(names), "emptyDir": {}}]
    elif draw(st.integers(0, 5)) == 0:
        spec["volumes"] = draw(st.sampled_from([[], None]))
    if draw(st.integers(0, 5)) == 0:
        spec["restartPolicy"] = "Never"
    meta: dict[str, Any] = {}
    if draw(st.booleans()):
        meta["labels"] = {"app": draw(names)}
    elif draw(st.integers(0, 5)) == 0:
        meta["labels"] = draw(st.sampled_from([{}, None]))
    if draw(st.integers(0, 2)) == 0:
        meta["annotations"] = draw(annotations(cnames[0]))
    return {"metadata": meta, "spec": spec} if meta or draw(st.booleans()) else {"spec": spec}


@st.composite
def annotations(draw: st.DrawFn, first_container: str) -> dict[str, str] | None:
    pool = {
        "example.com/note": draw(texts),
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "9090",
        "sidecar.istio.io/inject": draw(st.sampled_from(["true", "false"])),
        "sidecar.istio.io/proxyCPU": "50m",
        "traffic.sidecar.istio.io/excludeOutboundPorts": "5432",
        "sidecar.istio.io/rewriteAppHTTPProbers": "false",
        "kubectl.kubernetes.io/default-container": draw(st.sampled_from(
            [first_container, draw(names)])),
        "kubectl.kubernetes.io/default-logs-container": first_container,
    }
    keys = draw(st.lists(st.sampled_from(sorted(pool)), max_size=3, unique=True))
    if not keys and draw(st.booleans()):
        return None
    return {k: pool[k] for k in keys}


@st.composite
def workload(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(WORKLOADS)))
    api, path = WORKLOADS[kind]
    meta: dict[str, Any] = {"name": draw(names)}
    if draw(st.booleans()):
        meta["namespace"] = draw(names)
    if draw(st.integers(0, 3)) == 0:
        meta["labels"] = {"team": draw(names)}
    template = draw(pod_template())
    if not path:
        return {"apiVersion": api, "kind": kind, "metadata": {**meta, **template.get(
            "metadata", {})}, "spec": template["spec"]}
    obj: dict[str, Any] = {"apiVersion": api, "kind": kind, "metadata": meta}
    node = obj
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = template
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        obj["spec"]["selector"] = {"matchLabels": {"app": "x"}}
        if kind == "StatefulSet":
            obj["spec"]["serviceName"] = "svc"
    if kind == "CronJob":
        obj["spec"]["schedule"] = "*/5 * * * *"
    return obj


@st.composite
def other(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Service", "ConfigMap", "Secret", "Namespace", "Widget"]))
    obj: dict[str, Any] = {"apiVersion": "v1" if kind != "Widget" else "example.com/v1",
                           "kind": kind, "metadata": {"name": draw(names)}}
    if kind == "Service":
        obj["spec"] = {"ports": [{"port": draw(st.integers(1, 65535))}],
                       "selector": {"app": draw(names)}}
    elif kind == "ConfigMap":
        obj["data"] = {"config.yaml": draw(st.sampled_from([
            "kind: Deployment\nspec:\n  template: {}\n", "---\n", "a: 1\n"])), "x": draw(texts)}
    elif kind == "Widget":  # an unknown kind with a pod template: passed through, warned
        obj["spec"] = {"template": draw(pod_template())}
    elif kind == "Secret":
        obj["stringData"] = {"k": draw(texts)}
    return obj


def objects(lists: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    single = st.one_of(workload(), workload(), other())
    if not lists:
        return single
    return st.one_of(single, st.builds(
        lambda items: {"apiVersion": "v1", "kind": "List", "items": items},
        st.lists(single, max_size=3)))


# --- text ----------------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z_/.][A-Za-z0-9_ ./()@-]*")
_SPECIAL = re.compile(
    r"(?i:y|yes|n|no|true|false|on|off|null|~)|[-+]?(\.?[0-9][0-9_.:eExXoObB+-]*)|\.(inf|nan)")


def _plain_ok(s: str) -> bool:
    return (bool(_PLAIN.fullmatch(s)) and not _SPECIAL.fullmatch(s) and not s.endswith(" ")
            and " #" not in s and ": " not in s)


def _double_quoted(s: str, ascii_only: bool) -> str:
    """``s`` as a YAML double-quoted scalar (YAML has no surrogate pairs: ``\\U`` instead)."""
    out = []
    for ch in s:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\n":
            out.append("\\n")
        elif code < 0x20 or (ascii_only and code > 0x7E):
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


class Style:
    """The random choices of one rendering, drawn as they are needed."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.indent = draw(st.sampled_from([2, 2, 4]))
        self.indent_seq = draw(st.booleans())  # "key:\n  - x" rather than "key:\n- x"
        self.comments = draw(st.booleans())
        self.flow_bias = draw(st.sampled_from([0, 0, 1, 3]))  # 0: never flow
        self.quote_bias = draw(st.sampled_from([0, 1, 3]))

    def flip(self, bias: int) -> bool:
        return bias > 0 and self.draw(st.integers(0, 9)) < bias

    def comment(self) -> str:
        if not self.comments or self.draw(st.integers(0, 4)) != 0:
            return ""
        return " # " + self.draw(st.sampled_from(["note", "café ☕", "x: y", "---", "#"]))

    def scalar(self, value: Any, key: bool = False) -> str:
        if value is None:
            return self.draw(st.sampled_from(["null", "~", ""])) if not key else "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        s = str(value)
        if _plain_ok(s) and not self.flip(self.quote_bias):
            return s
        if "\n" not in s and "\t" not in s and self.draw(st.booleans()):
            return "'" + s.replace("'", "''") + "'"
        return _double_quoted(s, self.draw(st.booleans()))

    def flow(self, value: Any) -> str:
        if isinstance(value, dict):
            inner = ", ".join(f"{self.scalar(k, True)}: {self.flow(v)}" for k, v in value.items())
            return "{" + inner + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.flow(v) for v in value) + "]"
        if value is None:  # an empty scalar in flow style would be a new empty string
            return self.draw(st.sampled_from(["null", "~"]))
        text = self.scalar(value)
        return text if text else '""'

    def block(self, value: Any, ind: int) -> list[str]:
        """Lines (no newline) of a collection in block style at indentation ``ind``."""
        sp = " " * ind
        lines: list[str] = []
        if isinstance(value, dict):
            for k, v in value.items():
                if self.comments and self.draw(st.integers(0, 9)) == 0:
                    lines.append(sp + "# " + self.draw(st.sampled_from(["about", "ünï"])))
                key = self.scalar(k, True)
                if isinstance(v, (dict, list)) and v and not self.flip(self.flow_bias):
                    lines.append(f"{sp}{key}:{self.comment()}")
                    child = ind + (self.indent if isinstance(v, dict) or self.indent_seq
                                   else 0)
                    lines.extend(self.block(v, child))
                else:
                    text = self.flow(v) if isinstance(v, (dict, list)) else self.scalar(v)
                    lines.append(f"{sp}{key}: {text}".rstrip() + self.comment())
        else:
            for item in value:
                if isinstance(item, dict) and item and not self.flip(self.flow_bias):
                    inner = self.block(item, ind + 2)
                    lines.append(sp + "- " + inner[0].lstrip())
                    lines.extend(inner[1:])
                else:
                    lines.append(f"{sp}- {self.flow(item)}{self.comment()}")
        return lines


@st.composite
def document(draw: st.DrawFn, obj: dict[str, Any]) -> str:
    """One document's text (without its ``---``)."""
    style = Style(draw)
    if draw(st.integers(0, 9)) == 0:
        return style.flow(obj) + "\n"
    lines = style.block(obj, 0)
    text = "\n".join(lines) + "\n"
    if draw(st.integers(0, 3)) == 0:
        text = _anchor(text, draw)
    elif draw(st.integers(0, 5)) == 0:
        text = _merge_key(text)
    return text


def _merge_key(text: str) -> str:
    """A merge key as users write one: the pod template's metadata merged from the object's
    (``metadata: &meta`` ... ``metadata:\\n  <<: *meta``)."""
    m = re.search(r"^metadata:\n", text, re.M)
    t = re.search(r"^( +)template:\n\1( +)metadata:\n((?:\1\2 +.*\n)*)", text, re.M)
    if not m or not t:
        return text
    ind = t.group(1) + t.group(2)
    step = len(t.group(2))
    merged = f"{t.group(1)}template:\n{ind}metadata:\n{ind}{' ' * step}<<: *meta\n{t.group(3)}"
    out = text[: t.start()] + merged + text[t.end():]
    return out.replace("metadata:\n", "metadata: &meta\n", 1)


def _anchor(text: str, draw: st.DrawFn) -> str:
    """Anchors and aliases as users write them: a pod's labels shared with the selector."""
    m = re.search(r"^( *)matchLabels:\n((?:\1 +.*\n)+)", text, re.M)
    t = re.search(r"^( *)labels:\n((?:\1 +.*\n)+)", text[m.end():] if m else "", re.M)
    if not m or not t:
        return text
    start = m.end() + t.start()
    anchored = text[: m.start()] + f"{m.group(1)}matchLabels: &sel\n" + m.group(2) + \
        text[m.end(): start]
    return anchored + f"{t.group(1)}labels: *sel\n" + text[start + len(t.group(0)):]


@st.composite
def manifests(draw: st.DrawFn, *, lists: bool = True, json_ok: bool = True) -> str:
    """A stream of one to four documents (or one JSON object stream)."""
    objs = draw(st.lists(objects(lists), min_size=1, max_size=4))
    if json_ok and draw(st.integers(0, 7)) == 0:
        sep = draw(st.sampled_from(["\n", ""]))
        indent = draw(st.sampled_from([None, 2]))
        return sep.join(json.dumps(o, indent=indent, ensure_ascii=False) for o in objs) + "\n"
    parts: list[str] = []
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(["# generated\n", "---\n", "# a\n---\n"])))
    for i, obj in enumerate(objs):
        if i:
            parts.append(draw(st.sampled_from(["---\n", "---\n", "--- # next\n", "...\n---\n"])))
        if draw(st.integers(0, 9)) == 0:
            parts.append("# only a comment\n---\n")
        parts.append(draw(document(obj)))
    text = "".join(parts)
    if draw(st.integers(0, 4)) == 0:
        text = text.replace("\n", "\r\n")
    return text


# --- broken --------------------------------------------------------------------------------

NOISE = [":", "-", "[", "]", "{", "}", '"', "'", "\t", "#", "&", "*", "!", "|", ">", "%", "@",
         "`", "\n", " ", "\r", "é", "\x00", "\x85", "\x93", "\u2028", "\ufeff", "---\n", "? ",
         ": :", "<<: *x\n", "&a ", "*a ", "!!binary ", "{", "\\"]


@st.composite
def text_damage(draw: st.DrawFn, text: str) -> str:
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["insert", "delete", "swap", "duplicate", "cut"]))
        lines = text.splitlines(keepends=True)
        if op == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(NOISE)) + text[at:]
        elif op == "delete" and text:
            at = draw(st.integers(0, len(text) - 1))
            text = text[:at] + text[at + draw(st.integers(1, 5)):]
        elif op == "swap" and len(lines) > 1:
            i = draw(st.integers(0, len(lines) - 2))
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
            text = "".join(lines)
        elif op == "duplicate" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            text = "".join(lines)
        elif op == "cut":
            text = text[: draw(st.integers(0, len(text)))]
    return text


#: data changes into shapes Kubernetes or meshctl must refuse (or pass through knowingly)
def _wrong_shapes(obj: dict[str, Any], which: int) -> Any:
    template = obj
    _, path = WORKLOADS.get(obj.get("kind", ""), ("", ()))
    for key in path:
        template = template.get(key) if isinstance(template, dict) else None
    spec = template.get("spec") if isinstance(template, dict) else None
    if which == 0 and isinstance(spec, dict):
        spec["containers"] = None
    elif which == 1 and isinstance(spec, dict):
        spec["containers"] = "app"
    elif which == 2 and isinstance(template, dict):
        template.setdefault("metadata", {})["annotations"] = {
            "sidecar.istio.io/rewriteAppHTTPProbers": False}
    elif which == 3:
        return [obj]
    elif which == 4:
        return "just a string"
    elif which == 5 and isinstance(template, dict):
        template.setdefault("metadata", {})["labels"] = {"app": 3}
    elif which == 6 and isinstance(spec, dict):
        spec["containers"] = {"name": "app"}
    elif which == 7:
        obj["kind"] = obj.get("kind", "") + "List"
        obj["items"] = [dict(obj)]
    elif which == 8 and path:
        node = obj
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    elif which == 9:
        return {"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "List", "items": [obj]}]}
    return obj


WRONG_SHAPES = ["containers: null", "containers: a string", "non-string annotation",
                "top-level list", "top-level scalar", "non-string label", "containers: a map",
                "*List kind", "no pod template", "a List in a List"]


@st.composite
def broken(draw: st.DrawFn) -> str:
    """A manifest damaged as text, or valid YAML with a wrong shape."""
    if draw(st.booleans()):
        return draw(text_damage(draw(manifests())))
    obj = draw(workload())
    which = draw(st.integers(0, len(WRONG_SHAPES) - 1))
    changed = _wrong_shapes(obj, which)
    return draw(document(changed)) if isinstance(changed, dict) else draw(st.sampled_from(
        [json.dumps(changed) + "\n", "\n".join(Style(draw).block(changed, 0)) + "\n"]
        if isinstance(changed, list) else [json.dumps(changed) + "\n", f"{changed}\n"]))


# --- shapes that round-trip only through meshctl's record ------------------------------------

#: Shapes whose bytes ``kube-uninject`` gives back only through the texts meshctl records
#: (they did not round-trip before it, issue 11): name -> (what injection does to them, the
#: smallest example). The main generator makes them now and then; each also has its own
#: property test with a generator of its own (:func:`round_trip_shape`), its example first.
ROUND_TRIP_SHAPES: dict[str, tuple[str, str]] = {
    "empty-collections": (
        "an empty or null collection that injection fills (the pod template's metadata, "
        "labels, annotations, initContainers, volumes), with its comment",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  annotations: {}\nspec:\n"
        "  containers:\n  - name: a\n    image: b\n"),
    "tcp-grpc-probe": (
        "a tcpSocket or grpc probe (or tcpSocket hook), which injection turns into an "
        "httpGet: its action among the probe's other fields, its style, key quoting, comments",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: a\n"
        "    image: b\n    livenessProbe:\n      tcpSocket: {port: 8080}\n"
        "      periodSeconds: 5\n"),
    "httpget-quoting": (
        "a rewritten httpGet probe's path and port, in the quoting they had (a quoted named "
        "port, a plain path in a document that quotes its strings)",
        '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}, "spec": {"containers": '
        '[{"name": "a", "image": "b", "livenessProbe": {"httpGet": {"path": /b, '
        '"port": 80}}}]}}\n'),
    "httpget-without-port": (
        "an httpGet probe without a port (invalid in Kubernetes, which requires one), which "
        "Istio records with port 0",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: a\n"
        "    image: b\n    livenessProbe:\n      httpGet:\n        path: /b\n"),
    "default-container": (
        "the user's own kubectl.kubernetes.io/default-container (or default-logs-container) "
        "naming the first app container, which injection would have added",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  annotations:\n"
        "    kubectl.kubernetes.io/default-container: a\nspec:\n  containers:\n  - name: a\n"
        "    image: b\n"),
    "aliased-labels": (
        "pod template labels written as an alias of another node (or the selector as an alias "
        "of the pod's labels), which injection expands into a copy",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  selector:\n"
        "    matchLabels: &labels\n      app: a\n  template:\n    metadata:\n"
        "      labels: *labels\n    spec:\n      containers:\n      - name: a\n        image: b\n"),
    "merge-keys": (
        "a merge key in the pod template's metadata (``<<: *meta``) or spec (``<<: *podspec``, "
        "the anchor in another item of a List), which injection writes out as local keys",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: &meta\n  name: a\n  labels:\n"
        "    app: a\nspec:\n  selector:\n    matchLabels:\n      app: a\n  template:\n"
        "    metadata:\n      <<: *meta\n    spec:\n      containers:\n      - name: a\n"
        "        image: b\n"),
    "merge-keys-combined": (
        "a merge key in the pod template (``<<: *meta``, ``<<: *podspec``) together with another "
        "shape: an empty or null collection beside it, a rewritten probe or a numbered named "
        "port in the merged containers",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nx-podspec: &podspec\n"
        "  containers:\n  - name: a\n    image: b\nspec:\n  selector:\n    matchLabels:\n"
        "      app: a\n  template:\n    metadata:\n      labels:\n        app: a\n    spec:\n"
        "      <<: *podspec\n      volumes: null\n"),
    "probe-ports": (
        "a probe's numeric port that is also a named port of the container (Istio records the "
        "number; the name would come back), and a named one",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: a\n"
        "    image: b\n    ports:\n    - name: http\n      containerPort: 8080\n"
        "    readinessProbe:\n      httpGet:\n        path: /ready\n        port: 8080\n"),
    "probe-comments": (
        "comments inside a rewritten probe, and a grpc probe's quoted service",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: a\n"
        "    image: b\n    startupProbe:  # slow start\n      # the health service\n"
        "      grpc:\n        port: 9000\n        service: \"a.b\"  # quoted\n"),
}

_POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n{meta}spec:\n  containers:\n" \
       "  - name: {container}\n    image: nginx\n{extra}"
_COMMENT = ["", "  # note", "  # café ☕"]


@st.composite
def round_trip_shape(draw: st.DrawFn, shape: str) -> str:
    """A manifest that has the shape ``shape`` (and otherwise varies)."""
    name, container = draw(names), draw(names)
    meta = extra = ""
    if shape == "empty-collections":
        field = draw(st.sampled_from(["annotations", "labels", "initContainers", "volumes",
                                      "metadata"]))
        empty = draw(st.sampled_from(["{}" if field in ("annotations", "labels") else "[]",
                                      "null", "~", ""]))
        comment = draw(st.sampled_from(_COMMENT))
        line = f"{field}: {empty}".rstrip() + comment
        if field in ("annotations", "labels"):
            meta = f"  {line}\n"
        elif field != "metadata":
            extra = f"  {line}\n"
        else:
            return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n"
                    f"  template:\n    {line.replace('[]', '{}')}\n    spec:\n"
                    f"      containers:\n      - name: {container}\n        image: nginx\n")
    elif shape == "tcp-grpc-probe":
        hook = draw(st.integers(0, 3)) == 0
        field = "lifecycle" if hook else draw(st.sampled_from(
            ["readinessProbe", "livenessProbe", "startupProbe"]))
        action = "tcpSocket" if hook else draw(st.sampled_from(["tcpSocket", "grpc"]))
        port = draw(st.integers(1, 65535))
        written = draw(st.sampled_from([f"{action}: {{port: {port}}}",
                                        f"{action}:\n        port: {port}",
                                        f'"{action}":\n        port: {port}',
                                        f"{action}:\n        port: {port}  # note"]))
        before, after = draw(st.sampled_from([("", ""), ("", "      periodSeconds: 5\n"),
                                              ("      periodSeconds: 5\n", "")]))
        if hook:
            nested = written.replace("\n", "\n  ")
            extra = f"    lifecycle:\n      preStop:\n        {nested}\n"
        else:
            extra = f"    {field}:\n{before}      {written}\n{after}"
    elif shape == "httpget-quoting":
        port = draw(st.sampled_from(["http", "web", "on", "yes"]))
        quote = draw(st.sampled_from(["'", '"']))
        if draw(st.booleans()):  # a quoted named port
            extra = (f"    ports:\n    - name: {quote}{port}{quote}\n      containerPort: 8080\n"
                     f"    readinessProbe:\n      httpGet:\n        path: /{name}\n"
                     f"        port: {quote}{port}{quote}\n")
        else:  # a plain path in a document that quotes its strings
            return (f'{{"apiVersion": "v1", "kind": "Pod", "metadata": {{"name": "{name}"}}, '
                    f'"spec": {{"containers": [{{"name": "{container}", "image": "nginx", '
                    f'"readinessProbe": {{"httpGet": {{"path": /{name}, '
                    f'"port": {draw(st.integers(1, 65535))}}}}}}}]}}}}\n')
    elif shape == "httpget-without-port":
        field = draw(st.sampled_from(["readinessProbe", "livenessProbe", "startupProbe"]))
        extra = f"    {field}:\n      httpGet:\n        path: /{name}\n"
    elif shape == "default-container":
        key = draw(st.sampled_from(["default-container", "default-logs-container"]))
        meta = f"  annotations:\n    kubectl.kubernetes.io/{key}: {container}\n"
    elif shape == "aliased-labels":
        if draw(st.booleans()):
            return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n"
                    f"  selector:\n    matchLabels: &labels\n      app: {name}\n  template:\n"
                    f"    metadata:\n      labels: *labels\n    spec:\n      containers:\n"
                    f"      - name: {container}\n        image: nginx\n")
        return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n"
                f"  template:\n    metadata:\n      labels: &labels {{app: {name}}}\n    spec:\n"
                f"      containers:\n      - name: {container}\n        image: nginx\n"
                f"  selector:\n    matchLabels: *labels\n")
    elif shape == "merge-keys":
        if draw(st.booleans()):
            return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata: &meta\n  name: {name}\n"
                    f"  labels:\n    app: {name}\nspec:\n  selector:\n    matchLabels:\n"
                    f"      app: {name}\n  template:\n    metadata:\n      <<: *meta\n"
                    f"    spec:\n      containers:\n      - name: {container}\n"
                    f"        image: nginx\n")
        own = draw(st.sampled_from(["", "        serviceAccountName: own\n"]))
        return (f"apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n"
                f"  metadata:\n    name: {name}\n  spec:\n    template:\n      spec: &podspec\n"
                f"        containers:\n        - name: {container}\n          image: nginx\n"
                f"- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: {name}-2\n"
                f"  spec:\n    template:\n      spec:\n        <<: *podspec\n{own}")
    elif shape == "merge-keys-combined":
        return _merge_keys_combined(draw, name, container)
    elif shape == "probe-ports":
        number = draw(st.integers(1, 65535).filter(lambda n: n != 15020))
        pname = draw(st.sampled_from(["http", "web", "metrics"]))
        port = draw(st.sampled_from([str(number), pname, f'"{pname}"']))
        action = draw(st.sampled_from(["httpGet", "tcpSocket"]))
        path = f"        path: /{name}\n" if action == "httpGet" else ""
        extra = (f"    ports:\n    - name: {pname}\n      containerPort: {number}\n"
                 f"    livenessProbe:\n      {action}:\n{path}        port: {port}\n")
    elif shape == "probe-comments":
        c1, c2, c3 = (draw(st.sampled_from(_COMMENT)) for _ in range(3))
        service = draw(st.sampled_from(["", '        service: "a.b"\n', "        service: ''\n",
                                        "        service: a.b\n"]))
        action = draw(st.sampled_from(["grpc", "httpGet"]))
        body = (f"        port: 9000{c2}\n{service}" if action == "grpc"
                else f"        path: /x{c2}\n        port: 9000\n")
        extra = (f"    startupProbe:{c1}\n      # the health check\n      {action}:{c3}\n"
                 f"{body}      failureThreshold: 30\n")
    else:
        raise ValueError(shape)
    return _POD.format(name=name, meta=meta, container=container, extra=extra)



#: probes of the merge-keys-combined shape, as lines of a container at column 4
_MERGED_PROBES = [
    "",
    "    readinessProbe:\n      tcpSocket: {port: 8080}\n",
    "    livenessProbe:\n      tcpSocket:\n        port: 8080\n      periodSeconds: 5\n",
    "    ports:\n    - name: http\n      containerPort: 8080\n    readinessProbe:\n"
    "      httpGet:\n        path: /ready\n        port: 8080\n",
    "    startupProbe:  # slow\n      grpc:\n        port: 9000\n        service: \"a.b\"\n",
]


def _merge_keys_combined(draw: st.DrawFn, name: str, container: str) -> str:
    in_meta = draw(st.booleans())
    in_spec = draw(st.booleans()) or not in_meta
    comment = draw(st.sampled_from(_COMMENT))
    empty_meta = draw(st.sampled_from(["", "annotations: {}", "annotations:", "annotations: ~",
                                       "labels: {}"] if in_meta else
                                      ["", "annotations: {}", "annotations:"]))
    empty_spec = draw(st.sampled_from(["", "volumes: null", "volumes:", "initContainers: []",
                                       "volumes: []"]))
    probe = draw(st.sampled_from(_MERGED_PROBES))
    items = f"  - name: {container}\n    image: nginx\n{probe}"
    out = f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n"
    if in_meta:
        out += f"x-meta: &meta\n  labels:\n    app: {name}\n"
    if in_spec:
        out += f"x-podspec: &podspec\n  containers:\n{items}"
    out += (f"spec:\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n"
            f"    metadata:\n")
    out += "      <<: *meta\n" if in_meta else f"      labels:\n        app: {name}\n"
    if empty_meta:
        out += f"      {empty_meta}{comment}\n"
    out += "    spec:\n"
    if in_spec:
        out += "      <<: *podspec\n"
    else:
        out += "      containers:\n" + "".join(
            f"    {line}\n" if line else "\n" for line in items.rstrip("\n").split("\n"))
    if empty_spec:
        out += f"      {empty_spec}{comment}\n"
    return out


@st.composite
def json_with_c1(draw: st.DrawFn) -> str:
    obj = draw(objects(lists=False))
    obj.setdefault("metadata", {})["annotations"] = {
        "note": draw(st.text(st.characters(min_codepoint=0x80, max_codepoint=0x9F),
                             min_size=1, max_size=3))}
    return json.dumps(obj, ensure_ascii=False) + "\n"
