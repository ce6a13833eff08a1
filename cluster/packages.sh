#!/usr/bin/env bash
# The Debian packages real nodes need, installed at pinned versions when missing (root; apt). Prints
# what it did; exit 3 when it cannot (not root, no apt), so callers can say why real nodes are off.
set -euo pipefail
PACKAGES=(
	containerd=1.6.20~ds1-1+deb12u3
	runc=1.1.5+ds1-1+deb12u1
	containernetworking-plugins=1.1.1+ds1-3+b5
	iptables=1.8.9-2
	ipset=7.17-1
)
missing=()
for spec in "${PACKAGES[@]}"; do
	name=${spec%%=*} version=${spec#*=}
	[[ $(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true) == "$version" ]] || missing+=("$spec")
done
((${#missing[@]} == 0)) && exit 0
if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
	echo "packages: real nodes need ${missing[*]} (Debian), and installing them needs root and apt-get" >&2
	exit 3
fi
echo "packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
