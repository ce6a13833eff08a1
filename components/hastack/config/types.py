"""Constrained scalar types of the stack config: names, hosts, paths, ports, quantities.

Each validator's message says what is allowed; pydantic adds the key path and the value.
"""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, Field

from hastack.controllers import GATEWAY_IMPLEMENTATIONS, LOAD_BALANCING_ALGORITHMS, RETRY_CONDITIONS

PROJECT = "hastack"
"""Config namespace: keys are `hastack:<key>` in the stack files."""

Environment = Literal["dev", "staging", "prod"]
TlsMode = Literal["cert-manager", "secret", "self-signed"]
LoadBalancing = Literal["round-robin", "least-connections", "ewma", "consistent-hash"]
assert get_args(LoadBalancing) == LOAD_BALANCING_ALGORITHMS
Exposure = Literal["ingress", "gateway"]
GatewayImplementation = Literal["envoy-gateway"]
assert get_args(GatewayImplementation) == GATEWAY_IMPLEMENTATIONS

_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_HOST = re.compile(r"^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
TAG = re.compile(r":([\w][\w.-]{0,127})$")
_PERCENT = re.compile(r"^(\d{1,3})%$")
_RESERVED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def _dns1035(value: str) -> str:
    if len(value) > 40 or not _DNS1035.match(value):
        raise ValueError(
            "must be a DNS-1035 label of at most 40 characters (lower-case letters, digits, '-', "
            "starting with a letter); 40 leaves room for the suffixes of generated names"
        )
    return value


def namespace_name(value: str) -> str:
    if len(value) > 63 or not _DNS1123_LABEL.match(value):
        raise ValueError("must be a DNS-1123 label (lower-case letters, digits, '-'), at most 63 characters")
    if value in _RESERVED_NAMESPACES:
        raise ValueError(f"must not be a shared system namespace ({', '.join(_RESERVED_NAMESPACES)})")
    return value


def _hostname(value: str) -> str:
    if len(value) > 253 or not _HOST.match(value):
        raise ValueError("must be a fully qualified lower-case DNS name such as shop.example.com")
    return value


def _http_path(value: str) -> str:
    if not value.startswith("/") or any(c.isspace() for c in value):
        raise ValueError("must be an absolute URL path such as / or /api")
    return value


def dns1123_label(value: str) -> str:
    if len(value) > 63 or not _DNS1123_LABEL.match(value):
        raise ValueError("must be a DNS-1123 label (lower-case letters, digits, '-'), at most 63 characters")
    return value


def dns1123_subdomain(value: str) -> str:
    if len(value) > 253 or not DNS1123_SUBDOMAIN.match(value):
        raise ValueError("must be a DNS-1123 subdomain (lower-case letters, digits, '-', '.')")
    return value


def weight_percent(value: int) -> int:
    if not 0 <= value <= 100:
        raise ValueError("must be between 0 and 100 (percent of requests sent to the canary)")
    return value


def port_number(value: int) -> int:
    if not 1024 <= value <= 65535:
        raise ValueError(
            "must be between 1024 and 65535: pods run as non-root with every capability dropped "
            "and cannot bind lower ports"
        )
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError("must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
    return value


def _quantity_text(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    return value


_SUFFIXES = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
}
_QUANTITY = re.compile(r"^(\d+(\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")


def parse_quantity(text: str) -> Decimal:
    """A Kubernetes resource quantity in base units, for comparing requests with limits."""
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError("must be a Kubernetes quantity such as 250m, 1, 512Mi or 1Gi")
    try:
        return Decimal(match.group(1)) * _SUFFIXES[match.group(3) or ""]
    except InvalidOperation as error:  # pragma: no cover - the regex admits only decimals
        raise ValueError(str(error)) from error


def _quantity(value: str) -> str:
    if parse_quantity(value) <= 0:
        raise ValueError("must be greater than zero")
    return value


def _int_or_percent(value: int | str) -> int | str:
    if isinstance(value, str):
        match = _PERCENT.match(value)
        if not match or not 0 <= int(match.group(1)) <= 100:
            raise ValueError("must be a whole number or a percentage between 0% and 100%")
    elif value < 0:
        raise ValueError("must not be negative")
    return value


DnsName = Annotated[str, AfterValidator(_dns1035)]
NamespaceName = Annotated[str, AfterValidator(namespace_name)]
Hostname = Annotated[str, AfterValidator(_hostname)]
HttpPath = Annotated[str, AfterValidator(_http_path)]
EnvName = Annotated[str, AfterValidator(_env_name)]
Quantity = Annotated[str, BeforeValidator(_quantity_text), AfterValidator(_quantity)]
IntOrPercent = Annotated[int | str, AfterValidator(_int_or_percent)]
Percentage = Annotated[int, Field(ge=1, le=100)]
Dns1123Label = Annotated[str, AfterValidator(dns1123_label)]
Dns1123Subdomain = Annotated[str, AfterValidator(dns1123_subdomain)]
ClassName = Annotated[str, AfterValidator(namespace_name)]
"""An IngressClass name: a DNS-1123 label, and never a shared system namespace's name."""
Port = Annotated[int, AfterValidator(port_number)]
CanaryWeight = Annotated[int, AfterValidator(weight_percent)]


_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")


def _label_key(value: str) -> str:
    prefix, slash, name = value.rpartition("/")
    if (slash and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix))) or (
        len(name) > 63 or not _LABEL_NAME.match(name)
    ):
        raise ValueError(
            "must be a Kubernetes label key: an optional DNS-1123 subdomain prefix and '/', then a name "
            "of at most 63 letters, digits, '-', '_' or '.' that starts and ends with a letter or digit"
        )
    return value


def _label_value(value: str) -> str:
    if value and (len(value) > 63 or not _LABEL_NAME.match(value)):
        raise ValueError(
            "must be a Kubernetes label value: empty, or at most 63 letters, digits, '-', '_' or '.' "
            "that starts and ends with a letter or digit"
        )
    return value


def _cidr(value: str) -> str:
    """Canonical text of an IPv4 or IPv6 network; host bits must be zero, as the API server demands."""
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        raise ValueError(
            "must be a CIDR block such as 10.20.0.0/16 or 2001:db8::/64, with the host bits zero"
        ) from None


LabelKey = Annotated[str, AfterValidator(_label_key)]
LabelValue = Annotated[str, AfterValidator(_label_value)]
Cidr = Annotated[str, AfterValidator(_cidr)]
NetworkPort = Annotated[int, Field(ge=1, le=65535)]
NetworkProtocol = Literal["TCP", "UDP", "SCTP"]
SecretsAs = Literal["env", "files"]
RetryCondition = Literal["connect-failure", "gateway-error", "5xx", "reset"]
assert get_args(RetryCondition) == RETRY_CONDITIONS
