"""Canary releases: a second Deployment with its own Service, PDB and HPA and the same HA and
security defaults, split by weight at the ingress (ingress-nginx canary annotations) or the gateway.
"""

from __future__ import annotations

from typing import Any

import pytest

from hastack.resources.canary import releases, traffic_split
from hastack.resources.labels import selector_labels
from tests.conftest import minimal_config, objects, parsed, run_config

CANARY_IMAGE = "ghcr.io/acme/web:1.1.0"
NGINX = "nginx.ingress.kubernetes.io/"


def with_canary(weight: int = 10, **app: Any) -> dict[str, Any]:
    return minimal_config(canary={"image": CANARY_IMAGE, "weight": weight}, **app)


def by_instance(manifests: list[dict[str, Any]], instance: str) -> dict[str, Any]:
    (found,) = [m for m in manifests if m["metadata"]["labels"]["app.kubernetes.io/instance"] == instance]
    return found


def test_releases_and_split() -> None:
    app = parsed(with_canary(7)).apps[0]
    (stable_track, stable), (canary_track, canary) = releases(app)
    assert (stable_track, canary_track) == ("stable", "canary")
    assert stable.image == "ghcr.io/acme/web:1.0.0" and canary.image == CANARY_IMAGE
    assert canary.port == stable.port and canary.probes == stable.probes
    assert traffic_split(app) == {"stable": 93, "canary": 7}
    assert traffic_split(parsed(minimal_config()).apps[0]) is None


def test_tracks_never_select_each_others_pods() -> None:
    app = parsed(with_canary()).apps[0]
    stable, canary = selector_labels(app), selector_labels(app, "canary")
    assert stable["app.kubernetes.io/name"] == canary["app.kubernetes.io/name"] == "web"
    assert stable != canary
    assert not all(canary.get(k) == v for k, v in stable.items())


def test_canary_deployment_gets_the_same_ha_and_security_defaults() -> None:
    run = run_config(
        with_canary(
            replicas=None, autoscaling={"minReplicas": 2, "maxReplicas": 6, "targetCPUUtilization": 70}
        )
    )
    deployments = objects(run, "Deployment")
    stable, canary = by_instance(deployments, "web"), by_instance(deployments, "web-canary")
    stable_pod, canary_pod = stable["spec"]["template"]["spec"], canary["spec"]["template"]["spec"]
    assert canary_pod["containers"][0]["image"] == CANARY_IMAGE
    for key in ("securityContext", "automountServiceAccountToken", "terminationGracePeriodSeconds"):
        assert canary_pod[key] == stable_pod[key]
    for key in ("readinessProbe", "livenessProbe", "startupProbe", "securityContext", "resources", "envFrom"):
        assert canary_pod["containers"][0][key] == stable_pod["containers"][0][key]
    assert canary["spec"]["strategy"] == stable["spec"]["strategy"]
    assert "replicas" not in canary["spec"]
    canary_labels = canary["spec"]["template"]["metadata"]["labels"]
    assert canary["spec"]["selector"]["matchLabels"] == selector_labels(
        parsed(with_canary()).apps[0], "canary"
    )
    assert canary_labels["app.kubernetes.io/version"] == "1.1.0"
    spread = canary_pod["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"]
    assert spread["app.kubernetes.io/instance"] == "web-canary"
    hpas = objects(run, "HorizontalPodAutoscaler")
    assert by_instance(hpas, "web-canary")["spec"]["scaleTargetRef"]["name"] == canary["metadata"]["name"]
    pdbs = objects(run, "PodDisruptionBudget")
    assert by_instance(pdbs, "web-canary")["spec"]["selector"]["matchLabels"][
        "app.kubernetes.io/instance"
    ] == ("web-canary")
    services = objects(run, "Service")
    assert by_instance(services, "web-canary")["metadata"]["name"] == "web-canary"
    # The namespace's default deny selects every pod (empty podSelector); the app's policy is the other.
    (policy,) = [p for p in objects(run, "NetworkPolicy") if p["spec"]["podSelector"]]
    assert policy["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "web"}}


@pytest.mark.parametrize("weight", [0, 10, 100])
def test_ingress_path_adds_a_weighted_nginx_canary_ingress(weight: int) -> None:
    run = run_config(with_canary(weight))
    ingresses = objects(run, "Ingress")
    stable, canary = by_instance(ingresses, "web"), by_instance(ingresses, "web-canary")
    assert NGINX + "canary" not in stable["metadata"]["annotations"]
    assert canary["metadata"]["annotations"] == {
        NGINX + "canary": "true",
        NGINX + "canary-weight": str(weight),
        NGINX + "canary-weight-total": "100",
    }
    assert canary["spec"]["rules"][0]["host"] == stable["spec"]["rules"][0]["host"]
    assert canary["spec"]["tls"] == stable["spec"]["tls"]
    backend = canary["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "web-canary", "port": {"name": "http"}}


def test_cert_manager_is_asked_once_for_the_shared_secret() -> None:
    run = run_config(
        {**with_canary(), "ingress": {"className": "nginx", "tls": {"mode": "cert-manager", "issuer": "le"}}}
    )
    ingresses = objects(run, "Ingress")
    assert by_instance(ingresses, "web")["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "le"
    assert (
        "cert-manager.io/cluster-issuer"
        not in by_instance(ingresses, "web-canary")["metadata"]["annotations"]
    )


def test_without_canary_nothing_extra_is_created() -> None:
    run = run_config(minimal_config())
    assert len(objects(run, "Deployment")) == 1
    assert len(objects(run, "Ingress")) == 1
    assert "canaryDeployment" not in run.outputs["apps"]["web"]["resourceNames"]
