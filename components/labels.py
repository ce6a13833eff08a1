"""Label and annotation conventions shared by every resource of an app."""

from __future__ import annotations

import re

from components.config import AppConfig

PART_OF = "hastack"
CHECKSUM_ANNOTATION = "hastack.dev/config-checksum"
"""Pod-template annotation whose change rolls the pods when env or generated secrets change."""

_TAG_OR_DIGEST = re.compile(r"(?::([\w][\w.-]{0,127})|@sha256:([0-9a-f]{12}))")


def selector_labels(app: AppConfig) -> dict[str, str]:
    """The immutable selector: never a version, so a new image never forces a replacement."""
    return {"app.kubernetes.io/name": app.name, "app.kubernetes.io/instance": app.name}


def common_labels(app: AppConfig) -> dict[str, str]:
    """Selector labels plus descriptive ones for every object of the app."""
    return {
        **selector_labels(app),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def pod_labels(app: AppConfig) -> dict[str, str]:
    """Common labels plus the version, which may change on every release (pods only)."""
    labels = common_labels(app)
    version = image_version(app.image)
    if version:
        labels["app.kubernetes.io/version"] = version
    return labels


def image_version(image: str) -> str | None:
    """A label-safe version: the tag, or the first 12 hex digits of the digest."""
    name_part, _, digest = image.partition("@sha256:")
    if digest:
        return digest[:12]
    match = _TAG_OR_DIGEST.search(name_part.rsplit("/", 1)[-1])
    if not match or not match.group(1):
        return None
    return match.group(1)[:63].rstrip("-_.") or None
