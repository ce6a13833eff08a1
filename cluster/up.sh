#!/usr/bin/env bash
# Starts the local control plane on loopback (idempotent: does nothing if it is already up).
#
#   etcd (http, 127.0.0.1) -> kube-apiserver (https, 127.0.0.1, client-cert + RBAC, Secrets
#   encrypted at rest) -> kube-controller-manager, kube-scheduler -> kwok (fakes nodes and pod status)
#
# State lives in ${HASTACK_CACHE:-$HOME/.cache/hastack}/cluster/run (run-<name> for
# HASTACK_CLUSTER=<name>: several control planes at once, each on free ports): pki/, logs/, pids/,
# etcd data and the admin kubeconfig (run/kubeconfig). Three kwok nodes, one per zone
# (topology.kubernetes.io/zone zone-a/b/c). The upstream CRDs of Gateway API, Envoy Gateway and
# cert-manager (cluster/crds.sh fetches them from their Go modules) are applied server-side, also
# when the control plane is already up and has not got this version of them yet.
# A control plane that was stopped, or lost a component, is started again on its own state: its
# objects are kept. Nothing here deletes state: `cluster/down.sh --reset` (make cluster-reset) does.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"
t_start=$(date +%s.%N)

RUN=$CLUSTER_RUN
KUBECONFIG_FILE=$RUN/kubeconfig
log() { echo "cluster: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Nodes: a control plane keeps what it was first started with (run/nodes-mode); `auto` (the default)
# starts real nodes where this machine can run them (cluster/nodes.sh check says why not), else kwok.
if [[ -f $CLUSTER_RUN/nodes-mode || -f $CLUSTER_RUN/ready ]]; then
	recorded_nodes=$(cat "$CLUSTER_RUN/nodes-mode" 2>/dev/null || echo kwok) # none recorded: kwok, from before
	if [[ $HASTACK_NODES != auto && $HASTACK_NODES != "$recorded_nodes" ]]; then
		die "control plane '$HASTACK_CLUSTER' runs $recorded_nodes nodes, HASTACK_NODES asks for $HASTACK_NODES:" \
			"start another with HASTACK_CLUSTER=<name>, or \`make cluster-reset\` this one (its objects are lost)"
	fi
	HASTACK_NODES=$recorded_nodes
elif [[ $HASTACK_NODES == auto ]]; then
	if why_not=$(bash "$here/nodes.sh" check 2>&1); then
		HASTACK_NODES=real
	else
		HASTACK_NODES=kwok
		log "kwok nodes (no container runs, no request flows): ${why_not#nodes: }"
	fi
fi
if [[ $HASTACK_NODES == real ]]; then
	COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler)
else
	COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
fi
READY_TIMEOUT=${HASTACK_CLUSTER_TIMEOUT:-120}

alive() { # component -> 0 if its recorded pid runs our binary
	local f=$RUN/pids/$1 pid exe
	[[ -f $f ]] || return 1
	pid=$(<"$f")
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	exe=${exe% (deleted)}
	[[ $exe == */$1 ]]
}

all_alive() {
	local c pid
	for c in "${COMPONENTS[@]}"; do alive "$c" || return 1; done
	if [[ $HASTACK_NODES == real ]]; then # each node's kubelet too
		for c in a b c; do
			pid=$(cat "$RUN/pids/kubelet-node-$c" 2>/dev/null) && kill -0 "$pid" 2>/dev/null || return 1
		done
	fi
}

