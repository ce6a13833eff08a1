"""hastack components: reusable Pulumi ComponentResources for highly available apps on Kubernetes."""

from components.app import HighlyAvailableApp
from components.config import AppConfig, ConfigError, StackConfig
from components.isolation import IsolatedNamespace

__all__ = ["AppConfig", "ConfigError", "HighlyAvailableApp", "IsolatedNamespace", "StackConfig"]
