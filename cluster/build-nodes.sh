#!/usr/bin/env bash
# Builds what real nodes run (HASTACK_NODES=real) from Go modules, into the cache, and packs the images
# they start as OCI archives (no registry: nodes.sh imports them into each node's containerd):
#
#   kubelet, kube-proxy        k8s.io/kubernetes via wrapper/ (the control plane's module graph)
#   coredns                    github.com/coredns/coredns@COREDNS_VERSION (go install)
#   metrics-server             sigs.k8s.io/metrics-server/cmd/metrics-server@METRICS_SERVER_VERSION
#   kube-router                github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@KUBE_ROUTER_VERSION
#   traefik                    github.com/traefik/traefik/v3 via traefik/ (go.mod, go.sum, tools.go), with
#                              three stand-ins traefik/standins.py generates from the module cache
#   echo, pause                our test app and sandbox process (images/echo, images/pause)
#
# Reuses what is present (--force rebuilds). Needs Go; nothing third-party is committed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"

force=0
[[ ${1-} == --force ]] && force=1
BINS=(kubelet kube-proxy coredns metrics-server kube-router traefik echo pause)
IMAGES=(pause echo coredns metrics-server traefik)
# our own images change with their sources, not with a version: their hash is recorded beside them
ours_stamp() { cat "$here"/images/echo/* "$here"/images/pause/* "$here/images/oci_image.py" | sha256sum | cut -c1-16; }
have_all() {
	local b
	for b in "${BINS[@]}"; do [[ -x $NODES_BIN/$b ]] || return 1; done
	for b in "${IMAGES[@]}"; do [[ -s $NODES_IMAGES/$b.tar && -s $NODES_IMAGES/$b.ref ]] || return 1; done
	[[ -f $NODES_GATEWAY_CRDS/.complete && -s $NODES_TRAEFIK_CRDS ]] || return 1
	[[ $(cat "$NODES_BIN/.ours-stamp" 2>/dev/null) == "$(ours_stamp)" ]]
}
if ((!force)) && have_all; then
	echo "build-nodes: reusing $NODES_BIN" >&2
	exit 0
fi
command -v go >/dev/null || { echo "build-nodes: no 'go' on PATH: cannot build the real nodes" >&2; exit 3; }
mkdir -p "$NODES_BIN" "$NODES_IMAGES"
exec 9>"$NODES_BIN/../.build.lock"
flock 9

export CGO_ENABLED=0 GOFLAGS="-buildvcs=false"
tmp="$NODES_BIN/../.tmp"
rm -rf "$tmp" && mkdir -p "$tmp"
# shellcheck source=../toolchain/progress.sh
. "$here/../toolchain/progress.sh"
progress_init nodes 8 "$HASTACK_CACHE/logs/nodes-build.log"

needs() { # binary...: 0 when one of them must be built
	local b
	((force)) && return 0
	for b in "$@"; do [[ -x $NODES_BIN/$b ]] || return 0; done
	return 1
}
install_from() { # name, go install target, extra ldflags
	(cd "$tmp" && GOBIN="$tmp" go install -p 2 -trimpath -ldflags "-s -w ${3:-}" "$2") && mv -f "$tmp/$1" "$NODES_BIN/$1"
}

minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
kv=()
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
	kv+=("-X" "$pkg.gitVersion=$K8S_VERSION" "-X" "$pkg.gitMajor=1" "-X" "$pkg.gitMinor=$minor" "-X" "$pkg.gitTreeState=clean")
done
build_node_agents() {
	(cd "$here/wrapper" && go build -mod=readonly -p 2 -trimpath -ldflags "-s -w ${kv[*]}" -o "$tmp/" \
		k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy) &&
		mv -f "$tmp/kubelet" "$tmp/kube-proxy" "$NODES_BIN/"
}
if needs kubelet kube-proxy; then progress_step "kubelet, kube-proxy $K8S_VERSION" build_node_agents; else progress_reuse "kubelet, kube-proxy" "present, reused"; fi

build_coredns() { install_from coredns "github.com/coredns/coredns@$COREDNS_VERSION"; }
if needs coredns; then progress_step "coredns $COREDNS_VERSION" build_coredns; else progress_reuse "coredns" "present, reused"; fi

build_metrics_server() { install_from metrics-server "sigs.k8s.io/metrics-server/cmd/metrics-server@$METRICS_SERVER_VERSION"; }
if needs metrics-server; then progress_step "metrics-server $METRICS_SERVER_VERSION" build_metrics_server; else progress_reuse "metrics-server" "present, reused"; fi

build_kube_router() { install_from kube-router "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION"; }
if needs kube-router; then progress_step "kube-router $KUBE_ROUTER_VERSION" build_kube_router; else progress_reuse "kube-router" "present, reused"; fi

build_traefik() { # the wrapper module in a build folder of the cache, its stand-ins generated there
	local build="$tmp/traefik-build" gomodcache
	mkdir -p "$build"
	cp "$here/traefik/go.mod" "$here/traefik/go.sum" "$here/traefik/tools.go" "$build/"
	(cd "$build" && go mod download github.com/traefik/traefik/v3 github.com/abbot/go-http-auth github.com/go-acme/lego/v5) || return 1
	gomodcache=$(go env GOMODCACHE)
	python3 "$here/traefik/standins.py" "$gomodcache" "$build/standins" || return 1
	(cd "$build" && go build -mod=readonly -p 2 -trimpath \
		-ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" \
		-o "$tmp/traefik" github.com/traefik/traefik/v3/cmd/traefik) && mv -f "$tmp/traefik" "$NODES_BIN/traefik"
}
if needs traefik; then progress_step "traefik $TRAEFIK_VERSION" build_traefik; else progress_reuse "traefik" "present, reused"; fi

build_ours() {
	local app
	for app in echo pause; do
		(cd "$here/images/$app" && go build -trimpath -ldflags "-s -w" -o "$NODES_BIN/$app" .) || return 1
	done
}
if needs echo pause || [[ $(cat "$NODES_BIN/.ours-stamp" 2>/dev/null) != "$(ours_stamp)" ]]; then
	progress_step "echo, pause (ours)" build_ours
	ours_stamp >"$NODES_BIN/.ours-stamp"
else
	progress_reuse "echo, pause" "present, reused"
fi

pack_images() { # name:tag, entrypoint, user for each; the same binary always gives the same digest
	local spec name tag user
	for spec in pause:3.10:65535 echo:0.1.0:10001 coredns:${COREDNS_VERSION#v}:65532 \
		metrics-server:${METRICS_SERVER_VERSION#v}:65532 traefik:${TRAEFIK_VERSION#v}:65532; do
		IFS=: read -r name tag user <<<"$spec"
		python3 "$here/images/oci_image.py" "$NODES_BIN/$name" "hastack.local/$name:$tag" "$NODES_IMAGES/$name.tar" \
			--entrypoint "/$name" --user "$user" >"$NODES_IMAGES/$name.digest" || return 1
		echo "hastack.local/$name:$tag" >"$NODES_IMAGES/$name.ref"
	done
}
progress_step "images (OCI archives)" pack_images

gateway_api_crds() { # Traefik's Gateway API release: its standard CRDs, copied out of the module cache
	local dir file
	# shellcheck source=gomod.sh
	. "$here/gomod.sh"
	dir=$(go_module_dir "sigs.k8s.io/gateway-api@$TRAEFIK_GATEWAY_API_VERSION") || return 1
	rm -rf "$NODES_GATEWAY_CRDS" && mkdir -p "$NODES_GATEWAY_CRDS"
	for file in "$dir"/config/crd/standard/*.yaml; do
		grep -q '^kind: CustomResourceDefinition$' "$file" || continue
		cp "$file" "$NODES_GATEWAY_CRDS/" && chmod 644 "$NODES_GATEWAY_CRDS/${file##*/}"
	done
	touch "$NODES_GATEWAY_CRDS/.complete"
}
if [[ ! -f $NODES_GATEWAY_CRDS/.complete ]] || ((force)); then
	progress_step "Gateway API $TRAEFIK_GATEWAY_API_VERSION CRDs" gateway_api_crds
fi
traefik_crds() { # the CRDs Traefik's kubernetescrd provider watches, as its release publishes them
	local dir
	# shellcheck source=gomod.sh
	. "$here/gomod.sh"
	dir=$(go_module_dir "github.com/traefik/traefik/v3@$TRAEFIK_VERSION") || return 1
	install -m 644 "$dir/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml" \
		"$NODES_TRAEFIK_CRDS.tmp" && mv "$NODES_TRAEFIK_CRDS.tmp" "$NODES_TRAEFIK_CRDS"
}
if [[ ! -s $NODES_TRAEFIK_CRDS ]] || ((force)); then
	progress_step "Traefik $TRAEFIK_VERSION CRDs" traefik_crds
fi
rm -rf "$tmp"
progress_say "real-node binaries in $NODES_BIN, images in $NODES_IMAGES"
