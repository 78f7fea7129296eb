"""Kubernetes manifests as files: read (files, dirs, URLs, stdin; YAML streams, JSON), find
(kind -> pod template, pod-shape checks), results, emit (yaml/patch/diff/check, atomic writes)
and the per-resource report. Nothing Istio-specific."""