kc() { "$CLUSTER_BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# CRDs: fetched once into the cache, applied server-side (the larger ones exceed the annotation
# client-side apply keeps; an earlier client-side copy, such as our old stand-ins, is taken over),
# then recorded in run/crds so that a running control plane is brought up to date once.
fetch_crds() { CRDS_DIR=$("$here/crds.sh") || die "could not fetch the CRDs (cluster/crds.sh): see the output above"; }
apply_crds() {
	kc apply --server-side --force-conflicts --field-manager=hastack-cluster -f "$CRDS_DIR" >/dev/null ||
		die "could not install the CRDs from $CRDS_DIR"
}
await_crds() {
	kc wait --for=condition=Established --timeout="${READY_TIMEOUT}s" -f "$CRDS_DIR" >/dev/null ||
		die "CRDs from $CRDS_DIR not Established"
	echo "$CRDS_KEY" >"$RUN/crds"
}

# What each fake node offers. Real nodes always report ephemeral-storage: without it every pod that
# requests some (hastack's do, from the profile) is Insufficient ephemeral-storage and stays Pending.
NODE_RESOURCES='{"cpu": "32", "memory": "256Gi", "ephemeral-storage": "100Gi", "pods": "110"}'
# A control plane started before ephemeral-storage was offered gets it once (status subresource).
offer_node_resources() {
	local node
	for node in $(kc get nodes -l type=kwok -o go-template='{{range .items}}{{if not (index .status.allocatable "ephemeral-storage")}}{{.metadata.name}} {{end}}{{end}}'); do
		kc patch node "$node" --subresource=status --type=merge \
			-p "{\"status\": {\"capacity\": $NODE_RESOURCES, \"allocatable\": $NODE_RESOURCES}}" >/dev/null ||
			die "could not offer ephemeral-storage on node $node"
	done
}

# one up/down at a time per control plane (parallel test sessions share the run directory)
mkdir -p "$HASTACK_CACHE/cluster"
exec 8>"$CLUSTER_LOCK"
flock -w 900 8 || die "another cluster/up.sh or down.sh holds $CLUSTER_LOCK"
export HASTACK_CLUSTER_LOCK_HELD=1

if [[ -f $RUN/ready ]] && [[ $(<"$RUN/key") == "$CLUSTER_KEY" ]] && all_alive &&
	kc get --raw=/readyz >/dev/null 2>&1; then
	if [[ $(cat "$RUN/crds" 2>/dev/null) != "$CRDS_KEY" ]]; then
		fetch_crds
		apply_crds
		await_crds
		log "CRDs updated to $CRDS_KEY"
	fi
	offer_node_resources
	log "already running ($(kc config view -o jsonpath='{.clusters[0].cluster.server}')); KUBECONFIG=$KUBECONFIG_FILE"
	exit 0
fi
# A control plane that once started (run/ready) is restarted on its own state; a first start that
# never finished holds nothing of anyone's and is started afresh.
restart=0
if [[ -f $RUN/ready && -f $RUN/pki/ca.crt && -d $RUN/etcd ]]; then
	recorded_key=$(cat "$RUN/key" 2>/dev/null || true)
	if [[ $recorded_key != "$CLUSTER_KEY" ]]; then
		die "$RUN holds the state of control plane $recorded_key, not $CLUSTER_KEY: keep it by pinning" \
			"that version in cluster/versions.sh, or start anew with \`make cluster-reset\` (its objects are lost)"
	fi
	restart=1
	log "restarting on the state in $RUN (objects kept): a component was not running"
	"$here/down.sh" >&2
elif [[ -d $RUN ]]; then
	log "an unfinished first start left $RUN: starting afresh"
	"$here/down.sh" --reset >&2
fi

"$here/build.sh" >&2 || { rc=$?; log "ERROR: build failed (exit $rc): see the output above"; exit "$rc"; }
if [[ $HASTACK_NODES == real ]]; then
	bash "$here/packages.sh" || die "real nodes need their Debian packages: see the line above"
	bash "$here/build-nodes.sh" >&2 || die "building the real nodes' binaries failed: see the output above"
fi
fetch_crds
t_built=$(date +%s.%N)

# On any failure from here on, stop what was started (HASTACK_CLUSTER_KEEP_ON_FAILURE=1 keeps
# the processes and run/ for inspection).
started_ok=0
on_exit() {
	if ((started_ok == 0)); then
		if [[ ${HASTACK_CLUSTER_KEEP_ON_FAILURE:-0} == 1 ]]; then
			log "start-up failed: state kept in $RUN (logs in $RUN/logs); stop it with cluster/down.sh"
		else
			[[ -d $RUN/logs ]] && cp -r "$RUN/logs" "$HASTACK_CACHE/cluster/last-failed-logs" 2>/dev/null
			log "start-up failed: stopping; component logs copied to $HASTACK_CACHE/cluster/last-failed-logs"
			if ((restart)); then "$here/down.sh" >&2 || true; else "$here/down.sh" --reset >&2 || true; fi
		fi
	fi
}
trap on_exit EXIT
rm -rf "$HASTACK_CACHE/cluster/last-failed-logs"
mkdir -p "$RUN"/{pki,logs,pids,etcd}
chmod 700 "$RUN/etcd"
chmod 700 "$RUN"
echo "$CLUSTER_KEY" > "$RUN/key"
echo "$HASTACK_NODES" > "$RUN/nodes-mode"
echo "$CLUSTER_NET" > "$RUN/net"

# ---------------------------------------------------------------- ports (free, loopback)
# A restart keeps its ports when they are free (clients keep their kubeconfig), else takes new ones:
# free ones below the kernel's ephemeral range, which no outgoing connection takes between this probe
# and the daemons' bind (a port the kernel hands out for bind(0) is one a client socket may take first).
PORT_NAMES=(ETCD_PORT ETCD_PEER_PORT API_PORT INGRESS_HTTP_PORT INGRESS_HTTPS_PORT)
read -r "${PORT_NAMES[@]}" < <(python3 - "$RUN/ports" "${PORT_NAMES[@]}" <<'EOF'
import random, re, socket, sys
from pathlib import Path
ports, names = Path(sys.argv[1]), sys.argv[2:]
found = dict(re.findall(r"(\w+)=(\d+)", ports.read_text())) if ports.exists() else {}
try:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
top = min(low, 30000)
pick = random.SystemRandom()
socks = []
for name in names:
    tries = [int(found[name])] if name in found else []
    tries += [pick.randrange(10000, top) for _ in range(200)] if top > 10100 else []
    for port in [*tries, 0]:
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            break
        except OSError:
            s.close()
    socks.append(s)
print(*(s.getsockname()[1] for s in socks))
EOF
)
for name in "${PORT_NAMES[@]}"; do printf '%s=%s\n' "$name" "${!name}"; done > "$RUN/ports"
SERVER=https://127.0.0.1:$API_PORT

# ---------------------------------------------------------------- PKI (openssl), once per state
pki=$RUN/pki
# Secrets are encrypted at rest (secretbox); `identity` after it reads what an older state stored
# in plain text until it is written again.
if [[ ! -f $pki/encryption.yaml ]]; then
	(umask 077 && cat >"$pki/encryption.yaml" <<EOF
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - secretbox:
          keys:
            - name: key1
              secret: $(head -c 32 /dev/urandom | base64 -w0)
      - identity: {}
EOF
	)
fi
((restart)) || (
	cd "$pki"
	umask 077
	ecparam() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }
	days=3650
	ecparam ca.key
	openssl req -x509 -new -key ca.key -sha256 -days $days -subj "/CN=hastack-local-ca" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out ca.crt 2>/dev/null
	sign() { # name, subject, extensions
		ecparam "$1.key"
		openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
		printf '%b\n' "$3" > "$1.ext"
		openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days $days \
			-extfile "$1.ext" -out "$1.crt" 2>/dev/null
		rm -f "$1.csr" "$1.ext"
	}
	client="basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth"
	sign apiserver "/CN=kube-apiserver" \
		"basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:10.96.0.1,IP:10.77.$CLUSTER_NET.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
	sign admin "/O=system:masters/CN=hastack-admin" "$client"
	sign controller-manager "/CN=system:kube-controller-manager" "$client"
	sign scheduler "/CN=system:kube-scheduler" "$client"
	sign kwok "/O=system:masters/CN=kwok" "$client"
	# the API server's clients of the kubelets and of aggregated APIs (metrics-server)
	sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client"
	sign front-proxy-client "/CN=front-proxy-client" "$client"
	# service-account token signing key pair
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
	openssl pkey -in sa.key -pubout -out sa.pub 2>/dev/null
)

