"""HighlyAvailableApp(name, args, opts): argument paths in errors, computed (Output) leaves, typed outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pulumi
import pytest

from hastack import HighlyAvailableApp
from hastack.args import ArgumentError, EnvironmentArgs, HighlyAvailableAppArgs
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.dev.mockrun import MockRun, run_function, strip_secrets
from hastack_tools.dev.render import manifest
from tests.conftest import STACKS

DIGEST = "@sha256:" + "b" * 64
PROD: EnvironmentArgs = {
    "name": "prod",
    "ingress": {"className": "nginx", "tls": {"mode": "cert-manager", "issuer": "letsencrypt"}},
}


def prod_args(**overrides: Any) -> HighlyAvailableAppArgs:
    args: dict[str, Any] = {
        "environment": PROD,
        "namespace": "shop",
        "image": "ghcr.io/acme/web" + DIGEST,
        "port": 8080,
        "autoscaling": {"minReplicas": 3, "maxReplicas": 6, "targetCPUUtilization": 70},
        "ingress": {"hosts": ["shop.example.com"]},
    }
    args.update(overrides)
    return args  # type: ignore[return-value]


def run(args: HighlyAvailableAppArgs, name: str = "web") -> MockRun:
    def program() -> None:
        app = HighlyAvailableApp(name, args)
        pulumi.export("urls", app.urls)
        pulumi.export("dns", app.service_dns_name)
        pulumi.export("namespace", app.namespace)

    return run_function(program, stack="prod")


def kind(result: MockRun, name: str) -> dict[str, Any]:
    (found,) = [manifest(r) for r in result.resources if r.inputs.get("kind") == name]
    return found


def test_plain_leaf_errors_name_the_argument_path_before_anything_is_registered() -> None:
    args = prod_args(autoscaling={"minReplicas": 2, "maxReplicas": 6, "targetCPUUtilization": 70})
    with pytest.raises(ArgumentError) as raised:
        HighlyAvailableApp("web", args)
    assert str(raised.value).splitlines()[1].strip() == (
        "HighlyAvailableApp(web): args.autoscaling.minReplicas: prod needs at least 3 replicas, got 2"
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"replicaz": 3}, "args.replicaz: unknown key (did you mean 'replicas'?)"),
        (
            {"environment": {**PROD, "name": "qa"}},
            "args.environment.name: must be one of dev, staging, prod, got 'qa'",
        ),
        (
            {"environment": {**PROD, "ingress": {"className": "nginx", "tls": {"mode": "self-signed"}}}},
            "args.environment.ingress.tls.mode: prod allows cert-manager, secret, got 'self-signed'",
        ),
        ({"namespace": "kube-system"}, "args.namespace: must not be a shared system namespace"),
        ({"calls": [{"name": "api", "port": 80}]}, "args.calls[0].port: must be between 1024 and 65535"),
        ({"image": "ghcr.io/acme/web:1.0"}, "args.image: prod needs a digest-pinned image"),
    ],
)
def test_every_argument_error_has_its_path(overrides: dict[str, Any], expected: str) -> None:
    with pytest.raises(ArgumentError, match="invalid arguments") as raised:
        HighlyAvailableApp("web", prod_args(**overrides))
    assert expected in str(raised.value)


def test_computed_image_host_env_and_replicas_reach_the_resources() -> None:
    image = pulumi.Output.from_input("ghcr.io/acme/web").apply(lambda repo: repo + DIGEST)
    host = pulumi.Output.concat("shop.", pulumi.Output.from_input("example.com"))
    args = prod_args(
        image=image,
        autoscaling=None,
        replicas=pulumi.Output.from_input(4),
        ingress={"hosts": [host, "www.example.com"]},
        env={"API_URL": pulumi.Output.concat("http://api.", "shop"), "MODE": "live"},
        priorityClassName=pulumi.Output.from_input("serving-high"),
    )
    del args["autoscaling"]
    result = run(args)
    deployment = kind(result, "Deployment")
    assert deployment["spec"]["template"]["spec"]["priorityClassName"] == "serving-high"
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "ghcr.io/acme/web" + DIGEST
    assert deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"] == "b" * 12
    assert deployment["spec"]["replicas"] == 4
    assert kind(result, "ConfigMap")["data"] == {"API_URL": "http://api.shop", "MODE": "live"}
    ingress = kind(result, "Ingress")
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == ["shop.example.com", "www.example.com"]
    assert result.outputs["urls"] == ["https://shop.example.com/", "https://www.example.com/"]
    assert result.outputs["namespace"] == "shop"


def test_computed_env_value_changes_the_rollout_checksum() -> None:
    def checksum(value: str) -> str:
        result = run(prod_args(env={"API_URL": pulumi.Output.from_input(value)}))
        annotations = kind(result, "Deployment")["spec"]["template"]["metadata"]["annotations"]
        return str(annotations["hastack.dev/config-checksum"])

    assert checksum("http://a") != checksum("http://b")


COMPUTED_FAILURES: list[tuple[dict[str, Any], str]] = [
    ({"image": "ghcr.io/acme/web:latest"}, "args.image: prod needs a digest-pinned image"),
    ({"autoscaling": None, "replicas": 2}, "args.replicas: prod needs at least 3 replicas, got 2"),
    ({"ingress": {"hosts": ["Not A Host"]}}, "args.ingress.hosts[0]: must be a fully qualified"),
    ({"priorityClassName": "system-node-critical"}, "args.priorityClassName: system-* classes are reserved"),
]


def run_computed_failure(case: int) -> None:
    """Runs one COMPUTED_FAILURES case with its leaves as Outputs (in a child process: see below)."""
    overrides, _ = COMPUTED_FAILURES[case]
    args: dict[str, Any] = dict(prod_args())
    for key, value in overrides.items():
        if value is None:
            del args[key]
        elif key == "ingress":
            args[key] = {"hosts": [pulumi.Output.from_input(h) for h in value["hosts"]]}
        else:
            args[key] = pulumi.Output.from_input(value)
    run(args)  # type: ignore[arg-type]


def run_in_child(call: str) -> subprocess.CompletedProcess[str]:
    """`call` (a function of this module) in a child process: a program that fails leaves Pulumi's
    runtime with pending tasks that a later run in the same process would trip over."""
    return subprocess.run(
        [sys.executable, "-c", f"import tests.hastack.test_args as t; t.{call}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("case", range(len(COMPUTED_FAILURES)))
def test_a_computed_leaf_is_checked_with_the_same_rules_when_it_resolves(case: int) -> None:
    """Construction passes (the leaf is unknown); the program fails when it resolves, naming the path.

    A child process per case: the failed run leaves Pulumi's runtime with pending tasks that a
    later run in the same process would trip over (a program is one process under the engine).
    """
    child = run_in_child(f"run_computed_failure({case})")
    assert child.returncode != 0
    assert "ArgumentError: invalid arguments" in child.stderr
    assert COMPUTED_FAILURES[case][1] in child.stderr


def test_stack_program_keeps_every_urn() -> None:
    """The move to HighlyAvailableApp(name, args) replaces nothing in the existing stacks."""
    from hastack_tools.dev.mockrun import run_program

    for stack in STACKS:
        urns = sorted(r.urn for r in run_program(REPO_ROOT, stack).resources)
        expected = (REPO_ROOT / "tests" / "data" / "urns" / f"{stack}.txt").read_text().split()
        assert urns == expected, stack


def test_secret_env_outputs_and_plain_values_reach_only_the_secret() -> None:
    password = pulumi.Output.secret("from-a-vault")
    result = run(prod_args(secretEnv={"DB_PASSWORD": password, "API_KEY": "plain-given"}, secretsAs="env"))
    (secret,) = [r for r in result.resources if r.type == "kubernetes:core/v1:Secret"]
    assert secret.secret_paths == (("stringData",),)
    assert strip_secrets(secret.inputs["stringData"], None) == {
        "DB_PASSWORD": "from-a-vault",
        "API_KEY": "plain-given",
    }
    everywhere = json.dumps([strip_secrets(r.inputs) for r in result.resources])
    assert "from-a-vault" not in everywhere and "plain-given" not in everywhere
    container = kind(result, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert [list(e) for e in container["envFrom"]] == [["configMapRef"], ["secretRef"]]


def run_secret_in_env() -> None:
    """A secret Output passed as a plain env value (in a child process: the program fails). The value
    is assembled, so a traceback quoting this line does not contain it."""
    run(prod_args(env={"DB_PASSWORD": pulumi.Output.secret("-".join(("from", "a", "vault")))}))


def test_a_secret_output_in_env_is_refused_without_showing_it() -> None:
    child = run_in_child("run_secret_in_env()")
    assert child.returncode != 0
    assert "args.env.DB_PASSWORD: is a secret Output; pass it in secretEnv" in child.stderr
    assert "from-a-vault" not in child.stderr + child.stdout


def test_egress_to_a_called_app_by_name_needs_it_in_calls() -> None:
    with pytest.raises(ArgumentError, match=r"args\.egress\[0\]\.app: must name another app"):
        HighlyAvailableApp("web", prod_args(egress=[{"app": "api"}]))
    result = run(prod_args(egress=[{"app": "api"}], calls=[{"name": "api", "port": 9090}]))
    policy = kind(result, "NetworkPolicy")
    assert policy["spec"]["egress"][1] == {
        "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}}}],
        "ports": [{"protocol": "TCP", "port": 9090}],
    }
