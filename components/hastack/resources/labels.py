"""Label and annotation conventions shared by every resource of an app."""

from __future__ import annotations

import re
from typing import Literal

import pulumi

from hastack.config import AppConfig

Track = Literal["stable", "canary"]
"""Which release of an app a resource belongs to: the stable one, or the canary beside it."""

PART_OF = "hastack"
ENVIRONMENT_LABEL = "hastack.dev/environment"
"""The environment profile a namespace or an app's NetworkPolicy was built for: the offline gate
reads it to judge a program that sets its environment in code (HighlyAvailableApp args)."""
CHECKSUM_ANNOTATION = "hastack.dev/config-checksum"
"""Pod-template annotation whose change rolls the pods when env or generated secrets change."""
OPEN_EGRESS_ANNOTATION = "hastack.dev/open-egress-reason"
"""On a NetworkPolicy that allows egress to every address or namespace: why (the pack's
egress-not-open rule accepts it then)."""

_TAG_OR_DIGEST = re.compile(r"(?::([\w][\w.-]{0,127})|@sha256:([0-9a-f]{12}))")


def instance_name(app: AppConfig, track: Track = "stable") -> str:
    """The stable release keeps the app's name; the canary is its own instance, `<app>-canary`."""
    return app.name if track == "stable" else f"{app.name}-canary"


def name_labels(app_name: str) -> dict[str, str]:
    """Every pod of the app, stable and canary alike (for NetworkPolicies, which must not care)."""
    return {"app.kubernetes.io/name": app_name}


def selector_labels(app: AppConfig, track: Track = "stable") -> dict[str, str]:
    """The immutable selector: never a version, so a new image never forces a replacement.

    The instance label tells the tracks apart, so the stable Service, PDB and spread never select
    canary pods.
    """
    return {**name_labels(app.name), "app.kubernetes.io/instance": instance_name(app, track)}


def common_labels(app: AppConfig, track: Track = "stable") -> dict[str, str]:
    """Selector labels plus descriptive ones for every object of the app."""
    return {
        **selector_labels(app, track),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def pod_labels(app: AppConfig, track: Track = "stable") -> dict[str, pulumi.Input[str]]:
    """Common labels plus the version, which may change on every release (pods only).

    A computed image (an Output, see hastack.args) is validated to carry a tag or digest, so its
    version label is always set, once known.
    """
    labels: dict[str, pulumi.Input[str]] = dict(common_labels(app, track))
    image: pulumi.Input[str] = app.image
    if isinstance(image, pulumi.Output):
        labels["app.kubernetes.io/version"] = image.apply(lambda known: image_version(known) or "")
        return labels
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
