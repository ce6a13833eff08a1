# shellcheck shell=bash disable=SC2034
# Pinned versions of the local control plane (sourced by build.sh, up.sh, env.sh).
# Changing one of these changes the version key, so a new cache directory is built.
K8S_VERSION=v1.34.4          # k8s.io/kubernetes; staging modules are pinned to v0.${K8S_VERSION#v1.}
KWOK_VERSION=v0.8.0          # sigs.k8s.io/kwok (no replace directives: go install pkg@version)
# etcd comes from the same wrapper module as Kubernetes: go.etcd.io/etcd/server/v3 at the
# version k8s.io/kubernetes itself requires (see cluster/wrapper/go.mod).

HASTACK_CACHE=${HASTACK_CACHE:-$HOME/.cache/hastack}
CLUSTER_KEY="k8s-${K8S_VERSION}_kwok-${KWOK_VERSION}"
CLUSTER_BIN="$HASTACK_CACHE/cluster/$CLUSTER_KEY/bin"
CLUSTER_RUN="$HASTACK_CACHE/cluster/run"
