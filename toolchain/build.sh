#!/usr/bin/env bash
# Builds hastack's Pulumi toolchain from Go modules, with pinned versions, into a
# cache outside the repo:
#
#   ${HASTACK_CACHE:-$HOME/.cache/hastack}/toolchain/<version-key>/bin
#       pulumi                          the Pulumi CLI (wrapper module toolchain/pulumi)
#       pulumi-language-python          hastack's Python language host (same module)
#       pulumi-language-python-exec     the program runner script shipped in sdk/v3
#       pulumi-language-yaml            the Pulumi YAML language host (wrapper toolchain/yaml)
#       pulumi-resource-pulumi-python   sdk/v3's launcher for Python dynamic providers
#       pulumi-resource-kubernetes      the kubernetes provider (wrapper toolchain/kubernetes)
#   ${HASTACK_CACHE:-$HOME/.cache/hastack}/home   PULUMI_HOME; its plugin cache gets the
#                                                  kubernetes provider (see README.md)
#
# A piece already present is reused, so a second run is a fast no-op. The random and
# tls providers cannot be built here (the Go module proxy does not serve them): the
# script says so and goes on. It exits non-zero if the CLI, a language host (Python,
# YAML) or the kubernetes provider cannot be built.
#
# Usage: bash toolchain/build.sh      then: source toolchain/env.sh
# Env:   HASTACK_CACHE (cache root), HASTACK_GO_PARALLEL (go build -p, default 2),
#        HASTACK_RETRY_OPTIONAL=1 (probe the random/tls modules again).
set -Eeuo pipefail

TC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$TC_DIR")
# shellcheck source=toolchain/versions.sh
source "$TC_DIR/versions.sh"

