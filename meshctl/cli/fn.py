"""``meshctl fn``: meshctl as a KRM function, or as kustomize's exec transformer plugin.

The protocols are in :mod:`meshctl.integrations.krm`; this module reads stdin, prints and
returns the exit code. Registered in :mod:`meshctl.cli.app` with one line.
"""

from __future__ import annotations

import sys

import click

from meshctl.cli.output import fail
from meshctl.errors import EXIT_OK, MeshctlError


def _stdin(limit: int = -1) -> bytes:
    return sys.stdin.buffer.read(limit)


def run_fn(config: str | None) -> int:
    """Run the function; its exit code."""
    from meshctl.integrations import krm

    try:
        if config is None:
            from meshctl.manifests.read import MAX_INPUT_BYTES

            out = krm.run_resource_list(_stdin(MAX_INPUT_BYTES + 1))
            sys.stdout.write(out.text)
            sys.stdout.flush()
            if out.error is not None:
                return fail(out.message, out.error.exit_code)
            return EXIT_OK
        from meshctl.manifests.emit import joined_output
        from meshctl.manifests.report import render_text

        result = krm.run_transformer(config, _stdin)
        text = joined_output(result)
    except MeshctlError as exc:
        return fail(str(exc), exc.exit_code)
    sys.stdout.write(text)
    sys.stdout.flush()
    sys.stderr.write(render_text(result.results, result.warnings))
    return EXIT_OK


@click.command(
    "fn",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""\b
Examples:
  # a KRM function: a ResourceList in, the same ResourceList injected, with results
  kpt fn eval --exec "meshctl fn" --fn-config inject.yaml k8s/
  meshctl fn < resource-list.yaml
  # kustomize's exec transformer plugin runs it with its config file
  meshctl fn inject.yaml < manifests.yaml
""",
)
@click.argument("config", required=False, metavar="[CONFIG]",
                type=click.Path(readable=False))
def fn(config: str | None) -> None:
    """Inject as a KRM function (kpt, kustomize) or a kustomize exec transformer plugin.

    Without CONFIG, stdin is a ResourceList (config.kubernetes.io/v1): its items are injected
    with the options of its functionConfig, and the ResourceList is printed with a result per
    workload. On an error the items come back unchanged with the error as a result, one line
    on stderr, and a non-zero exit code.

    With CONFIG (what kustomize passes to an exec transformer plugin: its config file), stdin
    is a plain stream of manifests, printed injected.

    The options: a ConfigMap's data, or the spec of a meshctl.dev/v1 SidecarInjector, with
    kube-inject's profile and cluster flags in camelCase: revision, hub, tag, proxyImage,
    proxyInitImage, nativeSidecars, compliancePolicy, reinject, injectConfigFile, valuesFile,
    meshConfigFile, operatorFileName, templateEnv (names, a list or comma-separated),
    fromCluster, istioNamespace, injectConfigMapName, meshConfigMapName, kubeconfig, context,
    kubectl, requestTimeout. See docs/integrations.md.
    """
    sys.exit(run_fn(config))
