"""Packs a static binary into a one-layer OCI image archive that `ctr images import` takes, with no
registry and no Docker: the same binary always gives the same digest (fixed times, owners and order),
so stacks can pin `image@sha256:...`.

    python oci_image.py BINARY NAME:TAG OUT.tar [--entrypoint /app] [--user 10001] [--extra SRC=DEST ...]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

EPOCH = 0


def _tar_bytes(entries: list[tuple[str, bytes, int]], tmp: bool = False) -> bytes:
    """A tar of (path, content, mode), directories implied, deterministic."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs: set[str] = set()
        for path, _, _ in entries:
            parts = path.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                dirs.add("/".join(parts[:i]))
        for directory in sorted(dirs | ({"tmp"} if tmp else set())):
            info = tarfile.TarInfo(directory)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o1777 if directory == "tmp" else 0o755, EPOCH
            tar.addfile(info)
        for path, content, mode in sorted(entries):
            info = tarfile.TarInfo(path.strip("/"))
            info.size, info.mode, info.mtime = len(content), mode, EPOCH
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _blob(data: bytes) -> tuple[str, bytes]:
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


def build(binary: Path, name: str, out: Path, entrypoint: str, user: str, extra: dict[str, Path]) -> str:
    entries = [(entrypoint, binary.read_bytes(), 0o755)]
    entries += [(dest, src.read_bytes(), 0o644) for dest, src in extra.items()]
    layer_tar = _tar_bytes(entries, tmp=True)
    layer_gz = gzip.compress(layer_tar, compresslevel=6, mtime=EPOCH)
    diff_id = "sha256:" + hashlib.sha256(layer_tar).hexdigest()
    layer_digest, _ = _blob(layer_gz)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Entrypoint": [entrypoint], "User": user, "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": f"hastack oci_image.py {entrypoint}"}],
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    config_digest, _ = _blob(config_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": len(config_bytes),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": layer_digest,
                "size": len(layer_gz),
            }
        ],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    manifest_digest, _ = _blob(manifest_bytes)
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": manifest_digest,
                "size": len(manifest_bytes),
                "annotations": {"org.opencontainers.image.ref.name": name},
            }
        ],
    }
    files = {
        "oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
        "index.json": json.dumps(index, sort_keys=True).encode(),
        f"blobs/sha256/{layer_digest[7:]}": layer_gz,
        f"blobs/sha256/{config_digest[7:]}": config_bytes,
        f"blobs/sha256/{manifest_digest[7:]}": manifest_bytes,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(_tar_bytes([(path, data, 0o644) for path, data in files.items()]))
    return manifest_digest


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("binary", type=Path)
    parser.add_argument("name")
    parser.add_argument("out", type=Path)
    parser.add_argument("--entrypoint", default="/app")
    parser.add_argument("--user", default="10001")
    parser.add_argument("--extra", action="append", default=[])
    args = parser.parse_args()
    extra = {dest: Path(src) for src, dest in (item.split("=", 1) for item in args.extra)}
    print(build(args.binary, args.name, args.out, args.entrypoint, args.user, extra))


if __name__ == "__main__":
    main()
