"""`ingress-tls-coverage`: Every Ingress host is covered by a TLS entry whose secret the stack provides."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack.resources.tls import EXTERNAL_TLS_SECRETS_ANNOTATION
from hastack_policy.objects import K8sObject, host_covered, kinds
from hastack_policy.rule import Rule
from hastack_policy.stack_index import Finding, StackIndex, build_index, each_subject
from hastack_policy.values import UnknownValueError, as_dict, as_list, known

CERT_MANAGER_ANNOTATIONS = ("cert-manager.io/cluster-issuer", "cert-manager.io/issuer")

LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"

CERTIFICATE_ANNOTATIONS = (
    "alb.ingress.kubernetes.io/certificate-arn",
    "networking.gke.io/pre-shared-cert",
    "networking.gke.io/managed-certificates",
)
"""Annotations by which an Ingress names a certificate its (cloud) controller terminates TLS with."""

EXTERNAL_SECRET_ANNOTATION = EXTERNAL_TLS_SECRETS_ANNOTATION
"""Ingress annotation listing (comma-separated) TLS secret names managed outside the stack."""


def provided_secrets(index: StackIndex) -> tuple[set[tuple[str, str]], bool]:
    """(namespace, name) of every TLS Secret the stack makes: Secrets, cert-manager Certificates, and those
    an annotated Ingress asks cert-manager for; and whether one of them has a name not known yet."""
    secrets: set[tuple[str, str]] = set()
    unknown_secret = False
    for secret in index.of_kind("Secret", ""):
        try:
            secrets.add((secret.namespace, secret.obj_name))
        except UnknownValueError:
            unknown_secret = True
    for certificate in index.of_kind("Certificate", "cert-manager.io"):
        try:
            secrets.add((certificate.namespace, str(known(certificate.spec.get("secretName")))))
        except UnknownValueError:
            unknown_secret = True
    for requester in index.of_kind("Ingress", "networking.k8s.io"):
        try:  # cert-manager makes the secrets an annotated Ingress asks for; a canary twin may share them
            annotations = as_dict(requester.metadata.get("annotations"))
            if any(annotations.get(a) for a in CERT_MANAGER_ANNOTATIONS):
                for entry in as_list(requester.spec.get("tls")):
                    secrets.add((requester.namespace, str(known(as_dict(entry).get("secretName")))))
        except UnknownValueError:
            unknown_secret = True
    return secrets, unknown_secret


EXTERNAL_SECRETS_CONFIG = {
    "type": "array",
    "items": {"type": "string"},
    "default": [],
    "description": "TLS secret names ('name' or 'namespace/name') managed outside the stack",
}


def ingress_tls_coverage(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """Every host is served over TLS with a certificate secret the stack provides (or is told about).

    A secret another Ingress of the namespace asks cert-manager for counts as provided. An entry
    without secretName is valid for ingress classes that bring their own certificate (configured),
    and an Ingress that names its certificate in a controller annotation needs no spec.tls at all.
    """
    index = build_index(objs)
    secrets, unknown_secret = provided_secrets(index)
    external = [str(s) for s in cfg["externalSecrets"]]
    terminating = {str(c) for c in cfg["tlsWithoutSecretClasses"]}
    certificate_annotations = [str(a) for a in cfg["certificateAnnotations"]]

    def check(ingress: K8sObject) -> Iterator[Finding]:
        spec = ingress.spec
        annotations = as_dict(ingress.metadata.get("annotations"))
        if any(known(annotations.get(a)) for a in certificate_annotations):
            return  # the Ingress names the certificate its controller serves for every host
        ingress_class = known(spec.get("ingressClassName")) or known(annotations.get(LEGACY_CLASS_ANNOTATION))
        cert_manager = any(annotations.get(a) for a in CERT_MANAGER_ANNOTATIONS)
        annotated = {
            s.strip()
            for s in str(known(annotations.get(EXTERNAL_SECRET_ANNOTATION)) or "").split(",")
            if s.strip()
        }
        tls = [as_dict(t) for t in as_list(spec.get("tls"))]
        for i, rule in enumerate(as_list(spec.get("rules"))):
            host = known(as_dict(rule).get("host"))
            if not host:
                if not any(not as_list(t.get("hosts")) for t in tls):
                    yield (
                        ingress.urn,
                        f"{ingress.display()} spec.rules[{i}] has no host, so it is served over plain HTTP: "
                        "set a host and a spec.tls entry covering it",
                    )
                continue
            entries = [t for t in tls if host_covered(host, [str(known(h)) for h in as_list(t.get("hosts"))])]
            if not entries:
                yield (
                    ingress.urn,
                    f"{ingress.display()} host {host} is not covered by any spec.tls entry: add "
                    "it to spec.tls[].hosts "
                    "with a secretName",
                )
        for j, entry in enumerate(tls):
            secret_name = known(entry.get("secretName"))
            if not secret_name and ingress_class in terminating:
                continue  # the controller supplies the certificate for the entry's hosts itself
            if not secret_name:
                yield (
                    ingress.urn,
                    f"{ingress.display()} spec.tls[{j}] has no secretName: name the certificate Secret, or, "
                    f"if ingress class {ingress_class or '(none)'} supplies certificates itself, list it in "
                    "this rule's tlsWithoutSecretClasses config",
                )
                continue
            namespace = ingress.namespace
            if (
                (namespace, secret_name) in secrets
                or cert_manager
                or secret_name in annotated
                or secret_name in external
                or f"{namespace}/{secret_name}" in external
                or unknown_secret
            ):
                continue
            yield (
                ingress.urn,
                f"{ingress.display()} spec.tls[{j}].secretName {secret_name} is not created by this stack "
                f"(no Secret or cert-manager Certificate {namespace}/{secret_name}, no "
                "cert-manager.io issuer "
                "annotation): add one, or list it in this rule's externalSecrets config",
            )

    yield from each_subject(index.of_kind("Ingress", "networking.k8s.io"), check)


RULE = Rule(
    id="ingress-tls-coverage",
    tier="hardening",
    description="Every Ingress host is covered by a TLS entry whose secret the stack provides.",
    severity="high",
    remediation=(
        "Add each host to spec.tls[].hosts with a secretName created in the stack (Secret, cert-manager "
        "Certificate or issuer annotation); list secrets managed elsewhere in externalSecrets."
    ),
    category="security",
    default_enforcement="mandatory",
    config={
        "externalSecrets": EXTERNAL_SECRETS_CONFIG,
        "tlsWithoutSecretClasses": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": (
                "ingress classes whose controller supplies the certificate itself (e.g. alb with ACM "
                "certificates found by host, or a controller's default certificate): their spec.tls "
                "entries need no secretName"
            ),
        },
        "certificateAnnotations": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(CERTIFICATE_ANNOTATIONS),
            "description": (
                "Ingress annotations naming a certificate the controller serves for every host "
                "(AWS ACM, GKE pre-shared or managed): an Ingress carrying one needs no spec.tls"
            ),
        },
    },
    stack_check=ingress_tls_coverage,
    kinds=kinds("Secret", "Certificate", "Ingress"),
)
