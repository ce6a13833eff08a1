# shellcheck shell=bash disable=SC2034  # variables used by the files that source this one
# Pinned versions of hastack's Pulumi toolchain and the cache location.
# Sourced by toolchain/build.sh and toolchain/env.sh (bash); defines variables and
# one function, changes no shell option.

# Pulumi CLI (github.com/pulumi/pulumi/pkg/v3) and the sdk/v3 our language host uses.
HASTACK_PULUMI_VERSION=3.274.1
# Version our own language host reports (see toolchain/pulumi/cmd/pulumi-language-python).
HASTACK_PYTHON_HOST_VERSION=3.274.1-hastack.1
# pulumi-kubernetes provider: the Go module proxy serves the v4.25.0 tag only as
# this pseudo-version of github.com/pulumi/pulumi-kubernetes/provider/v4.
HASTACK_K8S_PROVIDER_VERSION=4.25.0
HASTACK_K8S_PROVIDER_MODULE_VERSION=v4.0.0-20260115033456-f47bc2d6f199
# Bridged providers the program's Python SDK pins ask for (not buildable here:
# the proxy serves neither provider module, see toolchain/README.md).
HASTACK_RANDOM_PROVIDER_VERSION=4.21.4
HASTACK_TLS_PROVIDER_VERSION=5.6.2
# Bump when build.sh changes how a binary is built (flags, layout).
HASTACK_TOOLCHAIN_RECIPE=1

HASTACK_CACHE="${HASTACK_CACHE:-$HOME/.cache/hastack}"

# hastack_toolchain_key DIR: prints the version key of the toolchain built from the
# wrapper modules under DIR (the toolchain/ folder): pinned versions, the Go version
# and a digest of the wrapper modules' requirements (go.mod less its comments, go.sum),
# so that a change of any dependency builds anew. (The language host's own source is
# tracked by a stamp file in the bin folder: changing it rebuilds only the host.)
hastack_toolchain_key() {
    local dir=$1 gover digest
    gover=$(go env GOVERSION 2>/dev/null || echo nogo)
    digest=$( (cd "$dir" && grep -hv '^[[:space:]]*//' pulumi/go.mod kubernetes/go.mod \
        && cat pulumi/go.sum kubernetes/go.sum) | sha256sum | cut -c1-10)
    printf 'pulumi-%s_k8s-%s_%s_r%s_%s\n' "$HASTACK_PULUMI_VERSION" "$HASTACK_K8S_PROVIDER_VERSION" \
        "$gover" "$HASTACK_TOOLCHAIN_RECIPE" "$digest"
}
