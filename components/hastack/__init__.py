"""hastack components: reusable Pulumi ComponentResources for highly available apps on Kubernetes."""

from hastack.app import HighlyAvailableApp
from hastack.config import AppConfig, ConfigError, StackConfig
from hastack.group import AppGroup
from hastack.namespace import IsolatedNamespace

__all__ = ["AppConfig", "AppGroup", "ConfigError", "HighlyAvailableApp", "IsolatedNamespace", "StackConfig"]
