"""Every name Istio's injection writes or reads: containers, volumes, annotations, labels, env.

One place for each: the injector, the post-processing, un-injection and the policy import them
from here. (The templates in ``config/data`` spell them too: that is their language.)
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Final


# --- containers and volumes the templates add ---------------------------------------------
PROXY: Final = "istio-proxy"
INIT: Final = "istio-init"
VALIDATION: Final = "istio-validation"
CORE_DUMP: Final = "enable-core-dump"
#: volumes Istio's sidecar template adds (what the former ``istioctl kube-uninject`` removed by
#: name from pods without a status annotation)
SIDECAR_VOLUMES: Final = ("istio-certs", "istio-data", "istio-envoy", "istio-token",
                          "istiod-ca-cert", "istio-podinfo")  # fmt: skip

# --- annotations ---------------------------------------------------------------------------
INJECT: Final = "sidecar.istio.io/inject"  # also a label
STATUS: Final = "sidecar.istio.io/status"
#: meshctl's provenance record: a key of the status annotation's JSON (see sidecar/provenance.py)
PROVENANCE: Final = "meshctl"
#: in that record: the original action of every probe or lifecycle hook that Istio points at the
#: agent without recording it in ``ISTIO_KUBE_APP_PROBERS`` (a named port the container does not
#: declare, a probe already on the agent's port), so that kube-uninject restores it
PROVENANCE_PROBES: Final = "probes"
#: the annotation, on the workload object's own metadata (not its pod template's: a change of
#: it rolls no pod), of what kube-uninject undoes beyond its own rules where injection changed
#: the user's text in a way they would not give back: a JSON list of ``[JSON Pointer, recorded
#: form or null, digest...]`` (put that source text back, or remove what injection added
#: there; the entry format is in sidecar/provenance.py)
UNDO: Final = "meshctl.dev/undo"
OVERRIDES: Final = "proxy.istio.io/overrides"
PROXY_CONFIG: Final = "proxy.istio.io/config"
NATIVE_SIDECAR: Final = "sidecar.istio.io/nativeSidecar"
TEMPLATES: Final = "inject.istio.io/templates"
IMAGE_TYPE: Final = "sidecar.istio.io/proxyImageType"
INTERCEPTION_MODE: Final = "sidecar.istio.io/interceptionMode"
REWRITE_PROBES: Final = "sidecar.istio.io/rewriteAppHTTPProbers"
STATUS_PORT: Final = "status.sidecar.istio.io/port"
MERGE_METRICS: Final = "prometheus.istio.io/merge-metrics"
SECURE_METRICS_PORT: Final = "prometheus.istio.io/secure-port"
MULTUS_NETWORKS: Final = "k8s.v1.cni.cncf.io/networks"

# --- labels --------------------------------------------------------------------------------
NETWORK: Final = "topology.istio.io/network"
#: labels Istio's templates write on the pod
TEMPLATE_LABELS: Final = ("security.istio.io/tlsMode", "service.istio.io/canonical-name",
                          "service.istio.io/canonical-revision", NETWORK,
                          "networking.istio.io/tunnel")  # fmt: skip

# --- values --------------------------------------------------------------------------------
#: the Multus network Istio CNI adds to a pod's networks
ISTIO_CNI_NETWORK: Final = "default/istio-cni"

# --- environment variables of istio-proxy --------------------------------------------------
APP_PROBERS_ENV: Final = "ISTIO_KUBE_APP_PROBERS"
PROMETHEUS_ENV: Final = "ISTIO_PROMETHEUS_ANNOTATIONS"
