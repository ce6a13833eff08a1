"""One compliant app in a namespace of its own, for the fleet tier. Its config injects what the gates
must catch: `replicas: 1` breaks the pack's min-replicas rule, `unschedulable: true` pins the pods to a
node label no node has (and skips Pulumi's awaits of the Deployment and of the Service's endpoints, so
only the fleet's Available gate sees it)."""

import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config()
NAMESPACE = config.require("namespace")
REPLICAS = config.get_int("replicas") or 2
UNSCHEDULABLE = config.get_bool("unschedulable") or False
LABELS = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}
DIGEST = "sha256:" + "0123456789abcdef" * 4

ns = k8s.core.v1.Namespace(
    "ns", metadata={"name": NAMESPACE, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}
)
meta = {"namespace": ns.metadata.name, "labels": LABELS}
probe: dict[str, object] = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5}
liveness: dict[str, object] = {**probe, "httpGet": {"path": "/livez", "port": "http"}}
pod_spec: dict[str, object] = {
    "automountServiceAccountToken": False,
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "topologySpreadConstraints": [
        {
            "topologyKey": "kubernetes.io/hostname",
            "maxSkew": 1,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": LABELS},
        }
    ],
    "containers": [
        {
            "name": "web",
            "image": f"ghcr.io/acme/web@{DIGEST}",
            "ports": [{"name": "http", "containerPort": 8080}],
            "readinessProbe": probe,
            "livenessProbe": liveness,
            "resources": {
                "requests": {"cpu": "50m", "memory": "64Mi", "ephemeral-storage": "64Mi"},
                "limits": {"memory": "128Mi", "ephemeral-storage": "256Mi"},
            },
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            },
        }
    ],
}
annotations: dict[str, str] = {}
if UNSCHEDULABLE:
    pod_spec["nodeSelector"] = {"hastack.example/fleet-test": "no-such-node"}
    annotations["pulumi.com/skipAwait"] = "true"
deployment = k8s.apps.v1.Deployment(
    "web",
    metadata={**meta, "annotations": annotations},
    spec={
        "replicas": REPLICAS,
        "selector": {"matchLabels": LABELS},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "template": {"metadata": {"labels": LABELS}, "spec": pod_spec},
    },
)
k8s.policy.v1.PodDisruptionBudget(
    "web", metadata=meta, spec={"maxUnavailable": 1, "selector": {"matchLabels": LABELS}}
)
service = k8s.core.v1.Service(
    "web",
    metadata={**meta, "annotations": annotations},
    spec={"selector": LABELS, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
)
k8s.networking.v1.NetworkPolicy(
    "default-deny",
    metadata={"namespace": ns.metadata.name},
    spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
)
k8s.networking.v1.NetworkPolicy(
    "web-allow",
    metadata=meta,
    spec={
        "podSelector": {"matchLabels": LABELS},
        "policyTypes": ["Ingress"],
        "ingress": [{"ports": [{"port": "http"}]}],
    },
)
pulumi.export("namespace", ns.metadata.name)
pulumi.export("deployment", deployment.metadata.name)
