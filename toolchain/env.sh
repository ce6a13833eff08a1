# shellcheck shell=bash
# Source this file (bash) to use the toolchain that toolchain/build.sh built:
#
#   bash toolchain/build.sh && source toolchain/env.sh && pulumi version
#
# It puts the cached binaries first on PATH and sets the variables that keep the
# Pulumi CLI local and offline. It changes no shell option and fails no command;
# when the toolchain is missing it says so and sets HASTACK_TOOLCHAIN_OK=0.

_hastack_tc_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=toolchain/versions.sh
source "$_hastack_tc_dir/versions.sh"

HASTACK_TOOLCHAIN_KEY=$(hastack_toolchain_key "$_hastack_tc_dir")
HASTACK_TOOLCHAIN_BIN="$HASTACK_CACHE/toolchain/$HASTACK_TOOLCHAIN_KEY/bin"
export HASTACK_CACHE HASTACK_TOOLCHAIN_KEY HASTACK_TOOLCHAIN_BIN
if [[ -x "$HASTACK_TOOLCHAIN_BIN/pulumi" && -x "$HASTACK_TOOLCHAIN_BIN/pulumi-language-python" \
    && -x "$HASTACK_TOOLCHAIN_BIN/pulumi-resource-kubernetes" && -x "$HASTACK_TOOLCHAIN_BIN/pulumi-language-yaml" ]]; then
    HASTACK_TOOLCHAIN_OK=1
else
    HASTACK_TOOLCHAIN_OK=0
    echo "toolchain/env.sh: toolchain $HASTACK_TOOLCHAIN_KEY is not built; run: bash toolchain/build.sh" >&2
fi
export HASTACK_TOOLCHAIN_OK

case ":$PATH:" in
    *":$HASTACK_TOOLCHAIN_BIN:"*) ;;
    *) export PATH="$HASTACK_TOOLCHAIN_BIN:$PATH" ;;
esac

# Pulumi's own state (plugin cache, credentials of `pulumi login`) lives in the cache.
export PULUMI_HOME="$HASTACK_CACHE/home"
# Nothing may reach the internet: no update check, no plugin downloads.
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# Plugins come from the plugin cache that build.sh filled, never from PATH by accident
# (the language host beside the `pulumi` binary is still found: that lookup is not
# an "ambient" one).
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
# The repo whose .venv and hastack_tools the local random/tls provider launchers use.
export HASTACK_REPO="$(dirname "$_hastack_tc_dir")"
# Python used by hastack's language host when Pulumi.yaml sets no `virtualenv` option.
export PULUMI_PYTHON_VIRTUALENV="${PULUMI_PYTHON_VIRTUALENV:-$(dirname "$_hastack_tc_dir")/.venv}"
# Passphrase secrets provider for local stacks, unless the caller chose one.
if [[ -z "${PULUMI_CONFIG_PASSPHRASE+x}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
    export PULUMI_CONFIG_PASSPHRASE=hastack-local-only
fi
unset _hastack_tc_dir
