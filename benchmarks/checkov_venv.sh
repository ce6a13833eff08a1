#!/usr/bin/env bash
# checkov in a venv of its own (it pins boto3==1.35.49 against the project's 1.44.8), built from
# requirements-checkov.txt (exact versions, --no-deps) under
#   ${HASTACK_CACHE:-$HOME/.cache/hastack}/checkov/<hash of that file>/
# Idempotent (a no-op once built), safe to run concurrently (flock). Prints the checkov executable.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
requirements="$repo/requirements-checkov.txt"
cache="${HASTACK_CACHE:-$HOME/.cache/hastack}"
key=$(sha256sum "$requirements" | cut -c1-16)
root="$cache/checkov/$key"
mkdir -p "$cache/checkov"
exec 9>"$cache/checkov/.lock"
flock 9
if [ ! -f "$root/.installed" ]; then
  rm -rf "$root"
  echo "checkov_venv: building $root (once; ~2 min)" >&2
  python3 -m venv "$root"
  "$root/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$requirements"
  "$root/bin/checkov" --version >/dev/null
  touch "$root/.installed"
fi
echo "$root/bin/checkov"
