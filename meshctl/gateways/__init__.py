"""``create ingress``: routing arguments in, Kubernetes/Istio/Gateway API objects out (pure).

:mod:`.rules` parses kubectl's ``--rule`` grammar and the walkthrough's ``--service``/``--path``
form into one model (:class:`.rules.Routes`); one builder per style turns the model into plain
dicts: :mod:`.ingress` (``networking.k8s.io/v1`` and ``extensions/v1beta1`` Ingress),
:mod:`.istio` (Istio Gateway + VirtualService), :mod:`.gatewayapi` (Gateway API Gateway +
HTTPRoute). :mod:`.emit` writes them as YAML or JSON. Nothing here prints, exits or imports the
injection engine; bad arguments raise :class:`meshctl.errors.UsageError`.
"""
