"""Istio's sidecar injection semantics on plain data: names, policy, render, merge,
post-process (and probes), inject, uninject, validate; ``config`` holds the settings (built-in
profile, injector config, values, mesh config)."""
