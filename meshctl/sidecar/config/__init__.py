"""Injection settings: the built-in profile, the user's Istio config files, mesh config.

``BUILTIN_ISTIO`` is the one place that names the Istio release the built-in profile
reproduces (images ``docker.io/istio/proxyv2:BUILTIN_ISTIO``; ``meshctl version`` prints it;
``data/values.yaml`` must pin the same tag, a test checks it). Kept here, in a module that
imports nothing, so that ``meshctl version`` can read it without loading the profile.
"""

BUILTIN_ISTIO = "1.29.0"
