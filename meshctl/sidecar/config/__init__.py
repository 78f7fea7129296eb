"""Injection settings: the built-in profile, the user's Istio config files, mesh config.

``BUILTIN_ISTIO`` is the one place that names the Istio release the built-in profile
reproduces (images ``docker.io/istio/proxyv2:BUILTIN_ISTIO``; ``meshctl version`` prints it;
``data/values.yaml`` must pin the same tag, a test checks it); ``BUILTIN_TEMPLATES`` names its
templates. Kept here, in a module that imports nothing, so that ``meshctl version`` can read
them without loading the profile.
"""

BUILTIN_ISTIO = "1.29.0"
#: the templates of the built-in profile, each in ``data/<name>.tpl`` (docs/builtin-profile.md
#: says why Istio's waypoint, kube-gateway and agentgateway templates are not among them)
BUILTIN_TEMPLATES = ("sidecar", "gateway", "grpc-agent", "grpc-simple")
