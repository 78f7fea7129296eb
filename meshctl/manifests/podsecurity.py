"""Kubernetes' Pod Security Standards (baseline and restricted) as pure functions over a pod.

The checks follow the standards as Kubernetes publishes them for its current releases (the
``latest`` version; ``pod-security.kubernetes.io/enforce-version`` is not read). Each check looks
at one control and returns what fails it, naming the container; :func:`check_pod` runs every
control of a level. A pod is the pod template's ``metadata`` and ``spec``: admission checks the
pods a workload creates, which carry exactly those.

:func:`namespace_levels` reads the levels that Namespace documents of the input enforce
(``pod-security.kubernetes.io/enforce``), so that a run can warn when injection makes a pod fail
the level of its namespace.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any, Final

    from meshctl.manifests.read import Source

    Pod = tuple[Mapping[str, Any], Mapping[str, Any]]  # (metadata, spec)
    Check = Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]

#: the namespace label whose level admission enforces
ENFORCE_LABEL: Final = "pod-security.kubernetes.io/enforce"
LEVELS: Final = ("privileged", "baseline", "restricted")

_BASELINE_CAPABILITIES: Final = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"})
_SAFE_SYSCTLS: Final = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes"})
_SELINUX_TYPES: Final = frozenset({"", "container_t", "container_init_t", "container_kvm_t",
                                   "container_engine_t"})
_RESTRICTED_VOLUMES: Final = frozenset({
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
    "projected", "secret"})
_APPARMOR_ANNOTATION: Final = "container.apparmor.security.beta.kubernetes.io/"
_CONTAINER_FIELDS: Final = ("initContainers", "containers", "ephemeralContainers")


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _containers(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every container of the pod, with how to name it in a message."""
    for field in _CONTAINER_FIELDS:
        items = spec.get(field)
        for c in items if isinstance(items, list) else ():
            if isinstance(c, Mapping):
                what = {"initContainers": "init container",
                        "ephemeralContainers": "ephemeral container"}.get(field, "container")
                yield f"{what} {json.dumps(c.get('name'))}", c


def _sc(c: Mapping[str, Any]) -> Mapping[str, Any]:
    return _map(c.get("securityContext"))


def _linux(spec: Mapping[str, Any]) -> bool:
    return _map(spec.get("os")).get("name") != "windows"


# --- baseline ------------------------------------------------------------------------------


