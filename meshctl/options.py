"""Flags resolved once into a frozen options object and an output mode (black's WriteBack)."""

from __future__ import annotations

import enum

from meshctl.records import Frozen


class Mode(enum.Enum):
    """What a run does with its result.

    WRITE     print the manifests (stdout, or ``-o FILE``)
    IN_PLACE  rewrite every input file (atomically, only the ones that change)
    CHECK     write nothing; exit 1 when any document would change
    DIFF      print a unified diff of what would change; exit 0
    PATCH     print the RFC 6902 JSON Patch of every changed document
    """

    WRITE = "write"
    IN_PLACE = "in-place"
    CHECK = "check"
    DIFF = "diff"
    PATCH = "patch"


class Operation(enum.Enum):
    INJECT = "inject"
    UNINJECT = "uninject"


class Options(Frozen):
    """The resolved flags of one run. Immutable (assigning raises); a plain slotted class
    because importing :mod:`dataclasses` costs every start-up milliseconds."""

    __slots__ = (
        "filenames", "recursive", "output", "mode", "operation", "inject_config_file",
        "values_file", "mesh_config_file", "operator_file", "hub", "tag", "revision",
        "native_sidecars", "proxy_image", "proxy_init_image", "compliance_policy", "jobs",
        "reinject",
    )

    filenames: tuple[str, ...]
    recursive: bool
    output: str | None
    mode: Mode
    operation: Operation
    # profile / settings
    inject_config_file: str | None
    values_file: str | None
    mesh_config_file: str | None
    operator_file: str | None
    hub: str | None
    tag: str | None
    revision: str
    native_sidecars: str  # auto | true | false
    proxy_image: str | None
    proxy_init_image: str | None
    compliance_policy: str
    jobs: int  # 0 = decide from the input size
    reinject: str  # auto | strip | merge

    def __init__(
        self,
        filenames: tuple[str, ...],
        recursive: bool = False,
        output: str | None = None,
        mode: Mode = Mode.WRITE,
        operation: Operation = Operation.INJECT,
        inject_config_file: str | None = None,
        values_file: str | None = None,
        mesh_config_file: str | None = None,
        operator_file: str | None = None,
        hub: str | None = None,
        tag: str | None = None,
        revision: str = "",
        native_sidecars: str = "auto",
        proxy_image: str | None = None,
        proxy_init_image: str | None = None,
        compliance_policy: str = "",
        jobs: int = 0,
        reinject: str = "auto",
    ) -> None:
        _set = object.__setattr__
        _set(self, "filenames", filenames)
        _set(self, "recursive", recursive)
        _set(self, "output", output)
        _set(self, "mode", mode)
        _set(self, "operation", operation)
        _set(self, "inject_config_file", inject_config_file)
        _set(self, "values_file", values_file)
        _set(self, "mesh_config_file", mesh_config_file)
        _set(self, "operator_file", operator_file)
        _set(self, "hub", hub)
        _set(self, "tag", tag)
        _set(self, "revision", revision)
        _set(self, "native_sidecars", native_sidecars)
        _set(self, "proxy_image", proxy_image)
        _set(self, "proxy_init_image", proxy_init_image)
        _set(self, "compliance_policy", compliance_policy)
        _set(self, "jobs", jobs)
        _set(self, "reinject", reinject)

    @property
    def reinject_mode(self) -> str:
        """How an already-injected workload is injected again.

        ``strip``: take the previous injection out completely (exact uninject), then inject:
        an upgrade leaves nothing stale behind (meshctl's semantics, the built-in default).
        ``merge``: Istio's kube-inject semantics (templates see the stripped pod, the result is
        merged over the previous injection): the default when rendering the user's own Istio
        injector config, which promises Istio's exact behaviour.
        """
        if self.reinject != "auto":
            return self.reinject
        return "merge" if self.inject_config_file else "strip"

    @property
    def native_sidecars_enabled(self) -> bool:
        """Offline there are no nodes to ask, so ``auto`` means the classic layout (istioctl)."""
        return self.native_sidecars == "true"
