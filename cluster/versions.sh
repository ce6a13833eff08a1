# shellcheck shell=bash disable=SC2034
# Pinned versions of the local control plane (sourced by build.sh, up.sh, env.sh).
# Changing one of these changes the version key, so a new cache directory is built.
K8S_VERSION=v1.34.4          # k8s.io/kubernetes; staging modules are pinned to v0.${K8S_VERSION#v1.}
KWOK_VERSION=v0.8.0          # sigs.k8s.io/kwok (no replace directives: go install pkg@version)
# etcd comes from the same wrapper module as Kubernetes: go.etcd.io/etcd/server/v3 at the
# version k8s.io/kubernetes itself requires (see cluster/wrapper/go.mod).

# The upstream CRDs the control plane installs (cluster/crds.sh copies them out of these Go
# modules; no controller runs). Gateway API and Envoy Gateway are the versions of tests/data/crds, so
# the unit tier's schema check and the API server judge by the same schemas.
GATEWAY_API_VERSION=v1.4.1   # sigs.k8s.io/gateway-api, config/crd/standard/ (standard channel)
ENVOY_GATEWAY_VERSION=v1.5.0 # github.com/envoyproxy/gateway, charts/gateway-helm/crds/generated/
CERT_MANAGER_VERSION=v1.21.2 # github.com/cert-manager/cert-manager, deploy/crds/ (newest served)

HASTACK_CACHE=${HASTACK_CACHE:-$HOME/.cache/hastack}
CLUSTER_KEY="k8s-${K8S_VERSION}_kwok-${KWOK_VERSION}"
CLUSTER_BIN="$HASTACK_CACHE/cluster/$CLUSTER_KEY/bin"
# Several control planes can run at once, each under a name (HASTACK_CLUSTER, default "default": the
# one `make up` uses) with its own run directory, ports and lock; the binaries are shared.
HASTACK_CLUSTER=${HASTACK_CLUSTER:-default}
if [[ ! $HASTACK_CLUSTER =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]]; then
	echo "cluster: HASTACK_CLUSTER=$HASTACK_CLUSTER: a name is 1-31 of a-z, 0-9 and '-'" >&2
	return 2 2>/dev/null || exit 2
fi
if [[ $HASTACK_CLUSTER == default ]]; then CLUSTER_RUN="$HASTACK_CACHE/cluster/run"; else CLUSTER_RUN="$HASTACK_CACHE/cluster/run-$HASTACK_CLUSTER"; fi
CLUSTER_LOCK="$CLUSTER_RUN.lock"
CRDS_KEY="gateway-api-${GATEWAY_API_VERSION}_envoy-gateway-${ENVOY_GATEWAY_VERSION}_cert-manager-${CERT_MANAGER_VERSION}"
CLUSTER_CRDS="$HASTACK_CACHE/cluster/crds/$CRDS_KEY"

# Nodes: `kwok` (fake nodes, no container runs), `real` (containerd, kubelet, kube-proxy and
# kube-router in network namespaces of their own; cluster/nodes.sh), or `auto` (real where this machine
# can run them: `cluster/nodes.sh check`). A control plane keeps what it was started with (run/nodes-mode).
HASTACK_NODES=${HASTACK_NODES:-auto}
if [[ ! $HASTACK_NODES =~ ^(auto|kwok|real)$ ]]; then
	echo "cluster: HASTACK_NODES=$HASTACK_NODES: one of auto, kwok, real" >&2
	return 2 2>/dev/null || exit 2
fi
# The addresses of a control plane with real nodes, from its cache and name, kept in run/net once started:
# underlay 10.77.<n>.0/24 (bridge .1, host .254, nodes .11-.13), pods 10.<n>.0.0/16 (a /24 per node). Two
# that land on the same <n> cannot both start: nodes.sh refuses the second, naming the first.
CLUSTER_NET=$(cat "$CLUSTER_RUN/net" 2>/dev/null ||
	echo $(( $(printf '%s' "$HASTACK_CACHE/$HASTACK_CLUSTER" | cksum | cut -d' ' -f1) % 150 + 100 )))
# What real nodes run beside the kubelet (cluster/build-nodes.sh builds them; go.mod pins Traefik):
COREDNS_VERSION=v1.15.0          # github.com/coredns/coredns (go install)
METRICS_SERVER_VERSION=v0.8.0    # sigs.k8s.io/metrics-server (go install; v0.9.x is not an approved release)
KUBE_ROUTER_VERSION=v2.1.0       # github.com/cloudnativelabs/kube-router/v2, the only v2 the proxy serves
TRAEFIK_VERSION=v3.7.13          # github.com/traefik/traefik/v3 (wrapper module cluster/traefik)
# The Gateway API release Traefik v3.7 is built against (it watches v1 TLSRoutes): control planes with real
# nodes serve its standard CRDs, upgraded in place over GATEWAY_API_VERSION's; kwok ones keep the latter.
TRAEFIK_GATEWAY_API_VERSION=v1.6.1
NODES_KEY="k8s-${K8S_VERSION}_coredns-${COREDNS_VERSION}_ms-${METRICS_SERVER_VERSION}_kr-${KUBE_ROUTER_VERSION}_traefik-${TRAEFIK_VERSION}"
NODES_BIN="$HASTACK_CACHE/cluster/nodes-$NODES_KEY/bin"
NODES_IMAGES="$HASTACK_CACHE/cluster/nodes-$NODES_KEY/images"
NODES_GATEWAY_CRDS="$HASTACK_CACHE/cluster/nodes-$NODES_KEY/gateway-api-$TRAEFIK_GATEWAY_API_VERSION"
# Traefik's own CRDs (IngressRoute, Middleware, ...), copied out of its module for `kind: IngressRoute`
NODES_TRAEFIK_CRDS="$HASTACK_CACHE/cluster/nodes-$NODES_KEY/traefik-crds-$TRAEFIK_VERSION.yaml"
