"""Resource fixtures for the policy tests: one compliant app ("the good stack") and helpers that
break exactly one thing in it. Numbers are floats, as the analyzer receives them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from typing import Any

from hastack.wire import to_wire
from hastack_policy import RULES_BY_ID
from hastack_policy.objects import K8sObject
from hastack_tools.common.checkout import REPO_ROOT

PROD = json.loads((REPO_ROOT / "policy" / "config" / "prod.json").read_text())
DEV = json.loads((REPO_ROOT / "policy" / "config" / "dev.json").read_text())

TOKENS = {
    "Namespace": "kubernetes:core/v1:Namespace",
    "Deployment": "kubernetes:apps/v1:Deployment",
    "StatefulSet": "kubernetes:apps/v1:StatefulSet",
    "ReplicaSet": "kubernetes:apps/v1:ReplicaSet",
    "DaemonSet": "kubernetes:apps/v1:DaemonSet",
    "Pod": "kubernetes:core/v1:Pod",
    "Job": "kubernetes:batch/v1:Job",
    "Service": "kubernetes:core/v1:Service",
    "Ingress": "kubernetes:networking.k8s.io/v1:Ingress",
    "HorizontalPodAutoscaler": "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "PodDisruptionBudget": "kubernetes:policy/v1:PodDisruptionBudget",
    "NetworkPolicy": "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "Secret": "kubernetes:core/v1:Secret",
    "ConfigMap": "kubernetes:core/v1:ConfigMap",
    "PersistentVolumeClaim": "kubernetes:core/v1:PersistentVolumeClaim",
    "Certificate": "kubernetes:cert-manager.io/v1:Certificate",
    "Gateway": "kubernetes:gateway.networking.k8s.io/v1:Gateway",
    "HTTPRoute": "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    "BackendTrafficPolicy": "kubernetes:gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy",
    "IngressRoute": "kubernetes:traefik.io/v1alpha1:IngressRoute",
    "Middleware": "kubernetes:traefik.io/v1alpha1:Middleware",
    "ServiceAccount": "kubernetes:core/v1:ServiceAccount",
    "RoleBinding": "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
}
DIGEST = "sha256:" + "ab" * 32

Change = Callable[[dict[str, Any]], Any]
"""An edit of one resource's props (see `edit`)."""

DELETE = object()
"""A value that removes the key instead (set_at, set_path)."""
POD = "spec.template.spec"
C0 = f"{POD}.containers.0"
POD_PATH = ("spec", "template", "spec")


def set_at(path: str, value: Any) -> Change:
    """A change that sets a dotted path (list indexes as numbers) in the props; DELETE removes it."""
    return set_path(*(int(part) if part.isdigit() else part for part in path.split(".")), value=value)


def set_path(*path: str | int, value: Any) -> Change:
    """`set_at` for a path given part by part (for keys with dots, such as annotation names)."""

    def change(props: dict[str, Any]) -> None:
        node: Any = props
        for part in path[:-1]:
            node = node[part] if isinstance(part, int) else node.setdefault(part, {})
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return change


def delete_path(*path: str | int) -> Change:
    return set_path(*path, value=DELETE)


def make(kind: str, name: str, props: dict[str, Any], *, pulumi_name: str | None = None) -> K8sObject:
    """A K8sObject as the analyzer would see it (apiVersion/kind set, numbers as floats)."""
    token = TOKENS[kind]
    module = token.split(":")[1]
    body = {"apiVersion": module.replace("core/", ""), "kind": kind, **props}
    body.setdefault("metadata", {}).setdefault("name", name)
    urn = f"urn:pulumi:test::proj::{token}::{pulumi_name or name}"
    return K8sObject(type=token, urn=urn, name=pulumi_name or name, props=to_wire(body))


