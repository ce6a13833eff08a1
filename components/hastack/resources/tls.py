"""Certificate sources for an app's Ingress: cert-manager, an existing Secret, or self-signed (dev)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apiextensions import CustomResource

from hastack.config import AppConfig, TlsConfig
from hastack.resources.labels import common_labels

CERT_MANAGER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"
EXTERNAL_TLS_SECRETS_ANNOTATION = "hastack.io/external-tls-secrets"
"""Names the TLS Secrets an Ingress presents that are made outside the stack (the pack's
ingress-tls-coverage reads it): `tls.mode: secret` declares its Secret so."""
SELF_SIGNED_VALIDITY_HOURS = 24 * 90


@dataclass(frozen=True)
class TlsBinding:
    """The Secret the Ingress presents, plus the Ingress annotations that make it exist."""

    secret_name: pulumi.Input[str]
    annotations: dict[str, str] = field(default_factory=dict)
    """On the stable Ingress only (a canary twin must not ask cert-manager for the Secret again)."""
    every_track: dict[str, str] = field(default_factory=dict)
    """On the stable Ingress and its canary twin alike."""


def cert_manager_secret_name(app: AppConfig) -> str:
    """Fixed, so the Certificate cert-manager creates from the annotation is found again after replacement."""
    return f"{app.name}-tls"


def tls_binding(
    app: AppConfig,
    hosts: list[str],
    source: TlsConfig,
    namespace: pulumi.Input[str],
    parent: pulumi.Resource,
) -> TlsBinding:
    """Chooses the certificate source configured for the stack."""
    if source.mode == "cert-manager":
        assert source.issuer is not None  # guaranteed by config validation
        return TlsBinding(cert_manager_secret_name(app), {CERT_MANAGER_ISSUER_ANNOTATION: source.issuer})
    if source.mode == "secret":
        assert source.secret_name is not None  # guaranteed by config validation
        return TlsBinding(
            source.secret_name, every_track={EXTERNAL_TLS_SECRETS_ANNOTATION: source.secret_name}
        )
    return TlsBinding(self_signed_secret(app, hosts, namespace, parent).metadata.name)


def self_signed_secret(
    app: AppConfig, hosts: list[str], namespace: pulumi.Input[str], parent: pulumi.Resource
) -> k8s.core.v1.Secret:
    """A pulumi-tls key and certificate for the app's hosts, stored as a kubernetes.io/tls Secret."""
    import pulumi_tls as tls  # here: only self-signed apps pay its import

    child = pulumi.ResourceOptions(parent=parent)
    key = tls.PrivateKey(f"{app.name}-tls", algorithm="ECDSA", ecdsa_curve="P256", opts=child)
    certificate = tls.SelfSignedCert(
        f"{app.name}-tls",
        private_key_pem=key.private_key_pem,
        subject={"common_name": hosts[0], "organization": "hastack self-signed"},
        dns_names=hosts,
        validity_period_hours=SELF_SIGNED_VALIDITY_HOURS,
        early_renewal_hours=24 * 30,
        allowed_uses=["key_encipherment", "digital_signature", "server_auth"],
        opts=child,
    )
    return k8s.core.v1.Secret(
        f"{app.name}-tls",
        metadata={"namespace": namespace, "labels": common_labels(app)},
        type="kubernetes.io/tls",
        string_data=pulumi.Output.secret({"tls.crt": certificate.cert_pem, "tls.key": key.private_key_pem}),
        opts=child,
    )


def cert_manager_certificate(
    app: AppConfig, hosts: list[str], issuer: str, namespace: pulumi.Input[str], parent: pulumi.Resource
) -> CustomResource:
    """The Certificate cert-manager's ingress-shim would make from an Ingress annotation, for routes it
    does not read (Traefik's IngressRoute): same Secret name, the app's hosts, the stack's ClusterIssuer."""
    return CustomResource(
        f"{app.name}-tls",
        api_version="cert-manager.io/v1",
        kind="Certificate",
        metadata={"namespace": namespace, "labels": common_labels(app)},
        spec={
            "secretName": cert_manager_secret_name(app),
            "dnsNames": hosts,
            "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": issuer},
        },
        opts=pulumi.ResourceOptions(parent=parent),
    )
