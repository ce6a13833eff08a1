# shellcheck shell=bash
# Source me: `source cluster/env.sh` (bash/zsh). Exports KUBECONFIG for the local control plane
# started by cluster/up.sh and puts its kubectl (and the other built binaries) on PATH.
_hastack_cluster_dir=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)
# shellcheck source=versions.sh
. "$_hastack_cluster_dir/versions.sh"
export KUBECONFIG="$CLUSTER_RUN/kubeconfig"
case ":$PATH:" in *":$CLUSTER_BIN:"*) ;; *) export PATH="$CLUSTER_BIN:$PATH" ;; esac
unset _hastack_cluster_dir
