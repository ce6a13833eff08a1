#!/usr/bin/env bash
# Copies the upstream CustomResourceDefinitions the local control plane installs out of the Go
# modules that publish them (through the Go module proxy, like every other piece of the control
# plane) into ${HASTACK_CACHE:-$HOME/.cache/hastack}/cluster/crds/<key>/, and reuses that
# directory while it is complete. Nothing third-party is committed: only this list.
#
#   gateway.networking.k8s.io  sigs.k8s.io/gateway-api@GATEWAY_API_VERSION, config/crd/standard/
#   gateway.envoyproxy.io      github.com/envoyproxy/gateway@ENVOY_GATEWAY_VERSION, charts/gateway-helm/crds/generated/
#   cert-manager.io            github.com/cert-manager/cert-manager@CERT_MANAGER_VERSION, deploy/crds/
#
# The real schemas (structural, with their CEL rules) let the API server refuse a custom resource
# the real controllers' CRDs would refuse. cluster/up.sh applies the directory (server-side).
# Prints the directory on stdout; exit 3 when Go is needed and absent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"
# shellcheck source=gomod.sh
. "$here/gomod.sh"

# module@version, directory in the module, files (the kinds hastack renders or refers to; Gateway
# API's standard channel whole, as one release bundle)
SOURCES=(
	"sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION config/crd/standard *.yaml"
	"github.com/envoyproxy/gateway@$ENVOY_GATEWAY_VERSION charts/gateway-helm/crds/generated gateway.envoyproxy.io_backendtrafficpolicies.yaml gateway.envoyproxy.io_clienttrafficpolicies.yaml"
	"github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION deploy/crds cert-manager.io_certificates.yaml cert-manager.io_issuers.yaml cert-manager.io_clusterissuers.yaml"
)

log() { echo "crds: $*" >&2; }

if [[ -f $CLUSTER_CRDS/.complete ]]; then
	log "reusing $CLUSTER_CRDS"
	echo "$CLUSTER_CRDS"
	exit 0
fi
command -v go >/dev/null || { log "no 'go' on PATH: cannot fetch the CRDs ($CRDS_KEY)"; exit 3; }

mkdir -p "$(dirname "$CLUSTER_CRDS")"
exec 7>"$CLUSTER_CRDS.lock"
flock -w 600 7 || { log "another crds.sh holds $CLUSTER_CRDS.lock"; exit 1; }
if [[ -f $CLUSTER_CRDS/.complete ]]; then log "reusing $CLUSTER_CRDS (fetched meanwhile)"; echo "$CLUSTER_CRDS"; exit 0; fi

tmp="$CLUSTER_CRDS.tmp"
rm -rf "$tmp" && mkdir -p "$tmp"
t0=$SECONDS
for source in "${SOURCES[@]}"; do
	read -ra parts <<<"$source" # read -a: no glob expansion of the patterns here
	module=${parts[0]} subdir=${parts[1]}
	dir=$(go_module_dir "$module") || { log "ERROR: cannot fetch $module (see above)"; exit 1; }
	n=0
	for pattern in "${parts[@]:2}"; do
		for file in "$dir/$subdir/"$pattern; do # unquoted: the glob is meant
			[[ -f $file ]] || { log "ERROR: $module has no $subdir/$pattern"; exit 1; }
			grep -q '^kind: CustomResourceDefinition$' "$file" || { log "ERROR: $module $subdir/${file##*/} is not a CRD"; exit 1; }
			cp "$file" "$tmp/"
			chmod 644 "$tmp/${file##*/}"
			printf '%s %s %s\n' "$module" "$subdir/${file##*/}" "$(sha256sum <"$file" | cut -d' ' -f1)" >>"$tmp/SOURCES"
			n=$((n + 1))
		done
	done
	log "$module: $n CRD files from $subdir/"
done
touch "$tmp/.complete"
rm -rf "$CLUSTER_CRDS"
mv "$tmp" "$CLUSTER_CRDS"
log "ready in $CLUSTER_CRDS ($((SECONDS - t0)) s)"
echo "$CLUSTER_CRDS"
