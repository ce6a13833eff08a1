"""The typed, validated stack config: the only package that reads raw Pulumi config.

Shape and types are checked by pydantic (`models`, `types`; unknown keys are errors); environment
floors (`profiles`) and cross-field rules (`checks`) after, each with the exact key path. `load`
reports everything at once, before any resource is registered, as
`<stack file>: hastack:<path>: <what is allowed>, got <value>`.
"""

from hastack.config.checks import check
from hastack.config.errors import ConfigError, key_path
from hastack.config.load import allowed_keys, load, parse, raw_from_engine, validate, validate_environment
from hastack.config.models import (
    AppConfig,
    AppIngressConfig,
    AutoscalingConfig,
    CallConfig,
    CanaryConfig,
    DisruptionBudgetConfig,
    EgressConfig,
    EgressPortConfig,
    EnvironmentConfig,
    GatewayConfig,
    IngressConfig,
    Limits,
    Model,
    Neighbours,
    ProbeConfig,
    ProbesConfig,
    RateLimitConfig,
    Requests,
    ResourcesConfig,
    ShutdownConfig,
    StackAppConfig,
    StackConfig,
    TlsConfig,
    app_calls,
)
from hastack.config.profiles import ENVIRONMENTS, EnvironmentProfile
from hastack.config.types import PROJECT, Environment, parse_quantity

__all__ = [
    "ENVIRONMENTS",
    "PROJECT",
    "AppConfig",
    "AppIngressConfig",
    "AutoscalingConfig",
    "CallConfig",
    "CanaryConfig",
    "ConfigError",
    "DisruptionBudgetConfig",
    "EgressConfig",
    "EgressPortConfig",
    "Environment",
    "EnvironmentConfig",
    "EnvironmentProfile",
    "GatewayConfig",
    "IngressConfig",
    "Limits",
    "Model",
    "Neighbours",
    "ProbeConfig",
    "ProbesConfig",
    "RateLimitConfig",
    "Requests",
    "ResourcesConfig",
    "ShutdownConfig",
    "StackAppConfig",
    "StackConfig",
    "TlsConfig",
    "allowed_keys",
    "app_calls",
    "check",
    "key_path",
    "load",
    "parse",
    "parse_quantity",
    "raw_from_engine",
    "validate",
    "validate_environment",
]
