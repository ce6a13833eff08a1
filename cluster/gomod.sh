# shellcheck shell=bash
# Sourced by build.sh and crds.sh: files that a Go module ships (kwok's Stage configs, upstream
# CRDs) are read from the module cache after `go mod download`, never copied into the repo.

go_module_dir() { # module@version -> prints its directory in GOMODCACHE; on failure the go error on stderr
	local json dir
	json=$(cd "${TMPDIR:-/tmp}" && go mod download -json "$1" 2>&1) || {
		echo "go mod download -json $1 failed:" >&2
		echo "$json" >&2
		return 1
	}
	dir=$(sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p' <<<"$json")
	[[ -n $dir && -d $dir ]] || { echo "go mod download -json $1 named no directory:" >&2; echo "$json" >&2; return 1; }
	echo "$dir"
}
