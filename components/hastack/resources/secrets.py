"""The app's Secret (generated values from pulumi-random and stack secrets, secret end to end) and
the plain env ConfigMap."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from hastack.config import AppConfig
from hastack.resources.labels import common_labels

SECRET_LENGTH = 32


@dataclass(frozen=True)
class AppEnvironment:
    """Where the pod's environment comes from, and a digest that changes when any of it does."""

    config_map_name: pulumi.Output[str]
    secret_name: pulumi.Output[str] | None
    checksum: pulumi.Output[str]
    resources: tuple[pulumi.CustomResource, ...]


def checksum(plain: dict[str, str], secret_values: list[str]) -> str:
    """SHA-256 over env and secret values; a digest reveals nothing, so it may sit in plain text."""
    digest = hashlib.sha256(json.dumps(plain, sort_keys=True).encode())
    for value in secret_values:
        digest.update(b"\0" + value.encode())
    return digest.hexdigest()


def app_environment(app: AppConfig, namespace: pulumi.Input[str], parent: pulumi.Resource) -> AppEnvironment:
    """ConfigMap for `env`; one RandomPassword per generated secret, gathered with the stack secrets
    (`secretEnv`) in one Secret. The checksum covers env and the generated values only: a digest
    of a short stack secret could be guessed; a changed one replaces the immutable Secret, whose new
    name rolls the pods."""
    child = pulumi.ResourceOptions(parent=parent)
    metadata = {"namespace": namespace, "labels": common_labels(app)}
    config_map = k8s.core.v1.ConfigMap(
        app.name,
        metadata=metadata,
        data=dict(app.env),
        immutable=True,
        opts=child,
    )
    resources: list[pulumi.CustomResource] = [config_map]
    passwords = [
        random.RandomPassword(
            f"{app.name}-{key.lower().replace('_', '-')}",
            length=SECRET_LENGTH,
            special=False,
            opts=child,
        )
        for key in app.generated_secrets
    ]
    resources.extend(passwords)
    secret_name: pulumi.Output[str] | None = None
    secret_values: pulumi.Output[list[str]] = pulumi.Output.from_input([])
    values: dict[str, pulumi.Input[str]] = {
        key: password.result for key, password in zip(app.generated_secrets, passwords, strict=True)
    }
    values.update(app.secret_env)
    if values:
        secret = k8s.core.v1.Secret(
            app.name,
            metadata=metadata,
            type="Opaque",
            string_data=pulumi.Output.secret(values),
            immutable=True,
            opts=child,
        )
        resources.append(secret)
        secret_name = secret.metadata.name
        secret_values = pulumi.Output.all(*[p.result for p in passwords])
    # env values may be computed Outputs (hastack.args): the checksum waits for them.
    plain: pulumi.Output[dict[str, str]] = pulumi.Output.from_input(dict(app.env))
    digest = pulumi.Output.unsecret(
        pulumi.Output.all(plain, secret_values).apply(lambda both: checksum(both[0], list(both[1])))
    )
    return AppEnvironment(config_map.metadata.name, secret_name, digest, tuple(resources))
