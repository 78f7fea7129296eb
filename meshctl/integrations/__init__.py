"""Other tools' protocols, adapted to meshctl's pipeline: the KRM function (kustomize, kpt) and
kustomize's exec transformer plugin. Pure adapters: data in, data out; the executables that
speak them (``meshctl fn``, ``meshctl-helm-post-renderer``, ``kubectl-mesh``) are in
:mod:`meshctl.cli`."""
