#!/usr/bin/env bash
# Build the Helm v3 client from its Go module, once, into the shared cache
# ${CHANNELPULSE_CACHE_DIR:-~/.cache/channelpulse}/tools/helm-<version>/helm, and print its path.
# A second run, or another checkout on the same machine, reuses the binary (and Go's module and
# build caches). Needs Go (GO=..., else `go` on PATH, else /usr/local/go/bin/go) and the Go module
# proxy. The build runs at nice 19. The version is infra/helm/HELM_VERSION; the chart test
# (tests/unit/infra/test_helm_chart.py) looks for the binary at the same path.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(cat infra/helm/HELM_VERSION)
dest="${CHANNELPULSE_CACHE_DIR:-$HOME/.cache/channelpulse}/tools/helm-${version}"
if [ -x "$dest/helm" ]; then
  echo "$dest/helm"
  exit 0
fi

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
if [ ! -x "$GO" ]; then
  echo "[build_helm] Go not found (set GO=/path/to/go); it is needed to build helm ${version}" >&2
  exit 1
fi
echo "[build_helm] building helm ${version} with $("$GO" env GOVERSION) into $dest (once; minutes)" >&2
start=$(date +%s)
module="helm.sh/helm/v3@${version}"
# The Kubernetes version helm assumes without a cluster (`helm template`, `helm lint`): helm's own
# Makefile derives it from the client-go it is built with (v0.X.Y -> 1.X); without these flags a
# `go install` build assumes 1.20.
gomod=$(nice -n 19 "$GO" mod download -json "$module" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
client_go=$(sed -n 's/^[[:space:]]*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod")
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=${version}"
for pkg in pkg/lint/rules pkg/chartutil; do
  ldflags+=" -X helm.sh/helm/v3/${pkg}.k8sVersionMajor=1 -X helm.sh/helm/v3/${pkg}.k8sVersionMinor=${client_go}"
done
mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d "${dest}.build.XXXXXX") && chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 GOBIN="$tmp" nice -n 19 "$GO" install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@${version}" >&2
mv "$tmp" "$dest"
trap - EXIT
echo "[build_helm] built in $(( $(date +%s) - start ))s: $("$dest/helm" version --short), Kubernetes 1.${client_go}" >&2
echo "$dest/helm"