write_kubeconfig() { # file, user (cert/key basename in pki)
	cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: hastack-local
  cluster:
    server: $SERVER
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 "$pki/$2.crt")
    client-key-data: $(base64 -w0 "$pki/$2.key")
contexts:
- name: hastack-local
  context: {cluster: hastack-local, user: $2}
current-context: hastack-local
EOF
	chmod 600 "$1"
}
write_kubeconfig "$KUBECONFIG_FILE" admin
write_kubeconfig "$RUN/controller-manager.kubeconfig" controller-manager
write_kubeconfig "$RUN/scheduler.kubeconfig" scheduler
write_kubeconfig "$RUN/kwok.kubeconfig" kwok

# ---------------------------------------------------------------- processes
start() { # component, args...
	local name=$1; shift
	# 8>&-: the daemons must not inherit (and so hold) the up/down lock
	setsid "$CLUSTER_BIN/$name" "$@" >"$RUN/logs/$name.log" 2>&1 </dev/null 8>&- &
	echo $! > "$RUN/pids/$name"
}
wait_for() { # description, timeout seconds, component whose death aborts, command...
	local what=$1 timeout=$2 comp=$3 deadline; shift 3
	deadline=$(($(date +%s) + timeout))
	until "$@" >/dev/null 2>&1; do
		if [[ -n $comp ]] && ! alive "$comp"; then
			log "$comp exited; last lines of $RUN/logs/$comp.log:"
			tail -n 25 "$RUN/logs/$comp.log" >&2
			die "$comp failed to start"
		fi
		if (($(date +%s) > deadline)); then
			log "timed out after ${timeout}s waiting for $what"
			[[ -n $comp ]] && tail -n 25 "$RUN/logs/$comp.log" >&2
			die "timed out waiting for $what"
		fi
		sleep 0.2
	done
}

