"""Deterministic benchmark corpus: N Deployments + N Services + N ConfigMaps in one YAML stream.

Why a generator and not a checked-in file: the benchmark needs several sizes (250 .. 2,000 apps
and more), and the scaling ratio t(4N)/t(N) is only meaningful when the larger corpus holds the
same kind of documents as the smaller one. So every app ``i`` is rendered from its own seeded
random stream (``Random(f"{seed}:{i}")``): corpus(N) is a prefix of corpus(4N) apart from the
file header, and the output is byte-identical across runs, machines and Python versions.

The documents look like hand-written manifests, because that is what meshctl must keep byte for
byte and what slows comment-preserving tools down: a file header comment, a comment before each
document, inline comments, comment lines between keys, both sequence indentation styles, quoted
and plain scalars, 1-2 containers with ports, env, resources, and httpGet probes on some, and
ConfigMaps with multi-line block scalars whose content contains ``#`` (text, not a comment).

Usage: ``python bench/corpus.py N -o FILE`` or ``from corpus import generate``.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

DEFAULT_SEED = 20251124

_SERVICES = (
    "payments",
    "catalog",
    "checkout",
    "cart",
    "search",
    "reviews",
    "ratings",
    "inventory",
    "shipping",
    "accounts",
    "orders",
    "notifications",
    "recommendations",
    "pricing",
    "gateway",
    "auth",
    "billing",
    "ledger",
    "media",
    "profile",
)
_TEAMS = ("storefront", "platform", "fulfilment", "identity", "growth")
_NAMESPACES = ("shop", "shop", "backend", "payments", "")  # "" = no namespace key
_IMAGES = ("registry.example.com/{team}/{svc}", "ghcr.io/example/{svc}", "docker.io/example/{svc}")
_CPU_REQ = ("50m", "100m", "250m", "500m")
_MEM_REQ = ("64Mi", "128Mi", "256Mi", "512Mi")
_CPU_LIM = ('"1"', '"2"', "500m", "1500m")
_MEM_LIM = ("256Mi", "512Mi", "1Gi", "2Gi")
_LOG_LEVELS = ("debug", "info", "warn")
_PORTS = (8080, 8000, 9090, 3000, 5000)


def _app(i: int, seed: int) -> tuple[str, str, str]:
    """Render the Deployment, Service and ConfigMap of app ``i`` (own random stream)."""
    rng = random.Random(f"{seed}:{i}")
    svc = rng.choice(_SERVICES)
    team = rng.choice(_TEAMS)
    name = f"{svc}-{i:05d}"
    namespace = rng.choice(_NAMESPACES)
    port = rng.choice(_PORTS)
    version = f"{rng.randint(1, 4)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
    image = rng.choice(_IMAGES).format(team=team, svc=svc) + f":{version}"
    # Sequence style: kubectl-style "- " at the parent's indentation, or indented by two.
    ind = "  " if rng.random() < 0.5 else ""
    ns_line = f"  namespace: {namespace}\n" if namespace else ""

    out: list[str] = []
    w = out.append

    # ---- Deployment -------------------------------------------------------------------------
    w("---\n")
    w(f"# Deployment {name}: owned by team {team}.\n")
    if rng.random() < 0.3:
        w("# Rolled out by the release pipeline; edit replicas through the HPA, not here.\n")
    w("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n")
    w(f"  name: {name}\n{ns_line}")
    w("  labels:\n")
    w(f"    app: {name}\n")
    w(f"    app.kubernetes.io/part-of: {team}  # used by the cost report\n")
    w(f'    version: "v{version.split(".")[0]}"\n')
    if rng.random() < 0.4:
        w("  annotations:\n")
        w(f'    deployment.kubernetes.io/revision: "{rng.randint(1, 40)}"\n')
        w(f"    example.com/owner: {team}@example.com\n")
    w("spec:\n")
    w(f"  replicas: {rng.randint(1, 6)}  # baseline, the HPA scales from here\n")
    if rng.random() < 0.5:
        w(f"  revisionHistoryLimit: {rng.choice((3, 5, 10))}\n")
    w("  # The selector is immutable: changing it needs a new Deployment.\n")
    w("  selector:\n    matchLabels:\n")
    w(f"      app: {name}\n")
    if rng.random() < 0.5:
        w("  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n")
        w("      maxSurge: 25%\n      maxUnavailable: 0\n")
    w("  template:\n    metadata:\n      labels:\n")
    w(f"        app: {name}\n")
    w(f'        version: "v{version.split(".")[0]}"\n')
    if rng.random() < 0.3:
        w("      annotations:\n")
        w(f'        prometheus.io/scrape: "true"\n        prometheus.io/port: "{port}"\n')
    w("    spec:\n")
    if rng.random() < 0.6:
        w(f"      serviceAccountName: {name}\n")
    if rng.random() < 0.3:
        w("      terminationGracePeriodSeconds: 45  # drains long-poll clients\n")
    sidecar = rng.random() < 0.35
    w("      containers:\n")
    w(f"      {ind}# the application itself\n")
    w(f"      {ind}- name: {svc}\n")
    c = f"      {ind}  "  # indentation of the container's keys
    quote = '"' if rng.random() < 0.5 else ""
    w(f"{c}image: {quote}{image}{quote}\n")
    w(f"{c}imagePullPolicy: IfNotPresent\n")
    if rng.random() < 0.3:
        w(f'{c}args: ["--port={port}", "--log-format=json"]\n')
    w(f"{c}ports:\n")
    w(f"{c}{ind}- name: http\n{c}{ind}  containerPort: {port}\n{c}{ind}  protocol: TCP\n")
    if rng.random() < 0.4:
        w(f"{c}{ind}- name: metrics  # scraped by Prometheus\n")
        w(f"{c}{ind}  containerPort: 9102\n")
    w(f"{c}env:\n")
    w(f"{c}{ind}- name: LOG_LEVEL\n{c}{ind}  value: {rng.choice(_LOG_LEVELS)}\n")
    w(f"{c}{ind}- name: UPSTREAM_URL\n")
    w(
        f'{c}{ind}  value: "http://{rng.choice(_SERVICES)}.{namespace or "default"}'
        f'.svc.cluster.local:80"\n'
    )
    w(f"{c}{ind}- name: POD_NAME\n{c}{ind}  valueFrom:\n{c}{ind}    fieldRef:\n")
    w(f"{c}{ind}      fieldPath: metadata.name\n")
    if rng.random() < 0.5:
        w(f"{c}{ind}# read from the ConfigMap below\n")
        w(f"{c}{ind}- name: FEATURE_FLAGS\n{c}{ind}  valueFrom:\n{c}{ind}    configMapKeyRef:\n")
        w(f"{c}{ind}      name: {name}-config\n{c}{ind}      key: FEATURE_FLAGS\n")
    w(f"{c}resources:\n{c}  requests:\n")
    w(f"{c}    cpu: {rng.choice(_CPU_REQ)}\n{c}    memory: {rng.choice(_MEM_REQ)}\n")
    w(f"{c}  limits:\n")
    w(f"{c}    cpu: {rng.choice(_CPU_LIM)}\n{c}    memory: {rng.choice(_MEM_LIM)}\n")
    if rng.random() < 0.6:
        w(f"{c}readinessProbe:\n{c}  httpGet:\n{c}    path: /ready\n{c}    port: {port}\n")
        w(f"{c}  initialDelaySeconds: 5\n{c}  periodSeconds: 10\n")
    if rng.random() < 0.4:
        w(f"{c}livenessProbe:  # restarts a wedged process\n")
        w(f"{c}  httpGet:\n{c}    path: /healthz\n{c}    port: http\n")
        w(f"{c}  failureThreshold: 3\n")
    if sidecar:
        w(f"{c}volumeMounts:\n{c}{ind}- name: logs\n{c}{ind}  mountPath: /var/log/app\n")
        w(f"      {ind}# ships /var/log/app to the log pipeline\n")
        w(f"      {ind}- name: log-shipper\n")
        w(f"{c}image: docker.io/fluent/fluent-bit:3.1.{rng.randint(0, 9)}\n")
        w(f'{c}args: ["-i", "tail", "-p", "path=/var/log/app/*.log", "-o", "stdout"]\n')
        w(f"{c}resources:\n{c}  requests:\n{c}    cpu: 10m\n{c}    memory: 32Mi\n")
        w(f"{c}volumeMounts:\n{c}{ind}- name: logs\n{c}{ind}  mountPath: /var/log/app\n")
        w(f"{c}{ind}  readOnly: true\n")
        w(f"      volumes:\n      {ind}- name: logs\n      {ind}  emptyDir: {{}}\n")

    deployment = "".join(out)
    out.clear()

    # ---- Service ----------------------------------------------------------------------------
    w("---\n")
    w(f"# Service {name}: in-cluster traffic to the pods above.\n")
    w("apiVersion: v1\nkind: Service\nmetadata:\n")
    w(f"  name: {name}\n{ns_line}")
    w(f"  labels:\n    app: {name}\n")
    w("spec:\n")
    w("  type: ClusterIP\n" if rng.random() < 0.7 else "  type: NodePort  # reached by the LB\n")
    w(f"  selector:\n    app: {name}\n")
    w("  ports:\n")
    w(f"  {ind}# the port name selects the protocol in a mesh\n")
    w(f"  {ind}- name: http\n  {ind}  port: 80\n  {ind}  targetPort: {port}\n")
    w(f"  {ind}  protocol: TCP\n")

    service = "".join(out)
    out.clear()

    # ---- ConfigMap --------------------------------------------------------------------------
    w("---\n")
    w(f"# ConfigMap {name}-config: settings read at start-up.\n")
    w("apiVersion: v1\nkind: ConfigMap\nmetadata:\n")
    w(f"  name: {name}-config\n{ns_line}")
    w(f"  labels:\n    app: {name}\n")
    w("data:\n")
    w(f"  LOG_LEVEL: {rng.choice(_LOG_LEVELS)}\n")
    flags = ",".join(rng.sample(("new-cart", "fast-search", "beta-ui", "grpc", "audit"), 2))
    w(f'  FEATURE_FLAGS: "{flags}"\n')
    w("  # application config, mounted at /etc/app\n")
    w("  application.yaml: |\n")
    w("    # this line is data, not a YAML comment of the ConfigMap\n")
    w(f"    server:\n      port: {port}\n      shutdownTimeout: 30s\n")
    w(f"    upstream:\n      url: http://{rng.choice(_SERVICES)}:80  # in-mesh name\n")
    w(f"      retries: {rng.randint(0, 5)}\n")
    w("    features:\n")
    for flag in flags.split(","):
        w(f"      {flag}: true\n")
    if rng.random() < 0.5:
        w("  nginx.conf: |-\n")
        w("    server {\n")
        w(f"        listen {port};\n")
        w("        location / { proxy_pass http://127.0.0.1:8081; }  # app port\n")
        w("    }\n")
    return deployment, service, "".join(out)


def generate(n: int, seed: int = DEFAULT_SEED) -> str:
    """Return the corpus for ``n`` apps (3n documents) as one YAML stream."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    header = (
        "# Benchmark corpus generated by bench/corpus.py\n"
        f"# apps: {n} (Deployments, Services, ConfigMaps: {3 * n} documents), seed {seed}\n"
        "# Hand-written-looking manifests: comments, both list styles, block scalars.\n"
    )
    return header + "".join("".join(_app(i, seed)) for i in range(n))


def single_deployment(seed: int = DEFAULT_SEED) -> str:
    """Return a file holding only app 0's Deployment: the start-up benchmark's input."""
    return "# One Deployment from bench/corpus.py (start-up benchmark)\n" + _app(0, seed)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("n", type=int, help="number of apps (Deployment + Service + ConfigMap)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    text = generate(args.n, args.seed)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
