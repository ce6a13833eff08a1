"""`ingressroute-tls`: Every Traefik IngressRoute terminates TLS with a Secret the stack provides, or only
redirects to HTTPS."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hastack_policy.objects import K8sObject, by_name, ingressroute_refs, kinds, of_kind
from hastack_policy.rule import Rule
from hastack_policy.rules.ingress_tls_coverage import EXTERNAL_SECRETS_CONFIG, provided_secrets
from hastack_policy.stack_index import Finding, build_index, each_subject
from hastack_policy.values import as_dict, as_list, known


def _redirects(middleware: K8sObject | None) -> bool:
    """A redirectScheme Middleware sending requests to https."""
    scheme = known(as_dict(middleware.spec.get("redirectScheme")).get("scheme")) if middleware else None
    return scheme == "https"


def ingressroute_tls(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """A route without `tls` serves its hosts in plain text unless a redirectScheme Middleware sends every
    request to HTTPS first; a `tls` without secretName or certResolver gets Traefik's default self-signed
    certificate, which no client trusts."""
    secrets, unknown_secret = provided_secrets(build_index(objs))
    middlewares, unknown_middleware = by_name(objs, "Middleware")
    external = {str(s) for s in cfg["externalSecrets"]}

    def check(route: K8sObject) -> Iterator[Finding]:
        tls = route.spec.get("tls")
        if tls is not None:
            tls = as_dict(tls)
            secret = known(tls.get("secretName"))
            if secret is None:
                if not known(tls.get("certResolver")):
                    yield (
                        route.urn,
                        f"{route.display()} spec.tls has neither secretName nor certResolver, so Traefik "
                        "serves its default self-signed certificate: name the certificate Secret",
                    )
                return
            namespace = route.namespace
            if (
                (namespace, secret) in secrets
                or unknown_secret
                or secret in external
                or f"{namespace}/{secret}" in external
            ):
                return
            yield (
                route.urn,
                f"{route.display()} spec.tls.secretName {secret} is not created by this stack (no Secret or "
                f"cert-manager Certificate {namespace}/{secret}): add one, or list it in this rule's "
                "externalSecrets config",
            )
            return
        if unknown_middleware:
            return
        redirected = {
            i for i, _, ref, _ in ingressroute_refs(route, "middlewares") if _redirects(middlewares.get(ref))
        }
        for i, entry in enumerate(as_dict(r) for r in as_list(route.spec.get("routes"))):
            if i not in redirected:
                yield (
                    route.urn,
                    f"{route.display()} spec.routes[{i}] ({known(entry.get('match'))}) is served over plain "
                    "HTTP: add spec.tls with a secretName, or a Middleware with redirectScheme: {scheme: "
                    "https} to the route",
                )

    yield from each_subject(of_kind(objs, "IngressRoute"), check)


RULE = Rule(
    id="ingressroute-tls",
    tier="hardening",
    description=(
        "Every Traefik IngressRoute terminates TLS with a Secret the stack provides, or only redirects to "
        "HTTPS."
    ),
    severity="high",
    remediation=(
        "Set spec.tls.secretName to a Secret or cert-manager Certificate of the stack (or a certResolver); "
        "on the plain-HTTP entry point, route through a redirectScheme https Middleware."
    ),
    category="security",
    default_enforcement="mandatory",
    config={"externalSecrets": EXTERNAL_SECRETS_CONFIG},
    stack_check=ingressroute_tls,
    kinds=kinds("Secret", "Certificate", "Ingress", "Middleware", "IngressRoute"),
)
