#!/usr/bin/env bash
# Real nodes for the local control plane (HASTACK_NODES=real): each node is a network namespace of its
# own with its own containerd, kubelet (cgroup root of its own), kube-proxy and kube-router (NetworkPolicy
# enforcement), so pods really run and requests really flow. Called by up.sh and down.sh with the run
# lock held; not meant to be run alone.
#
#   nodes.sh check   exit 0 when this machine can run real nodes, else 3 with the reason (HASTACK_NODES=auto)
#   nodes.sh up      after the API server is ready: network, nodes, add-ons (CoreDNS, metrics-server)
#   nodes.sh down    stops everything it started and restores what it changed on the machine
#
# The network (every address lives in a namespace of ours; the host only gets one veth end and one route):
#   hsk-<n>-u        underlay: bridge br0 10.77.<n>.1/24, ip_forward; routes each node's pod /24 to it
#   hsk-<n>-{a,b,c}  nodes: eth0 10.77.<n>.1{1,2,3}, pods 10.<n>.{1,2,3}.0/24 on cni0 (CNI bridge)
#   host             hsk<n> 10.77.<n>.254/24, route 10.<n>.0.0/16 via 10.77.<n>.1: the API server (on host
#                    loopback, reached by pods through a forwarder at 10.77.<n>.1) reaches kubelets and pods
# Machine-wide state it changes and restores: the host veth and route, the sysctls the kubelet sets
# (saved once for every control plane with real nodes, under a machine lock: MACHINE_STATE below),
# mounts and cgroups under the nodes' own roots.
set -euo pipefail
trap 'echo "nodes: ERROR: line $LINENO: $BASH_COMMAND" >&2' ERR
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"
RUN=$CLUSTER_RUN
N=$CLUSTER_NET
UNDERLAY=hsk-$N-u
HOST_IF=hsk$N
ZONES=(a b c)
IMAGES_DIR=$NODES_IMAGES
SAVED_SYSCTLS="kernel.panic kernel.panic_on_oops vm.overcommit_memory"

log() { echo "nodes: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
node_ip() { echo "10.77.$N.1$(( $1 + 1 ))"; }   # zone index -> node address
node_ns() { echo "hsk-$N-${ZONES[$1]}"; }
pod_cidr() { echo "10.$N.$(( $1 + 1 )).0/24"; }
kc() { "$CLUSTER_BIN/kubectl" --kubeconfig "$RUN/kubeconfig" "$@"; }
# nsenter, not `ip netns exec`: that one remounts /sys, hiding the cgroup mounts the kubelet needs
in_ns() { local ns=$1; shift; nsenter --net="/var/run/netns/$ns" "$@"; }

start_bg() { # name ns cmd...: a daemon of a node, its pid recorded; 8>&- keeps the run lock ours
	local name=$1 ns=$2; shift 2
	if [[ $ns == host ]]; then set -- "$@"; else set -- nsenter --net="/var/run/netns/$ns" "$@"; fi
	setsid "$@" >"$RUN/logs/$name.log" 2>&1 </dev/null 8>&- &
	echo $! >"$RUN/pids/$name"
}

# ---------------------------------------------------------------- up
network_up() {
	if [[ -e /var/run/netns/$UNDERLAY ]]; then # another control plane's (another cache) or a leftover
		die "network namespace $UNDERLAY exists: another control plane with real nodes uses 10.77.$N.0/24" \
			"($(cat "$MACHINE_STATE/holders/$N" 2>/dev/null || echo 'no holder recorded: a leftover')); stop it" \
			"with its cluster/down.sh, or start this one under another HASTACK_CLUSTER"
	fi
	ip netns add "$UNDERLAY"
	in_ns "$UNDERLAY" ip link set lo up
	in_ns "$UNDERLAY" ip link add br0 type bridge
	in_ns "$UNDERLAY" ip addr add "10.77.$N.1/24" dev br0
	in_ns "$UNDERLAY" ip link set br0 up
	in_ns "$UNDERLAY" sysctl -qw net.ipv4.ip_forward=1
	ip link add "$HOST_IF" type veth peer name host netns "$UNDERLAY"
	in_ns "$UNDERLAY" ip link set host master br0 up
	ip addr add "10.77.$N.254/24" dev "$HOST_IF"
	ip link set "$HOST_IF" up
	ip route add "10.$N.0.0/16" via "10.77.$N.1" dev "$HOST_IF"
	local i ns
	for i in "${!ZONES[@]}"; do
		ns=$(node_ns "$i")
		ip netns add "$ns"
		in_ns "$ns" ip link set lo up
		ip link add "n${ZONES[$i]}" netns "$UNDERLAY" type veth peer name eth0 netns "$ns"
		in_ns "$UNDERLAY" ip link set "n${ZONES[$i]}" master br0 up
		in_ns "$ns" ip addr add "$(node_ip "$i")/24" dev eth0
		in_ns "$ns" ip link set eth0 up
		in_ns "$ns" ip route add default via "10.77.$N.1"
		in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
		in_ns "$UNDERLAY" ip route add "$(pod_cidr "$i")" via "$(node_ip "$i")"
	done
}

# The sysctls the kubelet sets are machine-wide and several control planes may run real nodes at once:
# the first to start saves the originals, each registers as a holder, the last to stop restores them,
# all under one machine lock. A holder whose underlay namespace is gone (killed, machine rebooted) is
# dropped before counting.
MACHINE_STATE=${HASTACK_MACHINE_STATE:-/run/hastack-nodes}
machine_locked() { # cmd...: runs cmd holding the machine lock
	mkdir -p "$MACHINE_STATE/holders"
	(
		flock 7
		"$@"
	) 7>"$MACHINE_STATE.lock"
}
prune_holders() {
	local holder
	for holder in "$MACHINE_STATE"/holders/*; do
		[[ -e $holder ]] || continue
		[[ -e /var/run/netns/hsk-${holder##*/}-u ]] || rm -f "$holder"
	done
}
hold_sysctls() {
	prune_holders
	if [[ ! -f $MACHINE_STATE/sysctls ]]; then
		local key
		for key in $SAVED_SYSCTLS; do echo "$key=$(sysctl -n "$key")"; done >"$MACHINE_STATE/sysctls.new"
		mv "$MACHINE_STATE/sysctls.new" "$MACHINE_STATE/sysctls"
	fi
	echo "$RUN" >"$MACHINE_STATE/holders/$N"
}
release_sysctls() {
	rm -f "$MACHINE_STATE/holders/$N"
	prune_holders
	if [[ -f $MACHINE_STATE/sysctls ]] && [[ -z $(ls -A "$MACHINE_STATE/holders") ]]; then
		while IFS== read -r key value; do sysctl -qw "$key=$value" || true; done <"$MACHINE_STATE/sysctls"
		rm -f "$MACHINE_STATE/sysctls"
	fi
}

