"""The Deployment spec: HA rollout, probes, resources, PSS restricted, spread and graceful stop."""

from __future__ import annotations

from typing import Any

from hastack.resources.workload import deployment_spec
from tests.conftest import minimal_config, parsed


def spec_for(environment: str = "dev", **app: Any) -> dict[str, Any]:
    stack = parsed(minimal_config(environment, **app))
    return deployment_spec(
        stack.apps[0],
        stack.profile,
        service_account_name="sa",
        config_map_name="cm",
        secret_name="sec",
        config_checksum="abc",
    )


def test_rolling_update_never_drops_capacity() -> None:
    spec = spec_for()
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"},
    }
    assert spec["replicas"] == 2


def test_hpa_owned_deployment_sets_no_replicas() -> None:
    spec = spec_for(
        replicas=None, autoscaling={"minReplicas": 2, "maxReplicas": 5, "targetCPUUtilization": 60}
    )
    assert "replicas" not in spec


def test_selector_is_stable_and_versionless() -> None:
    spec = spec_for(image="ghcr.io/acme/web:2.0.0")
    assert spec["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "web",
        "app.kubernetes.io/instance": "web",
    }
    labels = spec["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/version"] == "2.0.0"
    assert all(labels[k] == v for k, v in spec["selector"]["matchLabels"].items())


def test_three_distinct_probes_on_the_named_port() -> None:
    container = spec_for()["template"]["spec"]["containers"][0]
    readiness, liveness, startup = (container[k] for k in ("readinessProbe", "livenessProbe", "startupProbe"))
    assert readiness["httpGet"] == {"path": "/readyz", "port": "http"}
    assert liveness["httpGet"] == {"path": "/livez", "port": "http"}
    assert startup["httpGet"]["path"] == "/readyz"
    assert startup["periodSeconds"] * startup["failureThreshold"] == 150
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]


def test_requests_and_limits_present() -> None:
    resources = spec_for()["template"]["spec"]["containers"][0]["resources"]
    assert resources == {
        "requests": {"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "128Mi"},
        "limits": {"cpu": "1", "memory": "256Mi", "ephemeral-storage": "1Gi"},
    }


def test_priority_class_only_when_named() -> None:
    assert "priorityClassName" not in spec_for("prod")["template"]["spec"]
    assert (
        spec_for("prod", priorityClassName="web-high")["template"]["spec"]["priorityClassName"] == "web-high"
    )


def test_pod_security_standards_restricted() -> None:
    pod = spec_for()["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["readOnlyRootFilesystem"] is True
    assert pod["automountServiceAccountToken"] is False
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]


def test_graceful_stop_outlasts_the_pre_stop_pause() -> None:
    pod = spec_for(shutdown={"preStopSeconds": 15, "terminationGracePeriodSeconds": 60})["template"]["spec"]
    assert pod["containers"][0]["lifecycle"] == {"preStop": {"sleep": {"seconds": 15}}}
    assert pod["terminationGracePeriodSeconds"] == 60


def test_no_pre_stop_hook_when_pause_is_zero() -> None:
    container = spec_for(shutdown={"preStopSeconds": 0, "terminationGracePeriodSeconds": 30})["template"][
        "spec"
    ]["containers"][0]
    assert "lifecycle" not in container


def test_spread_dev_is_soft_over_hosts_only() -> None:
    constraints = spec_for()["template"]["spec"]["topologySpreadConstraints"]
    assert [(c["topologyKey"], c["whenUnsatisfiable"]) for c in constraints] == [
        ("kubernetes.io/hostname", "ScheduleAnyway")
    ]


def test_spread_prod_is_hard_over_zones_and_soft_over_hosts() -> None:
    constraints = spec_for("prod")["template"]["spec"]["topologySpreadConstraints"]
    assert [(c["topologyKey"], c["whenUnsatisfiable"], c.get("minDomains")) for c in constraints] == [
        ("topology.kubernetes.io/zone", "DoNotSchedule", 3),
        ("kubernetes.io/hostname", "ScheduleAnyway", None),
    ]
    for constraint in constraints:
        assert constraint["labelSelector"] == {"matchLabels": spec_for("prod")["selector"]["matchLabels"]}
        assert constraint["matchLabelKeys"] == ["pod-template-hash"]


def test_spread_staging_is_soft_over_zones_without_min_domains() -> None:
    """Kubernetes accepts minDomains only with DoNotSchedule: staging's soft zone spread has none."""
    constraints = spec_for("staging")["template"]["spec"]["topologySpreadConstraints"]
    assert [(c["topologyKey"], c["whenUnsatisfiable"]) for c in constraints] == [
        ("topology.kubernetes.io/zone", "ScheduleAnyway"),
        ("kubernetes.io/hostname", "ScheduleAnyway"),
    ]
    assert all("minDomains" not in c for c in constraints)


def test_min_domains_without_a_hard_spread_is_refused_in_the_profile() -> None:
    import pytest

    from hastack.config.profiles import EnvironmentProfile

    with pytest.raises(ValueError, match="DoNotSchedule"):
        EnvironmentProfile(
            min_replicas=2,
            zone_spread="ScheduleAnyway",
            zone_min_domains=3,
            require_digest=False,
            tls_modes=("secret",),
            min_available_during_disruption=1,
            require_startup_probe=False,
            hardening="advisory",
        )


def test_env_comes_from_config_map_and_secret_and_checksum_annotates_template() -> None:
    spec = spec_for()
    assert spec["template"]["spec"]["containers"][0]["envFrom"] == [
        {"configMapRef": {"name": "cm"}},
        {"secretRef": {"name": "sec"}},
    ]
    assert spec["template"]["metadata"]["annotations"] == {"hastack.dev/config-checksum": "abc"}