def pod_spec(app: str = "web", port: int = 8080, instance: str | None = None) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": instance or app}
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5}
    return {
        "automountServiceAccountToken": False,
        "priorityClassName": "serving-high",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "topologySpreadConstraints": [
            {
                "topologyKey": "topology.kubernetes.io/zone",
                "maxSkew": 1,
                "whenUnsatisfiable": "DoNotSchedule",
                "minDomains": 3,
                "labelSelector": {"matchLabels": labels},
            },
            {
                "topologyKey": "kubernetes.io/hostname",
                "maxSkew": 1,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": labels},
            },
        ],
        "containers": [
            {
                "name": app,
                "image": f"ghcr.io/acme/{app}@{DIGEST}",
                "ports": [{"name": "http", "containerPort": port}],
                "readinessProbe": probe,
                "livenessProbe": {**probe, "httpGet": {"path": "/livez", "port": "http"}},
                "startupProbe": {**probe, "failureThreshold": 30},
                "resources": {
                    "requests": {"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "128Mi"},
                    "limits": {"memory": "256Mi", "ephemeral-storage": "1Gi"},
                },
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
    }


def good_app(
    app: str = "web", namespace: str = "shop", *, hpa: bool = True, instance: str | None = None
) -> list[K8sObject]:
    """Deployment + Service + Ingress + HPA + PDB + allow NetworkPolicy for one app.

    `instance` (e.g. `web-canary`) names a second release of the app: its own labels and names.
    """
    release = instance or app
    labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": release}
    meta = {"namespace": namespace, "labels": labels}
    deployment_spec: dict[str, Any] = {
        "selector": {"matchLabels": labels},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}},
        "template": {"metadata": {"labels": labels}, "spec": pod_spec(app, instance=release)},
    }
    if not hpa:
        deployment_spec["replicas"] = 3
    objs = [
        make(
            "Deployment",
            f"{release}-1a2b3c4d",
            {"metadata": dict(meta), "spec": deployment_spec},
            pulumi_name=release,
        ),
        make(
            "Service",
            release,
            {
                "metadata": dict(meta),
                "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
            },
        ),
        make(
            "Ingress",
            release,
            {
                "metadata": {**meta, "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"}},
                "spec": {
                    "ingressClassName": "nginx",
                    "tls": [{"hosts": [f"{app}.example.com"], "secretName": f"{app}-tls"}],
                    "rules": [
                        {
                            "host": f"{app}.example.com",
                            "http": {
                                "paths": [
                                    {
                                        "path": "/",
                                        "pathType": "Prefix",
                                        "backend": {"service": {"name": release, "port": {"name": "http"}}},
                                    }
                                ]
                            },
                        }
                    ],
                },
            },
        ),
        make(
            "PodDisruptionBudget",
            release,
            {
                "metadata": dict(meta),
                "spec": {
                    "maxUnavailable": 1,
                    "unhealthyPodEvictionPolicy": "AlwaysAllow",
                    "selector": {"matchLabels": labels},
                },
            },
        ),
        make(
            "NetworkPolicy",
            f"{release}-allow",
            {
                "metadata": dict(meta),
                "spec": {
                    "podSelector": {"matchLabels": labels},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"ports": [{"port": "http"}]}],
                },
            },
        ),
    ]
    if hpa:
        objs.append(
            make(
                "HorizontalPodAutoscaler",
                release,
                {
                    "metadata": dict(meta),
                    "spec": {
                        "scaleTargetRef": {
                            "apiVersion": "apps/v1",
                            "kind": "Deployment",
                            "name": f"{release}-1a2b3c4d",
                        },
                        "minReplicas": 3,
                        "maxReplicas": 10,
                        "metrics": [
                            {
                                "type": "Resource",
                                "resource": {
                                    "name": "cpu",
                                    "target": {"type": "Utilization", "averageUtilization": 70},
                                },
                            }
                        ],
                    },
                },
            )
        )
    return objs


def good_stack(namespace: str = "shop") -> list[K8sObject]:
    """A namespace with default-deny plus two compliant apps (one HPA-owned, one with fixed replicas)."""
    return [
        make(
            "Namespace",
            namespace,
            {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}},
        ),
        make(
            "NetworkPolicy",
            "default-deny",
            {
                "metadata": {"namespace": namespace},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            },
        ),
        *good_app("web", namespace),
        *good_app("api", namespace, hpa=False),
    ]


def edit(objs: Sequence[K8sObject], kind: str, change: Change, name: str = "web") -> list[K8sObject]:
    """A copy of `objs` where `change` edited the props of the `kind` resource whose Pulumi name is `name`."""
    out: list[K8sObject] = []
    hit = False
    for obj in objs:
        if obj.kind == kind and obj.name == name and not hit:
            props = copy.deepcopy(obj.props)
            change(props)
            out.append(K8sObject(type=obj.type, urn=obj.urn, name=obj.name, props=to_wire(props)))
            hit = True
        else:
            out.append(obj)
    assert hit, f"no {kind} named {name}"
    return out


def dropped(objs: Sequence[K8sObject], kind: str, name: str) -> list[K8sObject]:
    """`objs` without the `kind` resource whose Pulumi name is `name`."""
    return [obj for obj in objs if not (obj.kind == kind and obj.name == name)]


def container(props: dict[str, Any]) -> dict[str, Any]:
    """The first container of a Deployment's props."""
    result: dict[str, Any] = props["spec"]["template"]["spec"]["containers"][0]
    return result


def violations(rule_id: str, objs: Sequence[K8sObject], env: dict[str, Any] | None = None) -> list[str]:
    """Messages the rule reports over `objs` with the env's (default prod) settings; the rule sees the
    kinds it declared only, as the pack shows them to it."""
    rule = RULES_BY_ID[rule_id]
    settings = (env or PROD).get(rule_id, {})
    subjects = [obj for obj in objs if rule.looks_at(obj.type)]
    if rule.scope == "resource":
        return [m for obj in subjects for m in rule.run_resource(obj, settings)]
    return [m for _, m in rule.run_stack(subjects, settings)]


def all_violations(objs: Sequence[K8sObject], env: dict[str, Any] | None = None) -> dict[str, list[str]]:
    """Every rule's messages (only rules that report something)."""
    found = {rule_id: violations(rule_id, objs, env) for rule_id in RULES_BY_ID}
    return {k: v for k, v in found.items() if v}
