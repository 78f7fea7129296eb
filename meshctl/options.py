"""Flags resolved once into a frozen options object and an output mode (black's WriteBack)."""

from __future__ import annotations

import enum

from meshctl.records import Frozen


class Mode(enum.Enum):
    """What a run does with its result.

    WRITE     print the result (stdout, or ``-o FILE``) in the ``output_format``
    IN_PLACE  rewrite every input file (atomically, only the ones that change)
    CHECK     write nothing; exit 1 when any document would change
    DIFF      print a unified diff of what would change; exit 1 when anything would change
    """

    WRITE = "write"
    IN_PLACE = "in-place"
    CHECK = "check"
    DIFF = "diff"


class Operation(enum.Enum):
    INJECT = "inject"
    UNINJECT = "uninject"


class Options(Frozen):
    """The resolved flags of one manifest run (``kube-inject``, ``kube-uninject``)."""

    __slots__ = (
        "filenames", "recursive", "only_manifests", "output", "mode", "output_format",
        "operation",
        "inject_config_file",
        "values_file", "mesh_config_file", "operator_file", "hub", "tag", "revision",
        "native_sidecars", "proxy_image", "proxy_init_image", "compliance_policy", "jobs",
        "reinject", "quiet", "report_format", "color", "from_cluster", "istio_namespace",
        "inject_configmap_name", "mesh_configmap_name", "kubectl", "kubeconfig", "context",
        "request_timeout", "template_env",
    )
    DEFAULTS = {
        "recursive": False, "only_manifests": False, "output": None, "mode": Mode.WRITE,
        "output_format": "yaml",
        "operation": Operation.INJECT,
        "inject_config_file": None, "values_file": None, "mesh_config_file": None,
        "operator_file": None, "hub": None, "tag": None, "revision": "",
        "native_sidecars": "auto", "proxy_image": None, "proxy_init_image": None,
        "compliance_policy": "", "jobs": 0, "reinject": "auto", "quiet": False,
        "report_format": "text", "color": "auto", "from_cluster": False,
        "istio_namespace": "istio-system",
        "inject_configmap_name": None, "mesh_configmap_name": None, "kubectl": "kubectl",
        "kubeconfig": None, "context": None, "request_timeout": None, "template_env": (),
    }

    filenames: tuple[str, ...]
    recursive: bool
    only_manifests: bool  # skip files that are not Kubernetes manifests (hooks)
    output: str | None
    mode: Mode
    output_format: str  # yaml | json | patch (kustomize patches) | jsonpatch
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
    # report
    quiet: bool
    report_format: str  # text | json
    color: str  # auto | always | never
    # the cluster's Istio config (--from-cluster), read through kubectl
    from_cluster: bool
    istio_namespace: str
    inject_configmap_name: str | None
    mesh_configmap_name: str | None
    kubectl: str
    kubeconfig: str | None
    context: str | None
    request_timeout: str | None
    #: environment variables templates may read (``--template-env``); none by default
    template_env: tuple[str, ...]

    @property
    def reinject_mode(self) -> str:
        """How an already-injected workload is injected again.

        ``strip``: take the previous injection out completely (exact uninject), then inject:
        an upgrade leaves nothing stale behind (meshctl's semantics, the built-in default).
        ``merge``: Istio's kube-inject semantics (templates see the stripped pod, the result is
        merged over the previous injection): the default when rendering the user's own Istio
        injector config (a file or the cluster's), which promises Istio's exact behaviour.
        """
        if self.reinject != "auto":
            return self.reinject
        return "merge" if self.inject_config_file or self.from_cluster else "strip"

    @property
    def dry_run(self) -> bool:
        """``--check`` and ``--diff`` write nothing: the report says what *would* happen."""
        return self.mode is Mode.CHECK or self.mode is Mode.DIFF

    @property
    def needs_patches(self) -> bool:
        """Whether the run must keep each document's JSON Patch (the formats printing them)."""
        return self.mode is Mode.WRITE and self.output_format != "yaml"

    @property
    def native_sidecars_enabled(self) -> bool:
        """Offline there are no nodes to ask, so ``auto`` means the classic layout (istioctl)."""
        return self.native_sidecars == "true"
