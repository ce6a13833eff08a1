"""Canary releases: a second Deployment of the app beside the stable one, with its own Service, PDB
and HPA and the very same HA and security defaults, receiving `canary.weight` percent of requests.

Promotion is a config change: set the app's `image` to the canary's and drop (or zero) the canary.
"""

from __future__ import annotations

from hastack.config import AppConfig
from hastack.controllers import CANARY_WEIGHT_TOTAL
from hastack.resources.labels import Track


def canary_release(app: AppConfig) -> AppConfig:
    """The app as the canary runs it: everything inherited, only the image differs."""
    assert app.canary is not None
    return app.model_copy(update={"image": app.canary.image})


def releases(app: AppConfig) -> list[tuple[Track, AppConfig]]:
    """The stable release, then the canary when the app has one."""
    found: list[tuple[Track, AppConfig]] = [("stable", app)]
    if app.canary is not None:
        found.append(("canary", canary_release(app)))
    return found


def traffic_split(app: AppConfig) -> dict[Track, int] | None:
    """Percent of requests per track (adding up to 100), or None when there is nothing to split."""
    if app.canary is None:
        return None
    return {"stable": CANARY_WEIGHT_TOTAL - app.canary.weight, "canary": app.canary.weight}
