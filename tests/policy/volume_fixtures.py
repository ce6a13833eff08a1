"""A stack with a single writer: the good stack plus a wiki on a ReadWriteOnce claim, declared a single
writer (Recreate, one replica, the annotation), and edits of it."""

from __future__ import annotations

from typing import Any

from hastack_policy.objects import K8sObject
from tests.policy.k8s_fixtures import Change, good_stack, make, pod_spec

CLAIM = "data"
SINGLE_WRITER = {"hastack.dev/single-writer": "SQLite file: one writer only"}


def claim(modes: list[str]) -> K8sObject:
    return make(
        "PersistentVolumeClaim",
        CLAIM,
        {
            "metadata": {"namespace": "shop"},
            "spec": {"accessModes": modes, "resources": {"requests": {"storage": "10Gi"}}},
        },
    )


def wiki_spec() -> dict[str, Any]:
    spec = pod_spec("wiki")
    spec["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/var/lib/wiki"}]
    spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": CLAIM}}]
    return spec


def stateful_stack(modes: tuple[str, ...] = ("ReadWriteOnce",)) -> list[K8sObject]:
    """The good stack plus a declared single writer: a wiki on a ReadWriteOnce claim, Recreate, 1 pod."""
    labels = {"app.kubernetes.io/name": "wiki", "app.kubernetes.io/instance": "wiki"}
    wiki = make(
        "Deployment",
        "wiki-5e6f7a8b",
        {
            "metadata": {"namespace": "shop", "labels": labels, "annotations": dict(SINGLE_WRITER)},
            "spec": {
                "replicas": 1,
                "strategy": {"type": "Recreate"},
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": wiki_spec()},
            },
        },
        pulumi_name="wiki",
    )
    return [*good_stack(), claim(list(modes)), wiki]


def strategy(value: dict[str, Any]) -> Change:
    return lambda p: p["spec"].update(strategy=value)


def no_single_writer_annotation(props: dict[str, Any]) -> None:
    props["metadata"]["annotations"] = {}