log() { printf '[toolchain] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
CURRENT="setup"
trap '(( BASH_SUBSHELL > 0 )) || log "ERROR: $CURRENT failed (build.sh line $LINENO); see the output above"' ERR

command -v go >/dev/null 2>&1 || die "go is not installed (need Go >= 1.26.6; see toolchain/README.md)"

# Reproducible, checksum-verified builds from our go.mod/go.sum; -buildvcs=false since
# the wrapper modules live inside this git repo.
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0   # static binaries, as Pulumi releases them; part of the recipe
GO_P="${HASTACK_GO_PARALLEL:-2}"

KEY=$(hastack_toolchain_key "$TC_DIR")
ROOT="$HASTACK_CACHE/toolchain/$KEY"
BIN="$ROOT/bin"
export PULUMI_HOME="$HASTACK_CACHE/home"
mkdir -p "$BIN" "$PULUMI_HOME"

# One build at a time per cache (tests may start this concurrently).
exec 9>"$HASTACK_CACHE/toolchain/.lock"
if command -v flock >/dev/null 2>&1; then
    flock 9
fi

log "version key: $KEY"
log "bin:         $BIN"

# Five steps; each prints one line when it starts and ends (and one a minute while it runs); the
# go commands' own output goes to the log, whose tail is shown when a step fails.
# shellcheck source=toolchain/progress.sh
source "$TC_DIR/progress.sh"
mkdir -p "$HASTACK_CACHE/logs"
progress_init toolchain 5 "$HASTACK_CACHE/logs/toolchain-build.log"
step() { # NAME CMD...
    CURRENT="building $1"
    progress_step "$@"
}

size_of() { du -h "$1" | cut -f1; }

# ---------------------------------------------------------------- Pulumi CLI
build_pulumi() {
    (cd "$TC_DIR/pulumi" && go build -p "$GO_P" -trimpath -tags osusergo,grpcnotrace \
        -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$HASTACK_PULUMI_VERSION" \
        -o "$BIN/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
    "$BIN/pulumi.tmp" version >/dev/null
    mv -f "$BIN/pulumi.tmp" "$BIN/pulumi"
}
if [[ -x "$BIN/pulumi" ]]; then
    progress_reuse "pulumi v$HASTACK_PULUMI_VERSION" "present ($(size_of "$BIN/pulumi")), reused"
else
    step "pulumi v$HASTACK_PULUMI_VERSION" build_pulumi
    log "pulumi: $("$BIN/pulumi" version), $(size_of "$BIN/pulumi")"
fi

# ---------------------------------------------------------------- Python language host
build_python_host() {
    local sdkdir
    (cd "$TC_DIR/pulumi" && go build -p "$GO_P" -trimpath \
        -ldflags "-s -w -X main.version=$HASTACK_PYTHON_HOST_VERSION" \
        -o "$BIN/pulumi-language-python.tmp" ./cmd/pulumi-language-python)
    # The program runner script ships in the sdk/v3 module (not in the PyPI wheel). `go list -m`
    # answers only for a module already in the module cache: download it first.
    (cd "$TC_DIR/pulumi" && go mod download github.com/pulumi/pulumi/sdk/v3)
    sdkdir=$(cd "$TC_DIR/pulumi" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
    [[ -n "$sdkdir" && -f "$sdkdir/python/cmd/pulumi-language-python-exec" ]] \
        || die "pulumi-language-python-exec not found in sdk/v3 ($sdkdir)"
    install -m 0755 "$sdkdir/python/cmd/pulumi-language-python-exec" "$BIN/pulumi-language-python-exec"
    # Provider plugin for Python dynamic providers (pulumi.dynamic), bundled beside the CLI.
    install -m 0755 "$sdkdir/python/dist/pulumi-resource-pulumi-python" "$BIN/pulumi-resource-pulumi-python"
    mv -f "$BIN/pulumi-language-python.tmp" "$BIN/pulumi-language-python"
    echo "$HOST_STAMP" >"$BIN/.pulumi-language-python.stamp"
}
HOST_STAMP=$( (cat "$TC_DIR/pulumi/cmd/pulumi-language-python/"*.go; echo "$HASTACK_PYTHON_HOST_VERSION") \
    | sha256sum | cut -c1-16)
if [[ -x "$BIN/pulumi-language-python" && -x "$BIN/pulumi-language-python-exec" \
    && -x "$BIN/pulumi-resource-pulumi-python" \
    && "$(cat "$BIN/.pulumi-language-python.stamp" 2>/dev/null)" == "$HOST_STAMP" ]]; then
    progress_reuse "pulumi-language-python $HASTACK_PYTHON_HOST_VERSION" "present ($(size_of "$BIN/pulumi-language-python")), reused"
else
    step "pulumi-language-python $HASTACK_PYTHON_HOST_VERSION" build_python_host
    log "pulumi-language-python: $(size_of "$BIN/pulumi-language-python")"
fi

# ---------------------------------------------------------------- kubernetes provider
K8S_MOD=github.com/pulumi/pulumi-kubernetes/provider/v4
build_kubernetes() {
    local src pinned build="$ROOT/build/kubernetes"
    pinned=$(cd "$TC_DIR/kubernetes" && go list -m -f '{{.Version}}' "$K8S_MOD")
    [[ "$pinned" == "$HASTACK_K8S_PROVIDER_MODULE_VERSION" ]] \
        || die "toolchain/kubernetes/go.mod pins $K8S_MOD $pinned, versions.sh says $HASTACK_K8S_PROVIDER_MODULE_VERSION"
    # The build reads the provider's source: download it (`go list -m` only sees the cache).
    (cd "$TC_DIR/kubernetes" && go mod download "$K8S_MOD")
    src=$(cd "$TC_DIR/kubernetes" && go list -m -f '{{.Dir}}' "$K8S_MOD")
    [[ -n "$src" && -d "$src/cmd/pulumi-resource-kubernetes" ]] \
        || die "module $K8S_MOD not in the module cache"
    # The provider's main.go embeds schema-embed.json and terraform-mapping-embed.json,
    # which its `go generate` step (generate.go) writes from the committed schema.json
    # and terraform-mapping.json; they are not in the module zip. Build from a copy.
    rm -rf "$build"
    mkdir -p "$build"
    cp "$TC_DIR/kubernetes/go.mod" "$TC_DIR/kubernetes/go.sum" "$build/"
    cp "$src/cmd/pulumi-resource-kubernetes/"{main.go,generate.go,schema.json,terraform-mapping.json} "$build/"
    chmod -R u+w "$build"
    log "kubernetes: generating the embedded schema in $build"
    (cd "$build" && VERSION="$HASTACK_K8S_PROVIDER_VERSION" go run generate.go)
    (cd "$build" && go build -p "$GO_P" -trimpath \
        -ldflags "-s -w -X $K8S_MOD/pkg/version.Version=$HASTACK_K8S_PROVIDER_VERSION" \
        -o "$BIN/pulumi-resource-kubernetes.tmp" .)
    mv -f "$BIN/pulumi-resource-kubernetes.tmp" "$BIN/pulumi-resource-kubernetes"
}
if [[ -x "$BIN/pulumi-resource-kubernetes" ]]; then
    progress_reuse "pulumi-resource-kubernetes $HASTACK_K8S_PROVIDER_VERSION" "present ($(size_of "$BIN/pulumi-resource-kubernetes")), reused"
else
    step "pulumi-resource-kubernetes $HASTACK_K8S_PROVIDER_VERSION" build_kubernetes
    log "pulumi-resource-kubernetes: $(size_of "$BIN/pulumi-resource-kubernetes")"
fi

# ---------------------------------------------------------------- plugin cache
# The engine looks a provider up in $PULUMI_HOME/plugins by exact version. We install
# the built provider under its own version, and under the version that the repo's
# pulumi-kubernetes Python SDK asks for (its pulumi-plugin.json), so programs using
# that SDK find it with automatic plugin acquisition off. See README.md.
sdk_plugin_version() { # NAME -> version in the venv's pulumi_NAME/pulumi-plugin.json, or ""
    local py="$REPO_DIR/.venv/bin/python"
    [[ -x "$py" ]] || return 0
    "$py" - "$1" <<'EOF' 2>/dev/null || true
import importlib.util, json, os, sys
spec = importlib.util.find_spec("pulumi_" + sys.argv[1])
if spec and spec.origin:
    p = os.path.join(os.path.dirname(spec.origin), "pulumi-plugin.json")
    if os.path.exists(p):
        print(json.load(open(p)).get("version", ""))
EOF
}
install_plugin() { # KIND NAME VERSION BINARY
    local dir="$PULUMI_HOME/plugins/$1-$2-v$3"
    if [[ -f "$dir/pulumi-$1-$2" ]] && cmp -s "$dir/pulumi-$1-$2" "$4"; then
        log "plugin cache: $1 $2 $3 present, reused"
        return 0
    fi
    log "plugin cache: installing $1 $2 $3 from $4"
    PULUMI_SKIP_UPDATE_CHECK=true "$BIN/pulumi" plugin install "$1" "$2" "$3" -f "$4" --reinstall >/dev/null
}
install_kubernetes_plugin() {
    install_plugin resource kubernetes "$HASTACK_K8S_PROVIDER_VERSION" "$BIN/pulumi-resource-kubernetes"
    K8S_SDK_VERSION=$(sdk_plugin_version kubernetes)
    if [[ -n "$K8S_SDK_VERSION" && "$K8S_SDK_VERSION" != "$HASTACK_K8S_PROVIDER_VERSION" ]]; then
        log "plugin cache: the pulumi-kubernetes Python SDK asks for $K8S_SDK_VERSION; serving it with the $HASTACK_K8S_PROVIDER_VERSION build"
        install_plugin resource kubernetes "$K8S_SDK_VERSION" "$BIN/pulumi-resource-kubernetes"
    fi
}

# ---------------------------------------------------------------- random, tls (optional)
# Bridged Terraform providers. Probed once per version key; the result is kept in
# $ROOT/optional-<name>.txt (HASTACK_RETRY_OPTIONAL=1 probes again).
probe_optional() { # NAME MODULE@VERSION
    local note="$ROOT/optional-$1.txt" out
    if [[ -f "$note" && "${HASTACK_RETRY_OPTIONAL:-0}" != 1 ]]; then
        log "$1: skipped (not buildable here, $(head -1 "$note"))"
        return 0
    fi
    if out=$(cd "$ROOT" && GOFLAGS='' go mod download -json "$2" 2>&1) \
        && ! grep -q '"Error"' <<<"$out"; then
        log "$1: $2 is served now; building it is not implemented yet (see README.md)"
        printf 'served, build not implemented: %s\n' "$2" >"$note"
    else
        log "$1: skipped: the Go module proxy does not serve $2"
        { printf 'not served: %s\n' "$2"; grep -o '"Error": ".*"' <<<"$out" || printf '%s\n' "$out"; } >"$note"
        sed -n '2,$p' "$note" | sed 's/^/[toolchain]   /' >&2
    fi
}
CURRENT="probing the optional providers"
probe_optional random "github.com/pulumi/pulumi-random/provider/v4@v$HASTACK_RANDOM_PROVIDER_VERSION"
probe_optional tls "github.com/pulumi/pulumi-tls/provider/v5@v$HASTACK_TLS_PROVIDER_VERSION"

# ---------------------------------------------------------------- random, tls (local stand-ins)
# Until the official plugins can be built, the engine gets hastack's Python implementation of
# the provider protocol for the three resources the program uses (hastack_tools/standins/local_providers.py).
# The launcher finds the repo through HASTACK_REPO, which toolchain/env.sh exports, so one cached
# plugin serves every clone.
install_local_provider() { # NAME VERSION
    local launcher="$BIN/pulumi-resource-$1"
    cat >"$launcher.tmp" <<LAUNCHER
#!/usr/bin/env bash
# hastack's local stand-in for the $1 provider plugin: see hastack_tools/standins/local_providers.py.
: "\${HASTACK_REPO:?source toolchain/env.sh first}"
export PYTHONPATH="\$HASTACK_REPO\${PYTHONPATH:+:\$PYTHONPATH}"
# -P: the plugin runs in the program's folder, whose own modules must not shadow ours.
exec "\${HASTACK_PYTHON:-\$HASTACK_REPO/.venv/bin/python}" -P -m hastack_tools.standins.local_providers $1
LAUNCHER
    chmod 0755 "$launcher.tmp"
    mv -f "$launcher.tmp" "$launcher"
    install_plugin resource "$1" "$2" "$launcher"
}
fill_plugin_cache() {
    install_kubernetes_plugin
    install_local_provider random "$HASTACK_RANDOM_PROVIDER_VERSION"
    install_local_provider tls "$HASTACK_TLS_PROVIDER_VERSION"
}
step "plugin cache (kubernetes; random $HASTACK_RANDOM_PROVIDER_VERSION and tls $HASTACK_TLS_PROVIDER_VERSION: local stand-ins, hastack_tools/standins/local_providers.py)" fill_plugin_cache

# ---------------------------------------------------------------- YAML language host
# pulumi-language-yaml from github.com/pulumi/pulumi-yaml (wrapper module toolchain/yaml, pinned
# in its go.mod; built against the pulumi pkg/sdk versions pulumi-yaml itself requires). It runs
# Pulumi YAML programs, which use hastack's component package (examples/yaml, tested in
# tests/integration). Required: a failed build fails the toolchain with the go errors. A stamp of
# go.mod/go.sum beside the binary rebuilds it when the pin changes (the toolchain key does not
# include this module, so the other binaries are untouched).
HASTACK_YAML_MOD=github.com/pulumi/pulumi-yaml
build_yaml_host() {
    local version
    version=$(cd "$TC_DIR/yaml" && go list -m -f '{{.Version}}' "$HASTACK_YAML_MOD") || return 1
    (cd "$TC_DIR/yaml" && go build -p "$GO_P" -trimpath \
        -ldflags "-s -w -X $HASTACK_YAML_MOD/pkg/version.Version=$version" \
        -o "$BIN/pulumi-language-yaml.tmp" "$HASTACK_YAML_MOD/cmd/pulumi-language-yaml") || return 1
    mv -f "$BIN/pulumi-language-yaml.tmp" "$BIN/pulumi-language-yaml" || return 1
    echo "$YAML_STAMP" >"$BIN/.pulumi-language-yaml.stamp"
}
YAML_STAMP=$(cat "$TC_DIR/yaml/go.mod" "$TC_DIR/yaml/go.sum" | sha256sum | cut -c1-16)
if [[ -x "$BIN/pulumi-language-yaml" \
    && "$(cat "$BIN/.pulumi-language-yaml.stamp" 2>/dev/null)" == "$YAML_STAMP" ]]; then
    progress_reuse "pulumi-language-yaml" "present ($(size_of "$BIN/pulumi-language-yaml")), reused"
else
    step "pulumi-language-yaml" build_yaml_host
    log "pulumi-language-yaml: $(size_of "$BIN/pulumi-language-yaml")"
fi

progress_say "toolchain ready: source toolchain/env.sh"
