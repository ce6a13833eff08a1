"""IsolatedNamespace: a namespace for apps, with Pod Security Admission *restricted* and a default deny."""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from hastack.args import IsolatedNamespaceArgs, check_namespace
from hastack.config import EnvironmentConfig
from hastack.references import stack_labels
from hastack.resources.labels import ENVIRONMENT_LABEL, PART_OF

PSA_LEVEL = "restricted"


def namespace_labels(environment: str) -> dict[str, str]:
    """Pod Security Admission enforces *restricted*, and audits and warns on it too."""
    labels = {"app.kubernetes.io/part-of": PART_OF, ENVIRONMENT_LABEL: environment}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = PSA_LEVEL
        labels[f"pod-security.kubernetes.io/{mode}-version"] = "latest"
    return labels


def default_deny_spec() -> dict[str, Any]:
    """Selects every pod and allows nothing: each app then opens exactly what it needs."""
    return {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


class IsolatedNamespace(pulumi.ComponentResource):
    """A namespace for apps: PSA *restricted* labels and a default-deny NetworkPolicy.

    `args` names the namespace and the environment (hastack.args.IsolatedNamespaceArgs, checked
    like the apps' arguments), or is loaded config already (a stack file's, in the repo's program).
    """

    name: pulumi.Output[str]
    """The namespace's name."""

    def __init__(
        self,
        resource_name: str,
        args: IsolatedNamespaceArgs | EnvironmentConfig,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        environment = (
            args
            if isinstance(args, EnvironmentConfig)
            else check_namespace(f"IsolatedNamespace({resource_name})", args)
        )
        super().__init__("hastack:index:IsolatedNamespace", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(
            resource_name,
            metadata={
                "name": environment.namespace,
                # the project and stack, which other stacks' apps admit callers by (allowFromStacks)
                "labels": {
                    **namespace_labels(environment.environment),
                    **stack_labels(pulumi.get_project(), pulumi.get_stack()),
                },
            },
            opts=child,
        )
        self.name = namespace.metadata.name
        self.default_deny = k8s.networking.v1.NetworkPolicy(
            f"{resource_name}-default-deny",
            metadata={"namespace": self.name, "labels": {"app.kubernetes.io/part-of": PART_OF}},
            spec=default_deny_spec(),
            opts=child,
        )
        self.register_outputs({"name": self.name})
