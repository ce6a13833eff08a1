"""Reproducer: pulumi-policy decodes every resource once per policy.

pulumi-policy 1.21.0's analyzer decodes a resource's properties inside its loop over policies:
`Analyze` (policy.py:997-998) and, per stack policy and per resource, `AnalyzeStack`
(policy.py:1049-1050):

    deserialized = deserialize_properties(json_format.MessageToDict(request.properties))
    props = unknown_checking_proxy(deserialized)

The decoded value depends only on the request, not on the policy. This script does that work for
R resources the shape of a hastack Deployment, once per policy (`stock`, P policies) and once per
resource (`changed`, the proposal: decode before the loop and hand every policy the same value),
with pulumi-policy's own three functions; verdicts are unaffected as long as policies do not
mutate `args.props` (the upstream change would document it, or hand each policy a cheap view).

`python -m benchmarks.upstream.policy_decode [R] [P]` (default 1100 30): medians of 3 fresh processes.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy


def deployment_like(i: int) -> struct_pb2.Struct:
    """A Struct about the size of one rendered hastack Deployment (~90 leaves)."""
    container: dict[str, Any] = {
        "name": "app",
        "image": f"ghcr.io/acme/app{i}@sha256:" + f"{i:064x}",
        "ports": [{"containerPort": 8080, "name": "http"}],
        "envFrom": [{"configMapRef": {"name": f"app{i}-config"}}, {"secretRef": {"name": f"app{i}-env"}}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/live", "port": "http"}, "periodSeconds": 10},
        "securityContext": {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    labels = {"app.kubernetes.io/name": f"app{i}", "app.kubernetes.io/part-of": "hastack"}
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"namespace": "bench", "labels": labels},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": labels},
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": f"app{i}",
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                    "topologySpreadConstraints": [
                        {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "labelSelector": {}}
                    ],
                },
            },
        },
    }
    message = struct_pb2.Struct()
    message.update(body)
    return message


def decode(message: struct_pb2.Struct) -> Any:
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(message)))


def once(variant: str, resources: int, policies: int) -> dict[str, float]:
    messages = [deployment_like(i) for i in range(resources)]
    started_cpu, started = time.process_time(), time.perf_counter()
    for message in messages:
        if variant == "stock":
            for _ in range(policies):
                decode(message)
        else:
            decode(message)
    return {"cpu_s": time.process_time() - started_cpu, "wall_s": time.perf_counter() - started}


def main() -> None:
    if sys.argv[1:2] == ["--once"]:
        print(json.dumps(once(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
        return
    from benchmarks.upstream._compare import compare

    compare(Path(__file__), sys.argv[1:3] if len(sys.argv) > 2 else ["1100", "30"])


if __name__ == "__main__":
    main()
