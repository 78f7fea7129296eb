"""``kube-inject``: the sidecar into every workload of the inputs.

The profile (built-in, or the user's Istio config) is loaded and its templates compiled once per
run (:func:`make_injector`); each workload is then injected by :class:`InjectStep`, which the
document pipeline (:mod:`meshctl.commands.pipeline`) runs over every document.
"""

from __future__ import annotations

from meshctl import cache as diskcache
from meshctl.commands import pipeline
from meshctl.errors import MeshctlError
from meshctl.manifests.read import read_sources
from meshctl.manifests.results import RunResult
from meshctl.options import Mode, Options
from meshctl.outcomes import Action, Outcome, Reason
from meshctl.sidecar.config.profile import settings_for
from meshctl.sidecar.inject import Injector
from meshctl.sidecar.uninject import uninject_workload

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: from this many documents to process on, templates are compiled to Python even when the
#: persistent cache is off (compiling costs ~40 ms; with the cache, only once)
COMPILED_TEMPLATES_MIN_DOCS = 32


def make_injector(opts: Options, documents: int = 0) -> Injector:
    """The injector for these options: the built-in profile, or the user's Istio config."""
    settings = settings_for(opts)
    try:
        # compiles the templates: a syntax error is the config's
        compiled = documents >= COMPILED_TEMPLATES_MIN_DOCS or diskcache.cache_dir() is not None
        return Injector(settings, compiled_templates=compiled)
    except MeshctlError as exc:
        raise exc.located(source=opts.inject_config_file) from None


class InjectStep:
    """Inject one workload. With ``uninject_first`` (``--reinject strip``), a previous injection
    is taken out completely first, so that an upgrade leaves nothing stale behind; otherwise
    Istio merges the new sidecar over the old one."""

    def __init__(self, injector: Injector, *, uninject_first: bool) -> None:
        self.injector = injector
        self.uninject_first = uninject_first

    def __call__(self, obj: dict[str, Any], pod_path: tuple[str, ...]) -> Outcome:
        source = obj
        if self.uninject_first:
            source = uninject_workload(obj, pod_path, self.injector.settings)
        outcome = self.injector.inject(source, pod_path)
        if outcome.obj is None:
            # the reason code says why; keep only warnings that add something (host networking
            # is a warning in istioctl and stays one here)
            warnings = tuple(w for w in outcome.warnings
                             if outcome.reason is Reason.HOST_NETWORK
                             or not w.startswith("Skipping injection"))
            return Outcome(None, outcome.action, outcome.reason, warnings)
        if outcome.obj == obj:
            return Outcome(None, Action.UNCHANGED, Reason.UP_TO_DATE, outcome.warnings)
        return outcome


def run(opts: Options, *, stdin: Callable[[int], bytes] | None = None) -> RunResult:
    """Inject every input of ``opts``; raises MeshctlError on any problem, before emitting."""
    sources = read_sources(opts.filenames, recursive=opts.recursive, stdin=stdin)
    todo = pipeline.documents_to_parse(sources)
    injector = make_injector(opts, len(todo))
    step = InjectStep(injector, uninject_first=opts.reinject_mode == "strip")
    processor = pipeline.DocumentProcessor(step, keep_patches=opts.mode is Mode.PATCH)
    every = pipeline.documents_to_check(sources)  # the others are checked, then passed through
    result = pipeline.run(sources, every, processor, pipeline.jobs_for(opts.jobs, len(todo)))
    warnings = (*injector.settings.warnings, *result.warnings)  # the settings' first
    with_warnings: RunResult = result.replace(warnings=warnings)
    return with_warnings
