"""A small controller (shaped after the operator tutorials) that watches ConfigMaps: it runs under
its own ServiceAccount, which a RoleBinding of the stack grants a Role, so it needs the token the pod
mounts. The web app beside it calls no API and keeps the default token: that one is reported."""

import pulumi_kubernetes as k8s

NS = "ops"
ns = k8s.core.v1.Namespace(
    NS, metadata={"name": NS, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}
)
account = k8s.core.v1.ServiceAccount("reloader", metadata={"name": "reloader", "namespace": NS})
role = k8s.rbac.v1.Role(
    "reloader",
    metadata={"name": "reloader", "namespace": NS},
    rules=[{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}],
)
k8s.rbac.v1.RoleBinding(
    "reloader",
    metadata={"name": "reloader", "namespace": NS},
    role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reloader"},
    subjects=[{"kind": "ServiceAccount", "name": "reloader", "namespace": NS}],
)


def deployment(name: str, image: str, account: str | None) -> None:
    labels = {"app.kubernetes.io/name": name}
    spec: dict[str, object] = {
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": name,
                "image": image,
                "ports": [{"name": "http", "containerPort": 8080}],
                "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}},
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
                "resources": {"requests": {"cpu": "20m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
    }
    if account:
        spec["serviceAccountName"] = account
    k8s.apps.v1.Deployment(
        name,
        metadata={"namespace": NS, "name": name},
        spec={
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    )
    k8s.core.v1.Service(
        name,
        metadata={"namespace": NS, "name": name},
        spec={"selector": labels, "ports": [{"port": 80, "targetPort": "http"}]},
    )
    k8s.policy.v1.PodDisruptionBudget(
        name, metadata={"namespace": NS}, spec={"maxUnavailable": 1, "selector": {"matchLabels": labels}}
    )


deployment("reloader", "ghcr.io/acme/reloader:1.4.0", "reloader")
deployment("web", "ghcr.io/acme/web:3.2.0", None)
