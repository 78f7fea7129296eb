"""The executables other tools run: meshctl under the names and calling conventions they expect.

``meshctl-helm-post-renderer``
    Helm's post-renderer. Helm runs it with no arguments of its own (Helm 3:
    ``--post-renderer meshctl-helm-post-renderer``; Helm 4: the ``postrenderer/v1`` plugin in
    ``integrations/helm-plugin/``), the rendered manifests on stdin, and takes stdout as the new
    manifests. It is ``meshctl kube-inject -f -`` followed by whatever ``--post-renderer-args``
    gave (``--revision canary``, ``--injectConfigFile inject.yaml``, ...).
``kubectl-mesh``
    kubectl's plugin: ``kubectl mesh kube-inject -f app.yaml`` runs ``kubectl-mesh kube-inject -f
    app.yaml``; every meshctl command works, and help calls the program ``kubectl mesh``.

Both go through :func:`meshctl.cli.main.main`, so the usual command lines take the click-free
path (a post-renderer runs on every ``helm template``/``install``/``upgrade``), and end the
process as the ``meshctl`` script does. Nothing else is imported here.
"""

from __future__ import annotations

import sys

from meshctl.cli.main import finish, main

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import NoReturn

#: the command line a Helm post-renderer runs; Helm's --post-renderer-args follow it
HELM_POST_RENDERER = ("kube-inject", "-f", "-")


def helm_post_renderer() -> NoReturn:
    """The ``meshctl-helm-post-renderer`` console script."""
    finish(main([*HELM_POST_RENDERER, *sys.argv[1:]]))


def kubectl_mesh() -> NoReturn:
    """The ``kubectl-mesh`` console script (kubectl's plugin ``mesh``)."""
    finish(main(sys.argv[1:], prog_name="kubectl mesh"))
