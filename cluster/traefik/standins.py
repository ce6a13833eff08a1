"""Generates, from the Go module cache, the three stand-ins Traefik v3.7.13 needs to build from the
module proxy, which does not serve: its nested module `github.com/traefik/traefik/dynamic/ext` (in
neither the module zip nor the proxy), the containous fork of `github.com/abbot/go-http-auth`, and six
DNS-provider SDKs that `github.com/go-acme/lego/v5` v5.4.1 requires. Nothing third-party is committed:
this script writes the stand-ins into the build folder on every build.

    python standins.py GOMODCACHE OUT_DIR
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

GO_HTTP_AUTH = "github.com/abbot/go-http-auth@v0.4.0"
LEGO = "github.com/go-acme/lego/v5@v5.4.1"
DROPPED_PROVIDERS = ("edgedns", "huaweicloud", "oraclecloud", "sakuracloud", "ucloud", "yandexcloud")
"""lego's providers whose SDKs the proxy does not serve (akamai, huaweicloud, oci-go-sdk, sacloud,
ucloud, yandex); a Traefik built here cannot use them for ACME DNS challenges."""
DROPPED_REQUIRES = re.compile(r"AkamaiOPEN|huaweicloud-sdk|nrdcg/oci-go-sdk|sacloud/|ucloud-sdk|yandex-cloud")

EXT = """// Package ext: Traefik's extension points of the dynamic configuration (empty in its open-source
// build). Written by hastack's traefik/standins.py: the module is not served by the Go proxy.
package ext

// HTTP is inlined into the HTTP configuration.
type HTTP struct{}

// Router is inlined into each HTTP router.
type Router struct{}
"""

AUTH_ADDITIONS = """package auth

// Added by hastack's traefik/standins.py: the two functions Traefik calls that the containous fork of
// go-http-auth adds to v0.4.0 (the fork's version is not served by the Go proxy).

import (
	"fmt"
	"net/http"
	"strings"
)

// CheckSecret reports whether password matches secret (an htpasswd hash), as BasicAuth.CheckAuth does.
func CheckSecret(password, secret string) bool {
	compare := compareFuncs[0].compare
	for _, cmp := range compareFuncs[1:] {
		if strings.HasPrefix(secret, cmp.prefix) {
			compare = cmp.compare
			break
		}
	}
	return compare([]byte(secret), []byte(password)) == nil
}

// RequireAuthStale asks for authentication again, telling the client that its nonce was stale.
func (a *DigestAuth) RequireAuthStale(w http.ResponseWriter, r *http.Request) {
	if len(a.clients) > a.ClientCacheSize+a.ClientCacheTolerance {
		a.Purge(a.ClientCacheTolerance * 2)
	}
	nonce := RandomKey()
	a.clients[nonce] = &digest_client{nc: 0, last_seen: 0}
	w.Header().Set(contentType, a.Headers.V().UnauthContentType)
	w.Header().Set(a.Headers.V().Authenticate,
		fmt.Sprintf(`Digest realm="%s", nonce="%s", opaque="%s", algorithm="MD5", qop="auth", stale=true`,
			a.Realm, nonce, a.Opaque))
	w.WriteHeader(a.Headers.V().UnauthCode)
	_, _ = w.Write([]byte(a.Headers.V().UnauthResponse))
}
"""


def module_dir(cache: Path, module: str) -> Path:
    """The module's folder in the cache, downloaded through the proxy first if it is not there (the wrapper
    module replaces it, so its own `go mod download` never fetches it)."""
    source = cache / module
    if source.is_dir():
        return source
    with tempfile.TemporaryDirectory() as outside_any_module:
        done = subprocess.run(
            ["go", "mod", "download", "-json", module],
            cwd=outside_any_module,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        sys.exit(f"standins: go mod download {module} failed:\n{done.stdout}{done.stderr}")
    source = Path(json.loads(done.stdout)["Dir"])
    if not source.is_dir():
        sys.exit(f"standins: go mod download {module} named no folder: {done.stdout}")
    return source


def copy_module(cache: Path, module: str, out: Path) -> Path:
    source = module_dir(cache, module)
    if out.exists():
        shutil.rmtree(
            out, onerror=lambda f, p, _: (Path(p).chmod(stat.S_IWUSR | stat.S_IRUSR | stat.S_IXUSR), f(p))
        )
    shutil.copytree(source, out)
    for path in [out, *out.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return out


def main(cache: Path, out: Path) -> None:
    ext = out / "ext"
    ext.mkdir(parents=True, exist_ok=True)
    (ext / "go.mod").write_text("module github.com/traefik/traefik/dynamic/ext\n\ngo 1.24\n")
    (ext / "ext.go").write_text(EXT)

    auth = copy_module(cache, GO_HTTP_AUTH, out / "go-http-auth")
    if not (auth / "go.mod").exists():
        (auth / "go.mod").write_text("module github.com/abbot/go-http-auth\n\ngo 1.24\n")
    (auth / "hastack_fork_additions.go").write_text(AUTH_ADDITIONS)

    lego = copy_module(cache, LEGO, out / "lego")
    for name in DROPPED_PROVIDERS:
        shutil.rmtree(lego / "providers" / "dns" / name)
    registry = lego / "providers" / "dns" / "zz_gen_dns_providers.go"
    text = registry.read_text()
    for name in DROPPED_PROVIDERS:
        text = re.sub(rf'^\s*"github.com/go-acme/lego/v5/providers/dns/{name}"\n', "", text, flags=re.M)
        text = re.sub(rf"^\s*case [^\n]*\n\s*return {name}\.NewDNSProvider\(\)\n", "", text, flags=re.M)
    registry.write_text(text)
    go_mod = lego / "go.mod"
    go_mod.write_text(
        "".join(
            line for line in go_mod.read_text().splitlines(keepends=True) if not DROPPED_REQUIRES.search(line)
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
