"""``kube-inject``: the sidecar into every workload of the inputs.

The profile (built-in, or the user's Istio config) is loaded and its templates compiled once per
run (:func:`make_injector`); each workload is then injected by :class:`InjectStep`, which the
document pipeline (:mod:`meshctl.commands.pipeline`) runs over every document.
"""

from __future__ import annotations

from collections.abc import Mapping

from meshctl import cache as diskcache
from meshctl.commands import parallel, pipeline
from meshctl.commands.reversal import pointer
from meshctl.commands.uninject import UninjectStep, kube_uninject_settings
from meshctl.errors import MeshctlError
from meshctl.manifests import podsecurity
from meshctl.manifests.find import get_path
from meshctl.manifests.read import read_sources
from meshctl.manifests.results import RunResult
from meshctl.options import Options
from meshctl.outcomes import Action, Outcome, Reason
from meshctl.sidecar.config import BUILTIN_ISTIO
from meshctl.sidecar.config.profile import settings_for
from meshctl.sidecar.config.settings import Settings
from meshctl.sidecar.inject import Injector
from meshctl.sidecar.provenance import (
    digest_at,
    keep_undo,
    recorded_undo,
    undo_entries,
    why_stale,
)
from meshctl.yamltext.recorded import verbatim_data

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


#: from this many documents to process on, templates are compiled to Python even when the
#: persistent cache is off (compiling costs ~40 ms; with the cache, only once)
COMPILED_TEMPLATES_MIN_DOCS = 32


def make_injector(opts: Options, documents: int = 0) -> Injector:
    """The injector for these options: the built-in profile, or the user's Istio config (its
    files, or with ``--from-cluster`` the cluster's ConfigMaps, as istioctl reads them)."""
    settings = cluster_settings(opts) if opts.from_cluster else settings_for(opts)
    try:
        # compiles the templates: a syntax error is the config's
        compiled = documents >= COMPILED_TEMPLATES_MIN_DOCS or diskcache.cache_dir() is not None
        return Injector(settings, compiled_templates=compiled, profile=profile_name(opts))
    except MeshctlError as exc:
        raise exc.located(source=opts.inject_config_file) from None


def profile_name(opts: Options) -> str:
    """What the settings are, for the provenance record: the built-in profile of an Istio
    release, or ``istio``, the user's own Istio config (the same whether read from files or
    from the cluster, so both give the same bytes; the settings digest tells configs apart)."""
    if opts.from_cluster or opts.inject_config_file or opts.values_file \
            or opts.mesh_config_file or opts.operator_file:
        return "istio"
    return f"builtin/istio-{BUILTIN_ISTIO}"


def cluster_settings(opts: Options) -> Settings:
    """The settings from Istio's ConfigMaps in the cluster (files given as well win).

    The ConfigMaps are handed to the settings loader as the same documents a file exported with
    ``kubectl get cm -o yaml`` holds, so the result is the file-based path's, byte for byte."""
    from meshctl.kube.kubectl import Access, read_istio_configmaps, source_for

    access = Access(opts.kubectl, opts.kubeconfig, opts.context, opts.request_timeout)
    maps = read_istio_configmaps(source_for(access), opts.istio_namespace, opts.revision or None,
                                 opts.inject_configmap_name, opts.mesh_configmap_name)
    injector_data = {"config": maps.config}
    if maps.values is not None:
        injector_data["values"] = maps.values
    injector = {"kind": "ConfigMap", "data": injector_data}
    mesh = {"kind": "ConfigMap", "data": {"mesh": maps.mesh}}
    try:
        return settings_for(opts, inject_config=injector, values=injector, mesh=mesh)
    except MeshctlError as exc:
        where = (f"ConfigMaps {maps.namespace}/{maps.injector_name} and "
                 f"{maps.namespace}/{maps.mesh_name}")
        raise exc.located(source=where) from None