start etcd --name=hastack --data-dir="$RUN/etcd" \
	--listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
	--listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
	--initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
	--initial-cluster="hastack=http://127.0.0.1:$ETCD_PEER_PORT" \
	--unsafe-no-fsync=true --log-level=warn --quota-backend-bytes=$((2 * 1024 * 1024 * 1024))
wait_for "etcd health" 30 etcd curl -fsS "http://127.0.0.1:$ETCD_PORT/health"
t_etcd=$(date +%s.%N)

if [[ $HASTACK_NODES == real ]]; then
	# pods reach the API server at the underlay bridge (nodes.sh forwards it to loopback); kubelets are
	# authorised by the Node authorizer; aggregated APIs (metrics-server) are dialled at their pods
	API_NODES_FLAGS=(--advertise-address="10.77.$CLUSTER_NET.1" --authorization-mode=Node,RBAC
		--enable-admission-plugins=NodeRestriction --kubelet-preferred-address-types=InternalIP
		--kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" --kubelet-client-key="$pki/apiserver-kubelet-client.key"
		--enable-aggregator-routing=true --requestheader-client-ca-file="$pki/ca.crt"
		--requestheader-allowed-names=front-proxy-client --requestheader-username-headers=X-Remote-User
		--requestheader-group-headers=X-Remote-Group --requestheader-extra-headers-prefix=X-Remote-Extra-
		--proxy-client-cert-file="$pki/front-proxy-client.crt" --proxy-client-key-file="$pki/front-proxy-client.key")
else
	API_NODES_FLAGS=(--advertise-address=127.0.0.1 --endpoint-reconciler-type=none --authorization-mode=RBAC)
fi
start kube-apiserver --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
	--bind-address=127.0.0.1 --secure-port="$API_PORT" "${API_NODES_FLAGS[@]}" \
	--tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
	--client-ca-file="$pki/ca.crt" --anonymous-auth=false \
	--service-account-issuer=https://kubernetes.default.svc.cluster.local \
	--service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
	--service-cluster-ip-range=10.96.0.0/16 --allow-privileged=true \
	--encryption-provider-config="$pki/encryption.yaml" \
	--profiling=false --v=1
