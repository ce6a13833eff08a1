"""Service discovery and the Ingress: TLS, backends and controller annotations."""

from __future__ import annotations

from hastack.resources.ingress import ingress_spec, public_urls
from hastack.resources.service import service_dns_name, service_spec
from hastack.resources.tls import TlsBinding
from tests.conftest import minimal_config, objects, parsed, run_config


def test_service_is_cluster_ip_with_named_target_port() -> None:
    app = parsed(minimal_config()).apps[0]
    assert service_spec(app) == {
        "type": "ClusterIP",
        "selector": {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"},
        "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
    }
    assert service_dns_name(app, "shop", "cluster.local") == "web.shop.svc.cluster.local"


def test_ingress_covers_every_host_with_tls() -> None:
    app = parsed(
        minimal_config(ingress={"hosts": ["a.example.com", "b.example.com"], "paths": ["/", "/api"]})
    ).apps[0]
    spec = ingress_spec(app, "nginx", TlsBinding("web-tls"), "web")
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [{"hosts": ["a.example.com", "b.example.com"], "secretName": "web-tls"}]
    assert [r["host"] for r in spec["rules"]] == ["a.example.com", "b.example.com"]
    paths = spec["rules"][0]["http"]["paths"]
    assert [(p["path"], p["pathType"]) for p in paths] == [("/", "Prefix"), ("/api", "Prefix")]
    assert paths[0]["backend"] == {"service": {"name": "web", "port": {"name": "http"}}}
    assert public_urls(app) == [
        "https://a.example.com/",
        "https://a.example.com/api",
        "https://b.example.com/",
        "https://b.example.com/api",
    ]


def test_program_ingress_carries_profile_and_cert_manager_annotations() -> None:
    raw = minimal_config(
        "prod",
        ingress={
            "hosts": ["shop.example.com"],
            "loadBalancing": "ewma",
            "rateLimit": {"rps": 10, "burst": 20},
        },
    )
    run = run_config(raw, "prod")
    (ingress,) = objects(run, "Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["cert-manager.io/cluster-issuer"] == "letsencrypt"
    assert annotations["nginx.ingress.kubernetes.io/load-balance"] == "ewma"
    assert annotations["nginx.ingress.kubernetes.io/limit-rps"] == "10"
    assert annotations["nginx.ingress.kubernetes.io/limit-burst-multiplier"] == "2"
    assert ingress["spec"]["tls"] == [{"hosts": ["shop.example.com"], "secretName": "web-tls"}]
    (service,) = objects(run, "Service")
    assert (
        ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
        == service["metadata"]["name"]
    )


def test_existing_secret_mode_uses_the_named_secret_and_creates_none() -> None:
    raw = minimal_config("prod")
    raw["ingress"] = {"className": "haproxy", "tls": {"mode": "secret", "secretName": "wildcard-tls"}}
    run = run_config(raw, "prod")
    (ingress,) = objects(run, "Ingress")
    assert ingress["spec"]["tls"][0]["secretName"] == "wildcard-tls"
    assert ingress["metadata"]["annotations"]["haproxy.org/ssl-redirect"] == "true"
    assert [s for s in objects(run, "Secret") if s["type"] == "kubernetes.io/tls"] == []
    # declared as made outside the stack, so the pack's ingress-tls-coverage accepts it (found by
    # the agreement property test: config accepted the mode, the pack refused it in staging and prod)
    assert ingress["metadata"]["annotations"]["hastack.io/external-tls-secrets"] == "wildcard-tls"


def test_existing_secret_is_declared_on_the_canary_ingress_too() -> None:
    raw = minimal_config("prod", canary={"image": "ghcr.io/acme/web@sha256:" + "b" * 64, "weight": 10})
    raw["ingress"]["tls"] = {"mode": "secret", "secretName": "wildcard-tls"}
    ingresses = objects(run_config(raw, "prod"), "Ingress")
    assert len(ingresses) == 2
    for ingress in ingresses:
        assert ingress["metadata"]["annotations"]["hastack.io/external-tls-secrets"] == "wildcard-tls"
        assert "cert-manager.io/cluster-issuer" not in ingress["metadata"]["annotations"]


def test_app_without_ingress_gets_no_ingress() -> None:
    raw = minimal_config()
    raw["apps"][0].pop("ingress")
    run = run_config(raw)
    assert objects(run, "Ingress") == []
    assert len(objects(run, "Service")) == 1


def test_ingress_await_is_skipped_only_when_asked() -> None:
    raw = minimal_config()
    assert "pulumi.com/skipAwait" not in objects(run_config(raw), "Ingress")[0]["metadata"]["annotations"]
    raw["ingress"]["awaitLoadBalancer"] = False
    (ingress,) = objects(run_config(raw), "Ingress")
    assert ingress["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"
