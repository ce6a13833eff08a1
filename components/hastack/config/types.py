"""Constrained scalar types of the stack config: names, hosts, paths, ports, quantities.

Each validator's message says what is allowed; pydantic adds the key path and the value.
"""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, Field

from hastack.controllers import (
    GATEWAY_IMPLEMENTATIONS,
    INGRESS_CONTROLLERS,
    LOAD_BALANCING_ALGORITHMS,
    RETRY_CONDITIONS,
    ROUTE_KINDS,
)

PROJECT = "hastack"
"""Config namespace: keys are `hastack:<key>` in the stack files."""

Environment = Literal["dev", "staging", "prod"]
TlsMode = Literal["cert-manager", "secret", "self-signed"]
LoadBalancing = Literal["round-robin", "least-connections", "ewma", "consistent-hash"]
assert get_args(LoadBalancing) == LOAD_BALANCING_ALGORITHMS
RouteKind = Literal["Ingress", "IngressRoute"]
assert get_args(RouteKind) == ROUTE_KINDS
Exposure = Literal["ingress", "gateway"]
GatewayImplementation = Literal["envoy-gateway", "traefik"]
assert get_args(GatewayImplementation) == GATEWAY_IMPLEMENTATIONS

_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_HOST = re.compile(r"^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
TAG = re.compile(r":([\w][\w.-]{0,127})$")
_PERCENT = re.compile(r"^(\d{1,3})%$")
RESERVED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


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
    if value in RESERVED_NAMESPACES:
        raise ValueError(f"must not be a shared system namespace ({', '.join(RESERVED_NAMESPACES)})")
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


_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_BYTES_FORM = (
    "quantity in bytes, plain or with a decimal (k, M, G, T) or binary (Ki, Mi, Gi, Ti) suffix, such as "
    "512Mi, 1Gi, 500M or 1048576"
)
QUANTITY_FORMS: dict[str, str] = {
    "cpu": "a cpu quantity in cores or millicores, such as 0.5, 2 or 250m",
    "memory": f"a memory {_BYTES_FORM}",
    "ephemeral-storage": f"an ephemeral-storage {_BYTES_FORM}",
}
"""What each resource's quantity may look like; config validation and the pack both say this."""
_UNIT_SUFFIXES: dict[str, frozenset[str]] = {
    "cpu": frozenset({"", "m"}),
    "memory": frozenset({"", "k", "M", "G", "T", "P", "E", *_BINARY}),
    "ephemeral-storage": frozenset({"", "k", "M", "G", "T", "P", "E", *_BINARY}),
}
_UNIT = {"cpu": Decimal("0.001"), "memory": Decimal(1), "ephemeral-storage": Decimal(1)}
"""The smallest amount Kubernetes accounts: a millicore, a byte."""


def quantity_text(value: Any) -> Any:
    """Numbers (YAML `1`, or the pack's `1.0` over protobuf) as the quantity text they stand for."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return format(Decimal(str(value)).normalize(), "f")


def parse_quantity(text: str, resource: str | None = None) -> Decimal:
    """A Kubernetes resource quantity in base units (cores, bytes), for comparing requests with limits.

    With `resource` (cpu, memory, ephemeral-storage) only the units that make sense for it pass:
    `512m` of memory is 0.512 bytes and `1Gi` of CPU a billion cores, both typos.
    """
    match = _QUANTITY.match(text)
    forms = QUANTITY_FORMS.get(resource or "", "a Kubernetes quantity such as 250m, 1, 512Mi or 1Gi")
    if not match:
        raise ValueError(f"must be {forms}")
    number, suffix = Decimal(match.group(1)), match.group(2) or ""
    try:
        value = number * (
            Decimal(2) ** _BINARY[suffix] if suffix in _BINARY else Decimal(10) ** _DECIMAL[suffix]
        )
    except InvalidOperation as error:  # pragma: no cover - the regex admits only decimals
        raise ValueError(str(error)) from error
    if resource in _UNIT_SUFFIXES:
        if suffix not in _UNIT_SUFFIXES[resource]:
            hint = " (m is milli: a thousandth of a byte)" if suffix == "m" else ""
            raise ValueError(f"must be {forms}; the unit {suffix!r} makes no sense for {resource}{hint}")
        unit = _UNIT[resource]
        if value % unit:
            what = "millicores" if resource == "cpu" else "bytes"
            raise ValueError(f"must be a whole number of {what}: {forms}")
    return value


def quantity_problem(resource: str, value: Any) -> str | None:
    """Why `value` is not a sensible quantity of `resource` (positive, in its units), or None."""
    try:
        amount = parse_quantity(str(quantity_text(value)), resource)
    except ValueError as error:
        return str(error)
    return None if amount > 0 else "must be greater than zero"


def _resource_quantity(resource: str) -> AfterValidator:
    def check(value: str) -> str:
        problem = quantity_problem(resource, value)
        if problem is not None:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


def _int_or_percent(value: int | str) -> int | str:
    if isinstance(value, str):
        match = _PERCENT.match(value)
        if not match or not 0 <= int(match.group(1)) <= 100:
            raise ValueError("must be a whole number or a percentage between 0% and 100%")
    elif value < 0:
        raise ValueError("must not be negative")
    return value


def form(text: str) -> Any:
    """The allowed form of a type, in the words config errors use (`hastack.config.messages`)."""
    return Field(description=text)


DnsName = Annotated[
    str,
    AfterValidator(_dns1035),
    form("an app name: lower-case letters, digits and '-', starting with a letter, at most 40 characters"),
]
NamespaceName = Annotated[
    str,
    AfterValidator(namespace_name),
    form("a namespace: a DNS-1123 label (lower-case letters, digits, '-'), not default or kube-*"),
]
Hostname = Annotated[
    str, AfterValidator(_hostname), form("a fully qualified DNS name such as shop.example.com")
]
HttpPath = Annotated[str, AfterValidator(_http_path), form("an absolute URL path such as / or /api")]
EnvName = Annotated[str, AfterValidator(_env_name), form("an environment variable name such as DB_PASSWORD")]
CpuQuantity = Annotated[
    str, BeforeValidator(quantity_text), _resource_quantity("cpu"), form(QUANTITY_FORMS["cpu"])
]
MemoryQuantity = Annotated[
    str, BeforeValidator(quantity_text), _resource_quantity("memory"), form(QUANTITY_FORMS["memory"])
]
StorageQuantity = Annotated[
    str,
    BeforeValidator(quantity_text),
    _resource_quantity("ephemeral-storage"),
    form(QUANTITY_FORMS["ephemeral-storage"]),
]
IntOrPercent = Annotated[
    int | str,
    AfterValidator(_int_or_percent),
    form('a whole number such as 1, or a percentage such as "25%"'),
]
Percentage = Annotated[
    int, Field(ge=1, le=100, description="a whole number from 1 to 100 (percent, without %)")
]
Dns1123Label = Annotated[
    str, AfterValidator(dns1123_label), form("a DNS-1123 label (lower-case letters, digits, '-')")
]
Dns1123Subdomain = Annotated[
    str,
    AfterValidator(dns1123_subdomain),
    form("a DNS-1123 subdomain (lower-case letters, digits, '-', '.')"),
]
ClassName = Annotated[
    str,
    AfterValidator(namespace_name),
    form(
        "the IngressClass of the cluster's controller, one of "
        + ", ".join(f"{c} ({p.name})" for p in INGRESS_CONTROLLERS for c in p.class_names)
        + ", or another class with ingress.controller naming one of those profiles"
    ),
]
"""An IngressClass name: a DNS-1123 label, and never a shared system namespace's name."""
Port = Annotated[int, AfterValidator(port_number), form("a port number from 1024 to 65535")]
CanaryWeight = Annotated[int, AfterValidator(weight_percent), form("a whole number from 0 to 100 (percent)")]


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
    if not is_label_value(value):
        raise ValueError(
            "must be a Kubernetes label value: empty, or at most 63 letters, digits, '-', '_' or '.' "
            "that starts and ends with a letter or digit"
        )
    return value


def is_label_value(value: str) -> bool:
    """Whether `value` may stand as a Kubernetes label value (empty included)."""
    return not value or (len(value) <= 63 and bool(_LABEL_NAME.match(value)))


def _stack_name(value: str) -> str:
    if not value or not is_label_value(value):
        raise ValueError(
            "must be a stack name that is also a Kubernetes label value (the namespace carries it): "
            "1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
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


LabelKey = Annotated[str, AfterValidator(_label_key), form("a Kubernetes label key such as team")]
LabelValue = Annotated[str, AfterValidator(_label_value), form("a Kubernetes label value (text, quoted)")]
StackName = Annotated[
    str,
    AfterValidator(_stack_name),
    form("a stack name: 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"),
]
Cidr = Annotated[str, AfterValidator(_cidr), form("a CIDR block such as 10.20.0.0/16")]
NetworkPort = Annotated[int, Field(ge=1, le=65535, description="a port number from 1 to 65535")]
NetworkProtocol = Literal["TCP", "UDP", "SCTP"]
SecretsAs = Literal["env", "files"]
RetryCondition = Literal["connect-failure", "gateway-error", "5xx", "reset"]
assert get_args(RetryCondition) == RETRY_CONDITIONS
