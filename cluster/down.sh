#!/usr/bin/env bash
# Stops the local control plane started by cluster/up.sh (HASTACK_CLUSTER names which one). Its state
# (${HASTACK_CACHE:-$HOME/.cache/hastack}/cluster/run: etcd data, PKI) is kept, so `up.sh` starts it
# again with every object; `down.sh --reset` (make cluster-reset) also removes the state: the objects
# are gone. Built binaries are kept either way. Only processes whose pid is recorded in run/pids and
# whose executable is the component's binary are signalled.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"
RUN=$CLUSTER_RUN
reset=0
case ${1:-} in
--reset) reset=1 ;;
"") ;;
*) echo "usage: $0 [--reset]" >&2; exit 2 ;;
esac

if [[ ${HASTACK_CLUSTER_LOCK_HELD:-0} != 1 ]]; then # up.sh calls us with its lock held
	mkdir -p "$HASTACK_CACHE/cluster"
	exec 8>"$CLUSTER_LOCK"
	flock -w 60 8 || echo "cluster: $CLUSTER_LOCK still held after 60s: stopping anyway" >&2
fi

if [[ ! -d $RUN ]]; then
	echo "cluster: not running (no $RUN)" >&2
	exit 0
fi

ours() { # component -> pid if it still runs that component's binary
	local f=$RUN/pids/$1 pid exe
	[[ -f $f ]] || return 1
	pid=$(<"$f")
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	exe=${exe% (deleted)}
	[[ $exe == */$1 ]] && echo "$pid"
}

stop() { # components stopped together: SIGTERM, wait up to 10s, then SIGKILL
	local c pid pids=()
	for c in "$@"; do
		pid=$(ours "$c") || continue
		kill -TERM "$pid" 2>/dev/null && pids+=("$pid:$c")
	done
	for _ in $(seq 1 50); do
		local left=()
		for p in "${pids[@]}"; do kill -0 "${p%%:*}" 2>/dev/null && left+=("$p"); done
		pids=("${left[@]}")
		((${#pids[@]} == 0)) && return 0
		sleep 0.2
	done
	for p in "${pids[@]}"; do
		echo "cluster: ${p#*:} (${p%%:*}) ignored SIGTERM for 10s: SIGKILL" >&2
		kill -KILL "${p%%:*}" 2>/dev/null || true
	done
}

# real nodes first (their pods, network namespaces and the machine state they changed)
if [[ -d $RUN/nodes ]]; then bash "$here/nodes.sh" down; fi
# reverse start order: the clients first (together), then the API server, storage last
stop kwok kube-scheduler kube-controller-manager
stop kube-apiserver
stop etcd
if ((reset)); then
	rm -rf "$RUN"
	echo "cluster: stopped, state removed ($RUN)" >&2
else
	echo "cluster: stopped; state kept in $RUN (cluster/up.sh starts it again, down.sh --reset removes it)" >&2
fi
