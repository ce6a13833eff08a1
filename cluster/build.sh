#!/usr/bin/env bash
# Builds the local control plane's binaries from Go modules into
#   ${HASTACK_CACHE:-$HOME/.cache/hastack}/cluster/<version-key>/bin
# and reuses them when they are all present (pass --force to rebuild).
#
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  k8s.io/kubernetes (wrapper/)
#   etcd                                     go.etcd.io/etcd/server/v3 (wrapper/cmd/etcd, same module graph)
#   kwok                                     sigs.k8s.io/kwok/cmd/kwok@KWOK_VERSION (go install)
#
# Everything is built with CGO_ENABLED=0, -trimpath and stripped symbols. Only our wrapper
# go.mod/go.sum and this script live in the repo; sources stay in the Go module cache.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"
# shellcheck source=gomod.sh
. "$here/gomod.sh"

force=0
[[ ${1-} == --force ]] && force=1

BINS=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok)
have_all() {
	local b
	for b in "${BINS[@]}"; do [[ -x $CLUSTER_BIN/$b ]] || return 1; done
	[[ -s $CLUSTER_BIN/../share/kwok-stages.yaml ]]
}

if (( !force )) && have_all; then
	echo "build: reusing $CLUSTER_BIN"
	exit 0
fi

command -v go >/dev/null || { echo "build: no 'go' on PATH: cannot build the control plane" >&2; exit 3; }

mkdir -p "$CLUSTER_BIN"
exec 9>"$CLUSTER_BIN/../.build.lock"
flock 9
if (( !force )) && have_all; then echo "build: reusing $CLUSTER_BIN (built meanwhile)"; exit 0; fi

export CGO_ENABLED=0 GOFLAGS="-buildvcs=false"
tmp="$CLUSTER_BIN/../.tmp"
rm -rf "$tmp" && mkdir -p "$tmp"
times="$CLUSTER_BIN/../build-times.txt"
: > "$times"

minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
kv=()
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
	kv+=("-X" "$pkg.gitVersion=$K8S_VERSION" "-X" "$pkg.gitMajor=1" "-X" "$pkg.gitMinor=$minor"
		"-X" "$pkg.gitTreeState=clean" "-X" "$pkg.buildDate=$build_date")
done
ldflags="-s -w ${kv[*]}"

# Three steps, each one line when it starts and ends (one a minute while it runs); the go
# commands' own output goes to the log, whose tail is shown when a step fails.
# shellcheck source=../toolchain/progress.sh
. "$here/../toolchain/progress.sh"
progress_init cluster 3 "$HASTACK_CACHE/logs/cluster-build.log"
step() { # name, command...
	local name=$1 t0=$SECONDS
	progress_step "$@"
	echo "$name $((SECONDS - t0))s" >>"$times"
}

# One `go build` for the four Kubernetes commands and etcd: shared packages compile once.
if (( force )) || ! [[ -x $CLUSTER_BIN/kube-apiserver && -x $CLUSTER_BIN/kube-controller-manager &&
	-x $CLUSTER_BIN/kube-scheduler && -x $CLUSTER_BIN/kubectl && -x $CLUSTER_BIN/etcd ]]; then
	build_kubernetes() {
		(cd "$here/wrapper" && go build -mod=readonly -p 2 -trimpath -ldflags "$ldflags" -o "$tmp/" \
			k8s.io/kubernetes/cmd/kube-apiserver \
			k8s.io/kubernetes/cmd/kube-controller-manager \
			k8s.io/kubernetes/cmd/kube-scheduler \
			k8s.io/kubernetes/cmd/kubectl \
			./cmd/etcd)
	}
	step "kubernetes-$K8S_VERSION+etcd" build_kubernetes
	for b in kube-apiserver kube-controller-manager kube-scheduler kubectl etcd; do mv -f "$tmp/$b" "$CLUSTER_BIN/$b"; done
else
	progress_reuse "kubernetes-$K8S_VERSION+etcd" "present, reused"
fi

if (( force )) || ! [[ -x $CLUSTER_BIN/kwok ]]; then
	# kwok's go.mod has no replace directives, so `go install pkg@version` builds it with its own
	# (checksum-verified) go.sum; it needs Go >= 1.26.
	build_kwok() {
		(cd "$tmp" && GOBIN="$tmp" go install -p 2 -trimpath \
			-ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
			"sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION")
	}
	step "kwok-$KWOK_VERSION" build_kwok
	mv -f "$tmp/kwok" "$CLUSTER_BIN/kwok"
else
	progress_reuse "kwok-$KWOK_VERSION" "present, reused"
fi
# kwok needs Stage configs; use the defaults kwokctl uses (node initialise, node heartbeat with
# lease, pod ready/complete/delete), copied from the kwok module (not committed to our repo).
share="$CLUSTER_BIN/../share"
kwok_stages() { # the module's own files: download it first (`go mod download` prints its Dir)
	local kdir f
	kdir=$(go_module_dir "sigs.k8s.io/kwok@$KWOK_VERSION") || return 1
	[[ -d $kdir/kustomize/stage ]] || { echo "kwok $KWOK_VERSION: no kustomize/stage in '$kdir'" >&2; return 1; }
	mkdir -p "$share"
	for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
		pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
		echo "---"
		cat "$kdir/kustomize/stage/$f"
	done > "$tmp/kwok-stages.yaml"
	mv -f "$tmp/kwok-stages.yaml" "$share/kwok-stages.yaml"
}
if (( force )) || ! [[ -s $share/kwok-stages.yaml ]]; then
	step "kwok stages" kwok_stages
else
	progress_reuse "kwok stages" "present, reused"
fi
rm -rf "$tmp"
progress_say "control plane binaries ready in $CLUSTER_BIN"
ls -l "$CLUSTER_BIN" >&2
