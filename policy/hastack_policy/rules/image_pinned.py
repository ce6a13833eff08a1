"""`image-pinned`: Images carry a tag that is not latest, and a digest where required."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hastack.wire import is_unknown
from hastack_policy.objects import WORKLOADS, K8sObject, container_name, containers, image_tag, pod_template
from hastack_policy.rule import Rule


def image_problem(image: str, require_digest: bool) -> str | None:
    """Why an image reference is not pinned enough, or None when it is fine."""
    if "@" in image:
        digest = image.split("@", 1)[1]
        return (
            None
            if digest.startswith("sha256:") and len(digest) == 71
            else f"has a malformed digest '{digest}'"
        )
    tag = image_tag(image)
    if tag is None:
        return "has no tag (pulls :latest)"
    if tag == "latest":
        return "uses the :latest tag"
    if require_digest:
        return "is not pinned by digest"
    return None


def image_pinned(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """A moving tag makes rollouts unrepeatable and rollbacks a guess."""
    _, spec = pod_template(obj)
    require_digest = bool(cfg["requireDigest"])
    for container in containers(spec, init=True):
        image = container.get("image")
        if not isinstance(image, str) or is_unknown(image):
            continue
        problem = image_problem(image, require_digest)
        if problem:
            needed = "an image@sha256:<digest>" if require_digest else "a fixed version tag or a digest"
            yield (
                f"{obj.display()} container {container_name(container)} image '{image}' "
                f"{problem}: use {needed}"
            )


RULE = Rule(
    id="image-pinned",
    description="Images carry a tag that is not latest, and a digest where required.",
    severity="high",
    remediation="Reference images as registry/name:version, or registry/name@sha256:<digest> in prod.",
    category="security",
    default_enforcement="mandatory",
    config={
        "requireDigest": {
            "type": "boolean",
            "default": False,
            "description": "require image@sha256:<digest>",
        }
    },
    resource_check=image_pinned,
    kinds=WORKLOADS,
    profile_settings=lambda profile: {"requireDigest": profile.require_digest},
)
