"""The controller profile table: annotations per family, and what each family refuses."""

from __future__ import annotations

import pytest

from hastack.controllers import (
    INGRESS_CONTROLLERS,
    LOAD_BALANCING_ALGORITHMS,
    RateLimit,
    Resilience,
    ingress_controller_for,
)


def test_profiles_are_found_by_class_or_name() -> None:
    nginx = ingress_controller_for("nginx")
    assert nginx is not None and nginx.name == "ingress-nginx"
    haproxy = ingress_controller_for("custom-class", "haproxy")
    assert haproxy is not None and haproxy.name == "haproxy"
    assert ingress_controller_for("contour") is None


def test_every_profile_redirects_http_to_https_and_supports_round_robin() -> None:
    for profile in INGRESS_CONTROLLERS:
        annotations = profile.ingress_annotations("round-robin", None)
        assert any("ssl-redirect" in key and value == "true" for key, value in annotations.items())
        assert set(profile.load_balancing) <= set(LOAD_BALANCING_ALGORITHMS)


def test_nginx_annotations() -> None:
    nginx = ingress_controller_for("nginx")
    assert nginx is not None
    annotations = nginx.ingress_annotations("ewma", RateLimit(rps=50, burst=100, connections=20))
    prefix = "nginx.ingress.kubernetes.io/"
    assert annotations[prefix + "load-balance"] == "ewma"
    assert annotations[prefix + "limit-rps"] == "50"
    assert annotations[prefix + "limit-burst-multiplier"] == "2"
    assert annotations[prefix + "limit-connections"] == "20"
    assert annotations[prefix + "force-ssl-redirect"] == "true"
    hashed = nginx.ingress_annotations("consistent-hash", None)
    assert hashed[prefix + "upstream-hash-by"] == "$binary_remote_addr"
    assert prefix + "load-balance" not in hashed


def test_haproxy_annotations() -> None:
    haproxy = ingress_controller_for("haproxy")
    assert haproxy is not None
    annotations = haproxy.ingress_annotations("least-connections", RateLimit(rps=30))
    assert annotations["haproxy.org/load-balance"] == "leastconn"
    assert annotations["haproxy.org/rate-limit-requests"] == "30"
    assert annotations["haproxy.org/rate-limit-period"] == "1s"


@pytest.mark.parametrize(
    ("class_name", "algorithm", "limit", "key", "fragment"),
    [
        ("nginx", "least-connections", None, "loadBalancing", "supports round-robin, ewma, consistent-hash"),
        (
            "haproxy",
            "ewma",
            None,
            "loadBalancing",
            "supports round-robin, least-connections, consistent-hash",
        ),
        ("nginx", "round-robin", RateLimit(10, 15), "rateLimit.burst", "whole multiple of rps"),
        ("haproxy", "round-robin", RateLimit(10, 20), "rateLimit.burst", "no burst"),
        (
            "haproxy",
            "round-robin",
            RateLimit(10, None, 5),
            "rateLimit.connections",
            "no per-client connection",
        ),
    ],
)
def test_unsupported_combinations_name_what_is_supported(
    class_name: str, algorithm: str, limit: RateLimit | None, key: str, fragment: str
) -> None:
    profile = ingress_controller_for(class_name)
    assert profile is not None
    problems = profile.problems(algorithm, limit)
    assert [p.key for p in problems] == [key]
    assert fragment in problems[0].message


def test_supported_combination_has_no_problem() -> None:
    profile = ingress_controller_for("nginx")
    assert profile is not None
    assert profile.problems("round-robin", RateLimit(10, 30, 5)) == []


def test_traefik_reads_the_nginx_annotations_it_serves_and_turns_its_own_retries_off() -> None:
    """Traefik's ingress-nginx provider retries `error timeout` three times when no proxy-next-upstream
    is set, which would hide a failing pod nobody asked to retry; asked-for retries pass through."""
    traefik = ingress_controller_for("traefik")
    assert traefik is not None and traefik.name == "traefik" and traefik.default_namespace == "traefik"
    prefix = "nginx.ingress.kubernetes.io/"
    plain = traefik.ingress_annotations("round-robin", RateLimit(rps=5, burst=10), Resilience())
    assert plain[prefix + "proxy-next-upstream"] == "off"
    assert plain[prefix + "limit-rps"] == "5" and plain[prefix + "limit-burst-multiplier"] == "2"
    assert prefix + "load-balance" not in plain  # Traefik's weighted round robin is its default
    retried = traefik.ingress_annotations(
        "round-robin", None, Resilience(retry_attempts=2, retry_on=("connect-failure",))
    )
    assert retried[prefix + "proxy-next-upstream"] == "error timeout"
    assert retried[prefix + "proxy-next-upstream-tries"] == "3"
    hashed = traefik.ingress_annotations("consistent-hash", None)
    assert hashed[prefix + "upstream-hash-by"] == "$remote_addr"  # it has no $binary_remote_addr
    assert traefik.canary_annotations is not None


def test_traefik_refuses_what_its_ingress_nginx_provider_cannot_do() -> None:
    traefik = ingress_controller_for("traefik")
    assert traefik is not None
    keys = {p.key for p in traefik.problems("ewma", None, Resilience(consecutive_errors=5))}
    assert keys == {"loadBalancing", "backendHealth"}
    assert [p.key for p in traefik.problems("least-connections", None)] == ["loadBalancing"]
