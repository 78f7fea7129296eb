"""meshctl: sidecar injection for Kubernetes manifests that keeps the user's bytes."""

__version__ = "0.1.0"
