"""`image-tag-fixed`: Image tags name a release, not a branch or channel that moves (main, edge, blue)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from hastack.wire import is_unknown
from hastack_policy.objects import WORKLOADS, K8sObject, container_name, containers, image_tag, pod_template
from hastack_policy.rule import Rule

FIXED_TAG = re.compile(r"^v?\d|\d+\.\d+|^[0-9a-f]{7,64}$")
"""A tag that names a release: it starts with a version number (`1.25.3`, `v2`, `16-alpine`), holds a
dotted version (`release-1.2`), or is a commit hash. Anything else (`main`, `server-cuda`, `blue`,
`stable`, `edge`) names a branch or a channel, which the registry moves."""


def moving_tag(image: str) -> str | None:
    """The tag of `image` when it names a branch or a channel rather than a release (None: a fixed
    version, a digest, or no tag, which image-pinned judges)."""
    if "@" in image:
        return None
    tag = image_tag(image)
    if tag is None or tag == "latest" or FIXED_TAG.search(tag):
        return None
    return tag


def image_tag_fixed(obj: K8sObject, cfg: Mapping[str, Any]) -> Iterator[str]:
    """A branch or channel tag (`:main`, `:server-cuda`, `:blue`) moves with every push: two nodes can
    run different code under one tag, and a rollback pulls the new image again."""
    _, spec = pod_template(obj)
    for container in containers(spec, init=True):
        image = container.get("image")
        if not isinstance(image, str) or is_unknown(image):
            continue
        tag = moving_tag(image)
        if tag is not None:
            yield (
                f"{obj.display()} container {container_name(container)} image '{image}' uses the tag "
                f"'{tag}', which names a branch or channel that moves: use a release tag (1.4.2) or a digest"
            )


RULE = Rule(
    id="image-tag-fixed",
    description="Image tags name a release, not a branch or channel that moves (main, edge, blue).",
    severity="medium",
    remediation=(
        "Tag images with a release version (registry/name:1.4.2) or pin a digest; a branch or channel "
        "tag such as :main or :server-cuda is overwritten by the next push."
    ),
    category="security",
    default_enforcement="advisory",
    tier="advice",
    resource_check=image_tag_fixed,
    kinds=WORKLOADS,
)