def host_process(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    out = []
    if _map(_map(spec.get("securityContext")).get("windowsOptions")).get("hostProcess") is True:
        out.append("the pod sets windowsOptions.hostProcess=true")
    out.extend(f"{who} sets windowsOptions.hostProcess=true" for who, c in _containers(spec)
               if _map(_sc(c).get("windowsOptions")).get("hostProcess") is True)
    return out


def host_namespaces(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    return [f"the pod sets {field}=true" for field in ("hostNetwork", "hostPID", "hostIPC")
            if spec.get(field) is True]


def privileged(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    return [f"{who} sets privileged=true" for who, c in _containers(spec)
            if _sc(c).get("privileged") is True]


def _added(c: Mapping[str, Any]) -> list[str]:
    added = _map(_sc(c).get("capabilities")).get("add")
    return [str(a) for a in added] if isinstance(added, list) else []


def capabilities_baseline(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    out = []
    for who, c in _containers(spec):
        bad = [a for a in _added(c) if a not in _BASELINE_CAPABILITIES]
        if bad:
            out.append(f"{who} adds {', '.join(bad)}")
    return out


def host_path_volumes(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    volumes = spec.get("volumes")
    return [f"volume {json.dumps(v.get('name'))} is a hostPath"
            for v in volumes if isinstance(v, Mapping) and v.get("hostPath") is not None
            ] if isinstance(volumes, list) else []


def host_ports(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    out = []
    for who, c in _containers(spec):
        ports = c.get("ports")
        used = [str(p.get("hostPort")) for p in ports if isinstance(p, Mapping)
                and p.get("hostPort") not in (None, 0)] if isinstance(ports, list) else []
        if used:
            out.append(f"{who} uses hostPort {', '.join(used)}")
    return out


def apparmor(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    out = []
    allowed = (None, "RuntimeDefault", "Localhost")
    kind = _map(_map(spec.get("securityContext")).get("appArmorProfile")).get("type")
    if kind not in allowed:
        out.append(f"the pod sets appArmorProfile {kind}")
    out.extend(f"{who} sets appArmorProfile {_map(_sc(c).get('appArmorProfile')).get('type')}"
               for who, c in _containers(spec)
               if _map(_sc(c).get("appArmorProfile")).get("type") not in allowed)
    for key, value in _map(meta.get("annotations")).items():
        if str(key).startswith(_APPARMOR_ANNOTATION) and not (
                value == "runtime/default" or str(value).startswith("localhost/")):
            out.append(f"annotation {key} is {json.dumps(value)}")
    return out


def _selinux_problem(options: Any) -> str | None:
    opts = _map(options)
    if opts.get("type") not in (None, *_SELINUX_TYPES):
        return f"seLinuxOptions.type {opts.get('type')}"
    for field in ("user", "role"):
        if opts.get(field) not in (None, ""):
            return f"seLinuxOptions.{field}"
    return None


def selinux(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    out = []
    problem = _selinux_problem(_map(spec.get("securityContext")).get("seLinuxOptions"))
    if problem:
        out.append(f"the pod sets {problem}")
    for who, c in _containers(spec):
        problem = _selinux_problem(_sc(c).get("seLinuxOptions"))
        if problem:
            out.append(f"{who} sets {problem}")
    return out


def proc_mount(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    return [f"{who} sets procMount {_sc(c).get('procMount')}" for who, c in _containers(spec)
            if _sc(c).get("procMount") not in (None, "Default")]


def _seccomp(sc: Mapping[str, Any]) -> Any:
    return _map(sc.get("seccompProfile")).get("type")


def seccomp_baseline(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    out = []
    if _seccomp(_map(spec.get("securityContext"))) == "Unconfined":
        out.append("the pod sets seccompProfile Unconfined")
    out.extend(f"{who} sets seccompProfile Unconfined" for who, c in _containers(spec)
               if _seccomp(_sc(c)) == "Unconfined")
    return out


def sysctls(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    items = _map(spec.get("securityContext")).get("sysctls")
    bad = [str(s.get("name")) for s in items if isinstance(s, Mapping)
           and s.get("name") not in _SAFE_SYSCTLS] if isinstance(items, list) else []
    return [f"the pod sets sysctls {', '.join(bad)}"] if bad else []


# --- restricted ----------------------------------------------------------------------------


def volume_types(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    out = []
    volumes = spec.get("volumes")
    for v in volumes if isinstance(volumes, list) else ():
        if not isinstance(v, Mapping):
            continue
        kinds = [k for k in v if k != "name" and k not in _RESTRICTED_VOLUMES]
        if kinds:
            out.append(f"volume {json.dumps(v.get('name'))} is a {', '.join(kinds)}")
    return out


def privilege_escalation(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    if not _linux(spec):
        return []
    return [f"{who} does not set allowPrivilegeEscalation=false" for who, c in _containers(spec)
            if _sc(c).get("allowPrivilegeEscalation") is not False]


def run_as_non_root(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    pod = _map(spec.get("securityContext")).get("runAsNonRoot")
    out = ["the pod sets runAsNonRoot=false"] if pod is False else []
    for who, c in _containers(spec):
        own = _sc(c).get("runAsNonRoot")
        if own is False:
            out.append(f"{who} sets runAsNonRoot=false")
        elif own is None and pod is not True:
            out.append(f"{who} does not set runAsNonRoot=true (nor does the pod)")
    return out


def run_as_user(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    out = []
    if _map(spec.get("securityContext")).get("runAsUser") == 0:
        out.append("the pod sets runAsUser=0")
    out.extend(f"{who} sets runAsUser=0" for who, c in _containers(spec)
               if _sc(c).get("runAsUser") == 0)
    return out


def seccomp_restricted(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    if not _linux(spec):
        return []
    allowed = ("RuntimeDefault", "Localhost")
    pod = _seccomp(_map(spec.get("securityContext")))
    out = [f"the pod sets seccompProfile {pod}"] if pod is not None and pod not in allowed \
        else []
    for who, c in _containers(spec):
        own = _seccomp(_sc(c))
        if own is not None and own not in allowed:
            out.append(f"{who} sets seccompProfile {own}")
        elif own is None and pod not in allowed:
            out.append(f"{who} sets no seccompProfile RuntimeDefault or Localhost (nor does "
                       "the pod)")
    return out


def capabilities_restricted(meta: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    if not _linux(spec):
        return []
    out = []
    for who, c in _containers(spec):
        dropped = _map(_sc(c).get("capabilities")).get("drop")
        if not (isinstance(dropped, list) and "ALL" in dropped):
            out.append(f"{who} does not drop ALL")
        bad = [a for a in _added(c) if a != "NET_BIND_SERVICE"]
        if bad:
            out.append(f"{who} adds {', '.join(bad)}")
    return out


#: every control, its name (as the standards name it) and the lowest level that forbids it
CONTROLS: Final[tuple[tuple[str, str, Check], ...]] = (
    ("baseline", "HostProcess", host_process),
    ("baseline", "host namespaces", host_namespaces),
    ("baseline", "privileged containers", privileged),
    ("baseline", "capabilities", capabilities_baseline),
    ("baseline", "hostPath volumes", host_path_volumes),
    ("baseline", "host ports", host_ports),
    ("baseline", "AppArmor", apparmor),
    ("baseline", "SELinux", selinux),
    ("baseline", "/proc mount type", proc_mount),
    ("baseline", "seccomp", seccomp_baseline),
    ("baseline", "sysctls", sysctls),
    ("restricted", "volume types", volume_types),
    ("restricted", "privilege escalation", privilege_escalation),
    ("restricted", "running as non-root", run_as_non_root),
    ("restricted", "running as non-root user", run_as_user),
    ("restricted", "seccomp", seccomp_restricted),
    ("restricted", "capabilities", capabilities_restricted),
)


def check_pod(level: str, meta: Mapping[str, Any], spec: Mapping[str, Any],
              ) -> list[tuple[str, str]]:
    """What fails ``level`` in the pod: ``(control, problem)`` pairs, in the standards' order
    (``privileged``, or a level meshctl does not know, forbids nothing)."""
    if level not in LEVELS[1:]:
        return []
    applies = LEVELS[1:LEVELS.index(level) + 1]
    return [(name, problem) for lowest, name, check in CONTROLS if lowest in applies
            for problem in check(meta, spec)]


def new_failures(level: str, before: Pod, after: Pod) -> list[tuple[str, str]]:
    """What fails ``level`` in ``after`` (the injected pod) and did not in ``before``."""
    old = set(check_pod(level, *before))
    return [f for f in check_pod(level, *after) if f not in old]


def describe(level: str, namespace: str, failures: Iterable[tuple[str, str]]) -> str:
    """The warning: the level, the namespace and each control that fails."""
    by_control: dict[str, list[str]] = {}
    for control, problem in failures:
        problems = by_control.setdefault(control, [])
        if problem not in problems:  # baseline's and restricted's checks of one control
            problems.append(problem)
    rules = "; ".join(f"{control}: {', '.join(problems)}"
                      for control, problems in by_control.items())
    return (f"the injected pod fails the Pod Security level {json.dumps(level)} that namespace "
            f"{json.dumps(namespace)} enforces ({ENFORCE_LABEL}): {rules}")


def namespace_levels(sources: Iterable[Source]) -> dict[str, str]:
    """The Pod Security level each Namespace of the input enforces (by name), Namespaces in
    ``*List`` documents too. Only documents that mention ``Namespace`` are parsed."""
    from meshctl.yamltext.source import YamlSyntaxError, load_document

    documents: list[Any] = []
    for src in sources:
        for chunk in src.chunks:
            if "Namespace" not in chunk.text:
                continue
            try:
                documents.append(load_document(chunk.text).data)
            except YamlSyntaxError:
                continue  # reported by the run, as every syntax error
    return levels_of(documents)


def levels_of(objects: Iterable[Any]) -> dict[str, str]:
    """The Pod Security level each Namespace among ``objects`` enforces (by name); the items of
    ``*List`` objects are looked at too, at any depth."""
    levels: dict[str, str] = {}
    for obj in objects:
        if not isinstance(obj, Mapping):
            continue
        kind = obj.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(obj.get("items"), list):
            levels.update(levels_of(obj["items"]))
            continue
        if kind != "Namespace":
            continue
        meta = _map(obj.get("metadata"))
        level = _map(meta.get("labels")).get(ENFORCE_LABEL)
        if isinstance(meta.get("name"), str) and level in LEVELS:
            levels[meta["name"]] = level
    return levels
