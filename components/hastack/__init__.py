"""hastack components: reusable Pulumi ComponentResources for highly available apps on Kubernetes.

The names below load on first use (PEP 562): the policy pack and the provider stand-ins import
`hastack.wire` alone, and need not load every component and its config models to do so."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hastack.app import HighlyAvailableApp
    from hastack.config import AppConfig, ConfigError, StackConfig
    from hastack.group import AppGroup
    from hastack.namespace import IsolatedNamespace

_HOMES = {
    "AppConfig": "hastack.config",
    "AppGroup": "hastack.group",
    "ConfigError": "hastack.config",
    "HighlyAvailableApp": "hastack.app",
    "IsolatedNamespace": "hastack.namespace",
    "StackConfig": "hastack.config",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hastack' has no attribute {name!r}")


__all__ = ["AppConfig", "AppGroup", "ConfigError", "HighlyAvailableApp", "IsolatedNamespace", "StackConfig"]
