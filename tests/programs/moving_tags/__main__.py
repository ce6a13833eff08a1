"""Images on tags that move: an LLM server component on `:server-cuda` (a build channel) whose
init container fetches the model without resource bounds, and a blue/green pair whose colours are
the tags (`:blue`, `:green`), each pushed over on the next deploy, with a `:main` sidecar. Judged by
the dev profile (the namespace says so): `latest` would be refused; these are reported as advice, as
is the init container's missing requests and limits."""

import pulumi
import pulumi_kubernetes as k8s

NS = "llm-dev"
ns = k8s.core.v1.Namespace(
    NS,
    metadata={
        "name": NS,
        "labels": {"hastack.dev/environment": "dev", "pod-security.kubernetes.io/enforce": "restricted"},
    },
)
SECURITY = {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}}
HARDENED = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
RESOURCES = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}


def container(name: str, image: str, port: int) -> dict[str, object]:
    return {
        "name": name,
        "image": image,
        "ports": [{"name": "http", "containerPort": port}],
        "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}},
        "livenessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 20},
        "resources": RESOURCES,
        "securityContext": HARDENED,
    }


class LlmServer(pulumi.ComponentResource):
    """A llama.cpp server with its model fetched by an init container, two replicas behind a Service."""

    def __init__(self, name: str, model_url: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("acme:ai:LlmServer", name, None, opts)
        labels = {"app.kubernetes.io/name": name}
        child = pulumi.ResourceOptions(parent=self)
        fetch = {
            "name": "fetch-model",
            "image": "curlimages/curl:8.10.1",
            "args": ["-fsSLo", "/models/model.gguf", model_url],
            "volumeMounts": [{"name": "models", "mountPath": "/models"}],
            "securityContext": HARDENED,
        }
        server = container("server", "ghcr.io/ggml-org/llama.cpp:server-cuda", 8080)
        server["args"] = ["-m", "/models/model.gguf", "--port", "8080", "--host", "0.0.0.0"]
        server["volumeMounts"] = [{"name": "models", "mountPath": "/models", "readOnly": True}]
        k8s.apps.v1.Deployment(
            name,
            metadata={"namespace": NS, "name": name},
            spec={
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "automountServiceAccountToken": False,
                        "securityContext": SECURITY,
                        "initContainers": [fetch],
                        "containers": [server],
                        "volumes": [{"name": "models", "emptyDir": {"sizeLimit": "8Gi"}}],
                    },
                },
            },
            opts=child,
        )
        k8s.core.v1.Service(
            name,
            metadata={"namespace": NS, "name": name},
            spec={"selector": labels, "ports": [{"port": 80, "targetPort": "http"}]},
            opts=child,
        )
        k8s.policy.v1.PodDisruptionBudget(
            name,
            metadata={"namespace": NS},
            spec={"maxUnavailable": 1, "selector": {"matchLabels": labels}},
            opts=child,
        )
        self.register_outputs({})


LlmServer("llama", "https://models.example.com/qwen2.5-0.5b-instruct-q4_k_m.gguf")
for colour in ("blue", "green"):
    labels = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": f"web-{colour}"}
    k8s.apps.v1.Deployment(
        f"web-{colour}",
        metadata={"namespace": NS, "name": f"web-{colour}"},
        spec={
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": SECURITY,
                    "containers": [
                        container("web", f"ghcr.io/acme/web:{colour}", 8080),
                        {**container("metrics", "ghcr.io/acme/metrics-exporter:main", 9100)},
                    ],
                },
            },
        },
    )
k8s.core.v1.Service(
    "web",
    metadata={"namespace": NS, "name": "web"},
    spec={"selector": {"app.kubernetes.io/name": "web"}, "ports": [{"port": 80, "targetPort": "http"}]},
)
k8s.policy.v1.PodDisruptionBudget(
    "web",
    metadata={"namespace": NS},
    spec={"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}}},
)
