"""``kube-uninject``: a previous injection out of every workload of the inputs.

Driven by each pod's ``sidecar.istio.io/status`` record (:mod:`meshctl.sidecar.uninject`); it
needs the settings (mesh config, values) but no template, so nothing is compiled.
"""

from __future__ import annotations

from meshctl.commands import parallel, pipeline
from meshctl.manifests.read import read_sources
from meshctl.manifests.results import RunResult
from meshctl.options import Options
from meshctl.outcomes import Action, Outcome, Reason
from meshctl.sidecar.config.profile import settings_for
from meshctl.sidecar.config.settings import Settings
from meshctl.sidecar.uninject import uninject

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class UninjectStep:
    """Un-inject one workload."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, obj: dict[str, Any], pod_path: tuple[str, ...]) -> Outcome:
        new, texts = uninject(obj, pod_path, self.settings)
        if new == obj:
            return Outcome(None, Action.UNCHANGED, Reason.NOT_INJECTED)
        return Outcome(new, Action.UNINJECTED, Reason.UNINJECTED, texts=texts)


def kube_uninject_settings() -> Settings:
    """The settings ``kube-uninject`` un-injects with: the built-in profile's (the command takes
    no settings). kube-inject makes its result exact under them, whatever it injected with
    (:mod:`meshctl.commands.reversal`)."""
    return settings_for(Options(filenames=()))


def run(opts: Options, *, stdin: Callable[[int], bytes] | None = None,
        progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Un-inject every input of ``opts``; raises MeshctlError on any problem, before emitting."""
    warnings: list[str] = []
    sources = read_sources(opts.filenames, recursive=opts.recursive, stdin=stdin,
                           warnings=warnings, only_manifests=opts.only_manifests)
    todo = pipeline.documents_to_parse(sources)
    settings = settings_for(opts)
    step = UninjectStep(settings)
    processor = pipeline.DocumentProcessor(step, keep_patches=opts.needs_patches)
    every = pipeline.documents_to_check(sources)  # the others are checked, then passed through
    result = pipeline.run(sources, every, processor, parallel.jobs_for(opts.jobs, len(todo)),
                          progress)
    # the settings' warnings first, then the inputs', then the workloads'
    done: RunResult = result.replace(
        warnings=(*settings.warnings, *warnings, *result.warnings))
    return done
