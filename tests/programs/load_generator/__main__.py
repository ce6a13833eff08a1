"""A frontend and the load generator that exercises it, as microservice demos ship them: the
generator is one pod no Service selects, sending requests to the frontend. More replicas would
multiply the load it makes, not anyone's availability: min-replicas leaves it alone and still judges
the frontend, which a Service serves with one replica."""

import pulumi_kubernetes as k8s

NS = "boutique"
ns = k8s.core.v1.Namespace(
    NS, metadata={"name": NS, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}
)
security = {"runAsNonRoot": True, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}
hardened = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def workload(name: str, image: str, env: list[dict[str, str]], probes: bool) -> dict[str, object]:
    container: dict[str, object] = {
        "name": "server" if probes else "main",
        "image": image,
        "env": env,
        "resources": {
            "requests": {"cpu": "100m", "memory": "64Mi"},
            "limits": {"cpu": "200m", "memory": "128Mi"},
        },
        "securityContext": hardened,
    }
    if probes:
        container["ports"] = [{"containerPort": 8080}]
        container["readinessProbe"] = {
            "httpGet": {"path": "/_healthz", "port": 8080},
            "initialDelaySeconds": 10,
        }
        container["livenessProbe"] = {
            "httpGet": {"path": "/_healthz", "port": 8080},
            "initialDelaySeconds": 10,
        }
    labels = {"app": name}
    return {
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "serviceAccountName": name,
                "automountServiceAccountToken": False,
                "securityContext": security,
                "terminationGracePeriodSeconds": 5,
                "containers": [container],
            },
        },
    }


k8s.apps.v1.Deployment(
    "frontend",
    metadata={"namespace": NS, "name": "frontend"},
    spec=workload(
        "frontend", "us-central1-docker.pkg.dev/google-samples/microservices-demo/frontend:v0.10.2", [], True
    ),
)
k8s.core.v1.Service(
    "frontend",
    metadata={"namespace": NS, "name": "frontend"},
    spec={"selector": {"app": "frontend"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
)
k8s.apps.v1.Deployment(
    "loadgenerator",
    metadata={"namespace": NS, "name": "loadgenerator"},
    spec={
        "replicas": 1,
        **workload(
            "loadgenerator",
            "us-central1-docker.pkg.dev/google-samples/microservices-demo/loadgenerator:v0.10.2",
            [{"name": "FRONTEND_ADDR", "value": "frontend:80"}, {"name": "USERS", "value": "10"}],
            False,
        ),
    },
)