node_pki() { # zone index: client certificates of the node's kubelet, kube-proxy and kube-router
	local i=$1 name="node-${ZONES[$1]}" dir
	dir="$RUN/nodes/$name/pki"
	mkdir -p "$dir"
	(
		cd "$RUN/pki"
		client="basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth"
		for spec in "kubelet:/O=system:nodes/CN=system:node:$name" "kube-proxy:/CN=system:kube-proxy" \
			"kube-router:/CN=hastack:kube-router"; do
			local file=${spec%%:*} subject=${spec#*:}
			openssl ecparam -name prime256v1 -genkey -noout -out "$dir/$file.key" 2>/dev/null
			openssl req -new -key "$dir/$file.key" -subj "$subject" -out "$dir/$file.csr" 2>/dev/null
			printf '%b\n' "$client" >"$dir/$file.ext"
			openssl x509 -req -in "$dir/$file.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 3650 \
				-extfile "$dir/$file.ext" -out "$dir/$file.crt" 2>/dev/null
			rm -f "$dir/$file.csr" "$dir/$file.ext"
		done
	)
	local who
	for who in kubelet kube-proxy kube-router; do
		cat >"$RUN/nodes/$name/$who.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://10.77.$N.1:$API_PORT", certificate-authority: $RUN/pki/ca.crt}
users:
- name: $who
  user: {client-certificate: $dir/$who.crt, client-key: $dir/$who.key}
contexts:
- name: local
  context: {cluster: local, user: $who}
current-context: local
EOF
	done
}

containerd_config() { # zone index
	local name="node-${ZONES[$1]}" dir
	dir="$RUN/nodes/$name"
	mkdir -p "$dir/containerd" "$dir/cni/net.d" "$dir/cni/ipam"
	cat >"$dir/containerd/config.toml" <<EOF
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$dir/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "hastack.local/pause:3.10"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
EOF
	cat >"$dir/cni/net.d/10-hastack.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "hastack", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$(pod_cidr "$1")"}]], "routes": [{"dst": "0.0.0.0/0"}],
           "dataDir": "$dir/cni/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}
]}
EOF
}

