"""The committed stacks (dev, staging, prod), rendered under mocks: HA invariants, schemas, no leaked
secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from hastack_tools.dev.mockrun import MockRun, strip_secrets
from hastack_tools.dev.render import main as render_main
from hastack_tools.dev.render import render_groups
from tests.conftest import stack_file_config
from tests.stacks import crd_schema
from tests.stacks.invariants import violations

KUBERNETES_VERSIONS = ("1.31.0", "1.32.0", "1.33.0", "1.34.0")


def manifests_of(run: MockRun) -> list[dict[str, Any]]:
    return [m for items in render_groups(run).values() for m in items]


def test_stack_satisfies_ha_invariants(program_run: MockRun) -> None:
    assert violations(manifests_of(program_run)) == []


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_validates_strictly(program_run: MockRun, version: str) -> None:
    for item in manifests_of(program_run):
        if not crd_schema.is_custom_resource(item):
            kubernetes_validate.validate(item, version, strict=True)


def test_every_custom_resource_validates_against_its_crd(program_run: MockRun) -> None:
    known = {"v1", "apps/v1", "policy/v1", "autoscaling/v2", "networking.k8s.io/v1"}
    for item in manifests_of(program_run):
        if crd_schema.is_custom_resource(item):
            crd_schema.validate(item)
        else:
            assert item["apiVersion"] in known, f"{item['kind']} has no schema to validate against"


def test_schema_validation_would_catch_a_typo() -> None:
    """Guards the test above: strict validation really rejects an unknown field."""
    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"selectr": {}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.31.0", strict=True)


def test_no_generated_secret_value_appears_anywhere(program_run: MockRun, tmp_path: Path) -> None:
    secret_values = [
        strip_secrets(r.outputs[key], None)
        for r in program_run.resources
        for key in ("result", "bcryptHash", "privateKeyPem")
        if key in r.outputs
    ]
    assert secret_values, "the stack generates secrets; the check below must have something to look for"
    render_main(["--stack", program_run.stack, "--out", str(tmp_path)])
    written = "".join(p.read_text() for p in tmp_path.iterdir() if p.is_file())
    outputs = json.dumps(strip_secrets(program_run.outputs))
    for value in secret_values:
        assert value not in written
        assert value not in outputs
        for line in str(value).splitlines():
            if len(line) > 8:
                assert line not in written


def test_render_writes_one_file_per_component_with_integer_numbers(stack_name: str, tmp_path: Path) -> None:
    assert render_main(["--stack", stack_name, "--out", str(tmp_path)]) == 0
    files = sorted(p.name for p in tmp_path.glob("*.yaml"))
    namespace = stack_file_config(stack_name)["namespace"]
    assert files == sorted(["api.yaml", "web.yaml", f"{namespace}.yaml"])
    web = list(yaml.safe_load_all((tmp_path / "web.yaml").read_text()))
    deployment = next(m for m in web if m["kind"] == "Deployment")
    port = deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    assert port == 8080 and isinstance(port, int)
    assert json.loads((tmp_path / "outputs.json").read_text())["apps"]["web"]["servicePort"] == 80
    # a second render into the same folder replaces the first
    assert render_main(["--stack", stack_name, "--out", str(tmp_path)]) == 0


def test_render_refuses_a_foreign_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert render_main(["--stack", "dev", "--out", str(tmp_path)]) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_render_reports_config_errors_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    program = tmp_path / "program"
    program.mkdir()
    repo = Path(__file__).resolve().parents[2]
    for name in ("Pulumi.yaml", "__main__.py"):
        (program / name).write_text((repo / name).read_text())
    (program / "Pulumi.bad.yaml").write_text(
        yaml.safe_dump(
            {
                "config": {
                    "hastack:environment": "prod",
                    "hastack:namespace": "x",
                    "hastack:apps": [{"name": "web"}],
                }
            }
        )
    )
    assert render_main(["--stack", "bad", "--program", str(program), "--out", str(tmp_path / "out")]) == 2
    assert "Pulumi.bad.yaml: hastack:apps[0].image: required key is missing" in capsys.readouterr().err


def test_prod_is_pinned_spread_over_zones_and_autoscaled() -> None:
    from tests.conftest import program_run_of

    run = program_run_of("prod")
    manifests = manifests_of(run)
    deployments = [m for m in manifests if m["kind"] == "Deployment"]
    assert len(deployments) >= 2
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        assert "@sha256:" in pod["containers"][0]["image"]
        zone = pod["topologySpreadConstraints"][0]
        assert (zone["topologyKey"], zone["whenUnsatisfiable"], zone["minDomains"]) == (
            "topology.kubernetes.io/zone",
            "DoNotSchedule",
            3,
        )
        assert "replicas" not in deployment["spec"]
    hpas = [m for m in manifests if m["kind"] == "HorizontalPodAutoscaler"]
    assert len(hpas) == len(deployments)
    assert all(h["spec"]["minReplicas"] >= 3 for h in hpas)
    (ingress,) = [m for m in manifests if m["kind"] == "Ingress"]
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
    assert ingress["spec"]["rules"][0]["host"] == "api.shop.example.com"


def test_prod_runs_a_small_canary_on_the_gateway_path() -> None:
    from tests.conftest import program_run_of

    manifests = manifests_of(program_run_of("prod"))
    routes = [m for m in manifests if m["kind"] == "HTTPRoute"]
    weighted = [r for r in routes if len(r["spec"]["rules"][0].get("backendRefs", [])) > 1]
    assert len(weighted) == 1
    refs = weighted[0]["spec"]["rules"][0]["backendRefs"]
    assert [(r["name"], r["weight"]) for r in refs] == [("web", 95), ("web-canary", 5)]
    assert all(r["spec"]["parentRefs"][0]["namespace"] == "gateway-system" for r in routes)
    redirects = [r for r in routes if "backendRefs" not in r["spec"]["rules"][0]]
    assert len(redirects) == 1 and all(r["spec"]["parentRefs"][0]["sectionName"] == "http" for r in redirects)
    canary = [
        m
        for m in manifests
        if m["kind"] == "Deployment" and m["metadata"]["labels"]["app.kubernetes.io/instance"] == "web-canary"
    ]
    assert len(canary) == 1 and "@sha256:" in canary[0]["spec"]["template"]["spec"]["containers"][0]["image"]
    policies = [m for m in manifests if m["kind"] == "BackendTrafficPolicy"]
    assert [p["spec"]["loadBalancer"]["type"] for p in policies] == ["LeastRequest"]


def test_dev_uses_self_signed_tls_and_two_replicas() -> None:
    from tests.conftest import program_run_of

    manifests = manifests_of(program_run_of("dev"))
    assert all(m["spec"]["replicas"] == 2 for m in manifests if m["kind"] == "Deployment")
    assert [m for m in manifests if m["kind"] == "HTTPRoute"] == []
    assert len([m for m in manifests if m["kind"] == "Ingress"]) == 1
    assert [m for m in manifests if m["kind"] == "Secret" and m["type"] == "kubernetes.io/tls"]


def test_invariants_catch_open_or_portless_egress() -> None:
    """Guards the egress invariant: an open destination without a reason, or a rule without ports."""
    policy: dict[str, Any] = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "api"},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}},
            "egress": [
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]},
                {"to": [{"namespaceSelector": {}}], "ports": [{"port": 443}]},
                {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]},
            ],
        },
    }
    assert violations([policy]) == [
        "NetworkPolicy api egress[0] is open without a reason",
        "NetworkPolicy api egress[1] is open without a reason",
        "NetworkPolicy api egress[2] allows every destination or every port",
    ]
    policy["metadata"]["annotations"] = {"hastack.dev/open-egress-reason": "partner API"}
    assert violations([policy]) == ["NetworkPolicy api egress[2] allows every destination or every port"]


def test_prod_api_reaches_the_database_block_on_its_port_and_nothing_else_outside() -> None:
    from tests.conftest import program_run_of

    (policy,) = [
        m
        for m in manifests_of(program_run_of("prod"))
        if m["kind"] == "NetworkPolicy"
        and m["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "api"}}
    ]
    outside = [
        rule
        for rule in policy["spec"]["egress"]
        if any("ipBlock" in peer or "namespaceSelector" in peer for peer in rule["to"])
    ]
    assert outside == [
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        },
        {"to": [{"ipBlock": {"cidr": "10.40.0.0/24"}}], "ports": [{"protocol": "TCP", "port": 5432}]},
    ]


def test_staging_runs_prod_artifacts_softly_spread_over_zones() -> None:
    from tests.conftest import program_run_of

    manifests = manifests_of(program_run_of("staging"))
    deployments = [m for m in manifests if m["kind"] == "Deployment"]
    assert len(deployments) == 2
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        assert "@sha256:" in pod["containers"][0]["image"]
        assert [(c["topologyKey"], c["whenUnsatisfiable"]) for c in pod["topologySpreadConstraints"]] == [
            ("topology.kubernetes.io/zone", "ScheduleAnyway"),
            ("kubernetes.io/hostname", "ScheduleAnyway"),
        ]
        assert all("minDomains" not in c for c in pod["topologySpreadConstraints"])
    web = next(d for d in deployments if d["metadata"]["labels"]["app.kubernetes.io/name"] == "web")
    assert (
        web["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["ephemeral-storage"]
        == "512Mi"
    )
    (hpa,) = [m for m in manifests if m["kind"] == "HorizontalPodAutoscaler"]
    assert hpa["spec"]["minReplicas"] == 2
    (ingress,) = [m for m in manifests if m["kind"] == "Ingress"]
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-staging"
    routes = [m for m in manifests if m["kind"] == "HTTPRoute"]
    assert {h for r in routes for h in r["spec"].get("hostnames", [])} == {"shop.staging.example.com"}
    assert [m for m in manifests if m["kind"] == "Secret" and m.get("type") == "kubernetes.io/tls"] == []


def test_every_container_of_every_stack_sets_ephemeral_storage(program_run: MockRun) -> None:
    for item in manifests_of(program_run):
        if item["kind"] == "Deployment":
            for container in item["spec"]["template"]["spec"]["containers"]:
                assert {"ephemeral-storage"} <= set(container["resources"]["requests"])
                assert {"ephemeral-storage"} <= set(container["resources"]["limits"])