wait_for "kube-apiserver /readyz" 90 kube-apiserver kc get --raw=/readyz
t_api=$(date +%s.%N)

start kube-controller-manager --kubeconfig="$RUN/controller-manager.kubeconfig" \
	--authentication-kubeconfig="$RUN/controller-manager.kubeconfig" \
	--authorization-kubeconfig="$RUN/controller-manager.kubeconfig" \
	--leader-elect=false --secure-port=0 --use-service-account-credentials=true \
	--service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
	--cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
	--profiling=false --v=1
start kube-scheduler --kubeconfig="$RUN/scheduler.kubeconfig" \
	--authentication-kubeconfig="$RUN/scheduler.kubeconfig" \
	--authorization-kubeconfig="$RUN/scheduler.kubeconfig" \
	--leader-elect=false --secure-port=0 --profiling=false --v=1
# kwok's Stage configs (node initialise + lease heartbeat, pod ready/complete/delete) are the
# ones kwokctl uses by default; build.sh copies them from the kwok module next to the binary.
[[ $HASTACK_NODES == real ]] || start kwok --kubeconfig="$RUN/kwok.kubeconfig" --config="$CLUSTER_BIN/../share/kwok-stages.yaml" \
	--manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
	--node-lease-duration-seconds=40 --cidr=10.244.0.1/16 --node-ip=10.200.0.1 --node-port=0

# ---------------------------------------------------------------- nodes, CRDs
nodes=""
for z in a b c; do
	nodes+="---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$z
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: \"0\"
  labels:
    type: kwok
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: kwok-node-$z
    topology.kubernetes.io/zone: zone-$z
    topology.kubernetes.io/region: local
status:
  allocatable: $NODE_RESOURCES
  capacity: $NODE_RESOURCES
"
done
wait_for "RBAC bootstrap (admin can create nodes)" 60 kube-apiserver kc auth can-i create nodes
if [[ $HASTACK_NODES == real ]]; then
	node_selector=hastack.dev/node=real node_component=""
	bash "$here/nodes.sh" up || die "the real nodes did not start (logs in $RUN/logs)"
else
	node_selector=type=kwok node_component=kwok
	kc apply -f - >/dev/null <<<"$nodes" || die "could not create the nodes"
fi
apply_crds

nodes_ready() {
	[[ $(kc get nodes -l "$node_selector" -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$') == 3 ]]
}
wait_for "3 nodes Ready" "$READY_TIMEOUT" "$node_component" nodes_ready
if [[ $HASTACK_NODES == real ]]; then bash "$here/nodes.sh" addons || die "the add-ons did not start"; fi
t_nodes=$(date +%s.%N)
wait_for "ServiceAccount default/default" "$READY_TIMEOUT" kube-controller-manager kc -n default get serviceaccount default
await_crds
all_alive || die "a component exited during start-up: see $RUN/logs"
started_ok=1
[[ -f $RUN/ready ]] || date -u +%Y-%m-%dT%H:%M:%SZ > "$RUN/ready"

t_end=$(date +%s.%N)
rss=$(for c in "${COMPONENTS[@]}"; do ps -o rss= -p "$(<"$RUN/pids/$c")"; done | awk '{s+=$1} END {printf "%.0f", s/1024}')
printf 'cluster: up at %s in %.1fs (%.1fs after the build check); RSS %s MiB; KUBECONFIG=%s\n' \
	"$SERVER" "$(awk "BEGIN{print $t_end - $t_start}")" "$(awk "BEGIN{print $t_end - $t_built}")" "$rss" "$KUBECONFIG_FILE" >&2
secs() { awk "BEGIN{printf \"%.1f\", $2 - $1}"; }
log "phases: etcd healthy $(secs "$t_built" "$t_etcd")s, apiserver ready +$(secs "$t_etcd" "$t_api")s," \
	"nodes Ready +$(secs "$t_api" "$t_nodes")s, default SA + CRDs Established +$(secs "$t_nodes" "$t_end")s"
echo "  source $here/env.sh   # exports KUBECONFIG and puts kubectl on PATH" >&2
