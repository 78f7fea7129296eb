"""Cluster access and URL discovery.

:mod:`meshctl.kube.kubectl` is the one place meshctl talks to a cluster: through the real
``kubectl`` (so every kubeconfig, context and auth plugin works), or through objects saved with
``kubectl get -o json`` (:class:`~meshctl.kube.kubectl.StateFile`); both answer the same
lookups; :mod:`meshctl.kube.portforward` runs ``kubectl port-forward``.
:mod:`meshctl.kube.urls` (and :mod:`meshctl.kube.ports`) hold the URL rules as pure functions
over plain objects.

Nothing here imports the injection engine, click, or a YAML parser (a YAML state file imports
one when it is read); modules are imported by name (this package imports none of them).
"""