kubelet_config() { # zone index
	local i=$1 name="node-${ZONES[$1]}" dir
	dir="$RUN/nodes/$name"
	printf 'nameserver 10.96.0.10\n' >"$dir/resolv.conf"
	cat >"$dir/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $RUN/pki/ca.crt}
authorization: {mode: Webhook}
address: $(node_ip "$i")
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
cgroupDriver: cgroupfs
cgroupRoot: /hastack-$N-${ZONES[$i]}
cgroupsPerQOS: true
failSwapOn: false
failCgroupV1: false
clusterDNS: [10.96.0.10]
clusterDomain: cluster.local
resolvConf: $dir/resolv.conf
containerRuntimeEndpoint: unix://$dir/containerd.sock
podLogsDir: $dir/logs
serializeImagePulls: false
protectKernelDefaults: false
evictionHard: {memory.available: 50Mi, nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
maxPods: 60
EOF
	cat >"$dir/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $dir/kube-proxy.kubeconfig}
hostnameOverride: $name
mode: iptables
clusterCIDR: 10.$N.0.0/16
bindAddress: $(node_ip "$i")
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

register_nodes() { # Node objects with their pod CIDR and zone before the kubelets start
	local i manifest=""
	for i in "${!ZONES[@]}"; do
		manifest+="---
apiVersion: v1
kind: Node
metadata:
  name: node-${ZONES[$i]}
  labels:
    kubernetes.io/hostname: node-${ZONES[$i]}
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/zone: zone-${ZONES[$i]}
    topology.kubernetes.io/region: local
    hastack.dev/node: real
spec:
  podCIDR: $(pod_cidr "$i")
  podCIDRs: [\"$(pod_cidr "$i")\"]
"
	done
	kc apply -f - >/dev/null <<<"$manifest"
	kc apply -f - >/dev/null <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "hastack:kube-router"}
rules:
- apiGroups: [""]
  resources: [namespaces, pods, services, nodes, endpoints]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "hastack:kube-router"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "hastack:kube-router"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "hastack:kube-router"}]
EOF
}

import_images() { # zone index: each image under its tag and its digest (repo@sha256:..., as stacks pin it)
	local name="node-${ZONES[$1]}" image ref
	for image in "$IMAGES_DIR"/*.tar; do
		ref=$(<"${image%.tar}.ref")
		ctr --address "$RUN/nodes/$name/containerd.sock" -n k8s.io images import --no-unpack=false "$image" >/dev/null ||
			die "could not import $image into $name's containerd"
		ctr --address "$RUN/nodes/$name/containerd.sock" -n k8s.io images tag --force "$ref" \
			"${ref%:*}@$(<"${image%.tar}.digest")" >/dev/null || die "could not tag $ref by its digest on $name"
	done
}

cgroup_root() { # zone index: the kubelet's --cgroup-root, in every v1 hierarchy (it checks them all)
	local h dir
	for h in /sys/fs/cgroup/*/; do
		[[ -f $h/cgroup.procs && ${h%/} != */unified ]] || continue
		dir="$h/hastack-$N-${ZONES[$1]}"
		mkdir -p "$dir"
		if [[ -f $h/cpuset.cpus ]]; then # a cpuset takes no task until it has cpus and mems
			cat "$h/cpuset.cpus" >"$dir/cpuset.cpus"
			cat "$h/cpuset.mems" >"$dir/cpuset.mems"
		fi
	done
}