class InjectStep:
    """Inject one workload. With ``uninject_first`` (``--reinject strip``), a previous injection
    is taken out completely first, so that an upgrade leaves nothing stale behind; otherwise
    Istio merges the new sidecar over the old one. ``levels``: the Pod Security level each
    namespace of the input enforces; a warning says when injection makes a pod fail it.

    It is also how an injection is undone exactly (the pipeline's ``Reversal``): by
    :class:`~meshctl.commands.uninject.UninjectStep`, with what the pipeline finds it needs
    kept in meshctl's record (:func:`meshctl.sidecar.provenance.keep_undo`); a re-injection
    keeps the record of the first injection."""

    def __init__(self, injector: Injector, *, uninject_first: bool,
                 levels: Mapping[str, str] | None = None,
                 uninject_settings: Settings | None = None) -> None:
        self.injector = injector
        self.uninject_first = uninject_first
        #: a re-injection is an injection of kube-uninject's result (see Reversal)
        self.rebuilds = uninject_first
        self.levels = levels or {}
        #: undone by kube-uninject, with its settings (``uninject_settings``, the built-in
        #: profile's; the injector's own when they are those)
        self.inverse = UninjectStep(uninject_settings or injector.settings)

    def applies(self, obj: dict[str, Any], pod_path: tuple[str, ...]) -> bool:
        return self.injector.previous_record(obj, pod_path) is None

    def record(self, obj: dict[str, Any], pod_path: tuple[str, ...],
               undo: tuple[tuple[tuple[str | int, ...], str | None], ...],
               undone: dict[str, Any], original: dict[str, Any]) -> dict[str, Any]:
        entries = []
        for path, text in undo:
            at = pointer(path)
            # a text that reads only in its document (an alias, a merge): what it read as there
            reads = (digest_at(original, at) if text is not None and "*" in text
                     and not verbatim_data(text)[0] else None)
            entries.append((at, text, reads))
        return keep_undo(obj, undo_entries(undone, entries))

    def _pod_security(self, bare: dict[str, Any], after: dict[str, Any],
                      pod_path: tuple[str, ...]) -> tuple[str, ...]:
        """The warning when injection makes the pod fail its namespace's level (``bare``: the
        workload without any injection)."""
        meta = bare.get("metadata")
        namespace = meta.get("namespace") if isinstance(meta, Mapping) else None
        if not isinstance(namespace, str) or namespace not in self.levels:
            return ()
        if not self.uninject_first:  # a previous injection is not the user's pod
            bare = self.injector.uninject(bare, pod_path)
        level = self.levels[namespace]
        failures = podsecurity.new_failures(level, _pod(bare, pod_path), _pod(after, pod_path))
        return (podsecurity.describe(level, namespace, failures),) if failures else ()

    def __call__(self, obj: dict[str, Any], pod_path: tuple[str, ...]) -> Outcome:
        source = obj
        if self.uninject_first:
            source = self.injector.uninject(obj, pod_path)
        outcome = self.injector.inject(source, pod_path)
        if outcome.obj is None:
            # the reason code says why; keep only warnings that add something (host networking
            # is a warning in istioctl and stays one here)
            warnings = tuple(w for w in outcome.warnings
                             if outcome.reason is Reason.HOST_NETWORK
                             or not w.startswith("Skipping injection"))
            return Outcome(None, outcome.action, outcome.reason, warnings)
        warnings = (*outcome.warnings, *self._pod_security(source, outcome.obj, pod_path))
        previous_undo = recorded_undo(obj)
        if previous_undo:  # the record of the first injection stays
            outcome = outcome.replace(obj=keep_undo(outcome.obj, previous_undo))
            assert outcome.obj is not None
        if outcome.obj == obj:
            return Outcome(None, Action.UNCHANGED, Reason.UP_TO_DATE, warnings)
        previous = self.injector.previous_record(obj, pod_path)
        if previous is not None:  # injected before, differently: say why
            why = why_stale(previous, self.injector.provenance)
            return Outcome(outcome.obj, Action.INJECTED, Reason.STALE_INJECTION,
                           (*warnings, why))
        return Outcome(outcome.obj, outcome.action, outcome.reason, warnings)


def _pod(obj: dict[str, Any], pod_path: tuple[str, ...]) -> podsecurity.Pod:
    template = get_path(obj, pod_path) if pod_path else obj
    template = template if isinstance(template, Mapping) else {}
    meta, spec = template.get("metadata"), template.get("spec")
    return (meta if isinstance(meta, Mapping) else {}, spec if isinstance(spec, Mapping) else {})


def processor_for(opts: Options, documents: int, *,
                  levels: Mapping[str, str] | None = None,
                  injector: Injector | None = None) -> pipeline.DocumentProcessor:
    """The document processor of an inject run over ``documents`` documents to parse (also the
    KRM function's: a ``ResourceList`` is a ``*List`` like any other); ``levels``: the Pod
    Security level each namespace of the input enforces."""
    if injector is None:
        injector = make_injector(opts, documents)
    builtin = str(injector.provenance.get("profile", "")).startswith("builtin/")
    step = InjectStep(injector, uninject_first=opts.reinject_mode == "strip", levels=levels,
                      uninject_settings=None if builtin else kube_uninject_settings())
    return pipeline.DocumentProcessor(step, keep_patches=opts.needs_patches, reversal=step)


def run(opts: Options, *, stdin: Callable[[int], bytes] | None = None,
        progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Inject every input of ``opts``; raises MeshctlError on any problem, before emitting."""
    warnings: list[str] = []
    sources = read_sources(opts.filenames, recursive=opts.recursive, stdin=stdin,
                           warnings=warnings, only_manifests=opts.only_manifests)
    todo = pipeline.documents_to_parse(sources)
    injector = make_injector(opts, len(todo))
    processor = processor_for(opts, len(todo), levels=podsecurity.namespace_levels(sources),
                              injector=injector)
    every = pipeline.documents_to_check(sources)  # the others are checked, then passed through
    result = pipeline.run(sources, every, processor, parallel.jobs_for(opts.jobs, len(todo)),
                          progress)
    # the settings' warnings first, then the inputs', then the workloads'
    done: RunResult = result.replace(
        warnings=(*injector.settings.warnings, *warnings, *result.warnings))
    return done