nodes_up() {
	command -v containerd >/dev/null && command -v runc >/dev/null && [[ -x /usr/lib/cni/bridge ]] ||
		die "real nodes need containerd, runc and the CNI plugins (apt-get install containerd runc containernetworking-plugins iptables ipset)"
	# shellcheck disable=SC1091
	. "$RUN/ports"
	network_up
	machine_locked hold_sysctls
	# pods reach the API server (on host loopback) at the underlay bridge: the kubernetes Service's endpoint
	start_bg api-forward host python3 "$here/netns_forward.py" "$UNDERLAY" "10.77.$N.1:$API_PORT" host "127.0.0.1:$API_PORT"
	register_nodes
	local i name ns
	for i in "${!ZONES[@]}"; do
		name="node-${ZONES[$i]}" ns=$(node_ns "$i")
		mkdir -p "$RUN/nodes/$name"/{kubelet,logs}
		node_pki "$i"
		containerd_config "$i"
		kubelet_config "$i"
		start_bg "containerd-$name" "$ns" containerd --config "$RUN/nodes/$name/containerd/config.toml"
	done
	for i in "${!ZONES[@]}"; do
		name="node-${ZONES[$i]}" ns=$(node_ns "$i")
		local tries=0
		until ctr --address "$RUN/nodes/$name/containerd.sock" version >/dev/null 2>&1; do
			((++tries < 100)) || die "containerd of $name did not start: $(tail -5 "$RUN/logs/containerd-$name.log")"
			sleep 0.1
		done
		import_images "$i"
		cgroup_root "$i"
		start_bg "kubelet-$name" "$ns" "$NODES_BIN/kubelet" --config="$RUN/nodes/$name/kubelet.yaml" \
			--kubeconfig="$RUN/nodes/$name/kubelet.kubeconfig" --root-dir="$RUN/nodes/$name/kubelet" \
			--cert-dir="$RUN/nodes/$name/kubelet/pki" --hostname-override="$name" --node-ip="$(node_ip "$i")" --v=1
		start_bg "kube-proxy-$name" "$ns" "$NODES_BIN/kube-proxy" --config="$RUN/nodes/$name/kube-proxy.yaml" --v=1
	done
	# the ingress on loopback: 127.0.0.1:<port> on the host to node-a's NodePorts (Traefik's web, websecure)
	start_bg ingress-http-forward host python3 "$here/netns_forward.py" host "127.0.0.1:$INGRESS_HTTP_PORT" \
		"$UNDERLAY" "$(node_ip 0):30080"
	start_bg ingress-https-forward host python3 "$here/netns_forward.py" host "127.0.0.1:$INGRESS_HTTPS_PORT" \
		"$UNDERLAY" "$(node_ip 0):30443"
	# kube-router reads the node's address from its status: it starts once the kubelet has reported it
	for i in "${!ZONES[@]}"; do
		name="node-${ZONES[$i]}" ns=$(node_ns "$i")
		local tries=0
		until [[ -n $(kc get node "$name" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}' 2>/dev/null) ]]; do
			((++tries < 300)) || die "the kubelet of $name never reported its address: $(tail -5 "$RUN/logs/kubelet-$name.log")"
			sleep 0.2
		done
		start_bg "kube-router-$name" "$ns" "$NODES_BIN/kube-router" --run-firewall=true --run-router=false \
			--run-service-proxy=false --kubeconfig="$RUN/nodes/$name/kube-router.kubeconfig" \
			--hostname-override="$name" --metrics-port=0 --health-port=0 --v=1
	done
}

gateway_tls() { # the shared Gateway's certificate: self-signed for *.gateway.local, made once per control plane
	local dir=$RUN/pki/gateway
	if [[ ! -f $dir/tls.crt ]]; then
		mkdir -p "$dir"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -subj "/CN=*.gateway.local" \
			-addext "subjectAltName=DNS:*.gateway.local" -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null
	fi
	kc create namespace gateway-system --dry-run=client -o yaml | kc apply -f - >/dev/null
	kc -n gateway-system create secret tls public-tls --cert="$dir/tls.crt" --key="$dir/tls.key" \
		--dry-run=client -o yaml | kc apply -f - >/dev/null
}

addons_up() { # after the nodes are Ready: DNS, metrics, the ingress controller, each rolled out
	local file
	# Traefik's Gateway API release, over the control plane's own (server-side: the larger CRDs exceed
	# client-side apply's annotation)
	kc apply --server-side --force-conflicts --field-manager=hastack-nodes -f "$NODES_GATEWAY_CRDS" >/dev/null ||
		die "could not install the Gateway API $TRAEFIK_GATEWAY_API_VERSION CRDs from $NODES_GATEWAY_CRDS"
	kc wait --for=condition=Established --timeout=60s -f "$NODES_GATEWAY_CRDS" >/dev/null ||
		die "the Gateway API $TRAEFIK_GATEWAY_API_VERSION CRDs are not Established"
	kc apply --server-side --force-conflicts --field-manager=hastack-nodes -f "$NODES_TRAEFIK_CRDS" >/dev/null ||
		die "could not install Traefik's CRDs from $NODES_TRAEFIK_CRDS"
	kc wait --for=condition=Established --timeout=60s -f "$NODES_TRAEFIK_CRDS" >/dev/null ||
		die "Traefik's CRDs are not Established"
	gateway_tls
	for file in coredns metrics-server traefik; do
		sed "s/\${NODE_A_IP}/$(node_ip 0)/g" "$here/addons/$file.yaml" | kc apply -f - >/dev/null ||
			die "could not apply the $file add-on"
	done
	kc -n kube-system rollout status deployment/coredns --timeout=120s >/dev/null || die "CoreDNS did not become ready"
	kc -n kube-system rollout status deployment/metrics-server --timeout=120s >/dev/null || die "metrics-server did not become ready"
	kc -n traefik rollout status daemonset/traefik --timeout=120s >/dev/null || die "Traefik did not become ready"
}

# ---------------------------------------------------------------- down
kill_recorded() { # pid-file names...
	local name pid
	for name in "$@"; do
		[[ -f $RUN/pids/$name ]] || continue
		pid=$(<"$RUN/pids/$name")
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	done
	sleep 1
	for name in "$@"; do
		[[ -f $RUN/pids/$name ]] || continue
		pid=$(<"$RUN/pids/$name")
		kill -KILL -- "-$pid" 2>/dev/null || true
		rm -f "$RUN/pids/$name"
	done
}

nodes_down() { # best effort to the end: a step that fails must not leave the rest behind
	set +e
	local i name ns cg pid
	for i in "${!ZONES[@]}"; do
		name="node-${ZONES[$i]}"
		kill_recorded "kube-router-$name" "kube-proxy-$name" "kubelet-$name"
	done
	# every process left in a node's cgroups (containers, shims): killed before their cgroups go
	for i in "${!ZONES[@]}"; do
		for cg in /sys/fs/cgroup/*/"hastack-$N-${ZONES[$i]}"; do
			[[ -d $cg ]] || continue
			find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done
		done
	done
	for i in "${!ZONES[@]}"; do
		kill_recorded "containerd-node-${ZONES[$i]}"
	done
	# a shim re-parents itself out of the node cgroups; its command line is `-namespace k8s.io -id <id> -address ...`
	pkill -KILL -f "containerd-shim-runc-v2 -namespace k8s.io .*-address $RUN/nodes/" 2>/dev/null || true
	kill_recorded api-forward ingress-http-forward ingress-https-forward
	sleep 0.5
	for i in "${!ZONES[@]}"; do
		for cg in /sys/fs/cgroup/*/"hastack-$N-${ZONES[$i]}"; do
			[[ -d $cg ]] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	done
	# mounts under the nodes' folders (pod volumes, overlay snapshots, pinned netns), deepest first
	if [[ -d $RUN/nodes ]]; then
		awk -v root="$RUN/nodes/" 'index($2, root) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
			umount -l "$m" 2>/dev/null || true
		done
	fi
	for i in "${!ZONES[@]}"; do
		ns=$(node_ns "$i")
		ip netns delete "$ns" 2>/dev/null || true
	done
	ip netns delete "$UNDERLAY" 2>/dev/null || true
	ip link delete "$HOST_IF" 2>/dev/null || true
	machine_locked release_sysctls
}

can_run() { # why this machine cannot run real nodes, on stderr (exit 3), or nothing (exit 0)
	local h
	[[ $(uname -s) == Linux ]] || { log "not Linux"; exit 3; }
	[[ $(id -u) == 0 ]] || { log "not root: network namespaces, cgroups and mounts need root"; exit 3; }
	command -v ip >/dev/null && command -v nsenter >/dev/null || { log "no ip or nsenter (iproute2, util-linux)"; exit 3; }
	if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
		log "cgroup v2 only: the nodes' kubelets are set up for cgroup v1 hierarchies"
		exit 3
	fi
	for h in cpu memory pids cpuset; do
		[[ -d /sys/fs/cgroup/$h ]] || { log "no cgroup v1 '$h' hierarchy under /sys/fs/cgroup"; exit 3; }
	done
	# a throw-away namespace of this process alone: nothing is left on the machine, whatever happens
	unshare --net true 2>/dev/null || { log "cannot create a network namespace"; exit 3; }
	if ! command -v containerd >/dev/null && ! command -v apt-get >/dev/null; then
		log "no containerd and no apt-get to install it (cluster/packages.sh)"
		exit 3
	fi
	if [[ ! -x $NODES_BIN/kubelet ]] && ! command -v go >/dev/null; then
		log "no Go to build the kubelet and the add-ons (cluster/build-nodes.sh)"
		exit 3
	fi
}

case ${1:-} in
check) can_run ;;
up) nodes_up ;;
addons) addons_up ;;
down) nodes_down ;;
*) echo "usage: $0 check|up|addons|down" >&2; exit 2 ;;
esac
