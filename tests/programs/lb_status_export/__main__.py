"""The usual way to export a LoadBalancer's address: read the Service's `status`, which only the
cluster fills in. `pulumi preview` leaves it unknown and never runs the callback; so does the gate by
default. Run as an update (`--no-preview`) the callback gets nothing and fails, and the gate names
what the line read."""

import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config()
replicas = config.get_int("replicas") or 2
labels = {"app": "nginx"}

k8s.apps.v1.Deployment(
    "nginx",
    spec=k8s.apps.v1.DeploymentSpecArgs(
        selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
        replicas=replicas,
        template=k8s.core.v1.PodTemplateSpecArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
            spec=k8s.core.v1.PodSpecArgs(
                containers=[
                    k8s.core.v1.ContainerArgs(
                        name="nginx",
                        image="nginx:1.27.2",
                        ports=[k8s.core.v1.ContainerPortArgs(container_port=80)],
                    )
                ]
            ),
        ),
    ),
)
frontend = k8s.core.v1.Service(
    "nginx",
    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
    spec=k8s.core.v1.ServiceSpecArgs(
        type="LoadBalancer",
        selector=labels,
        ports=[k8s.core.v1.ServicePortArgs(port=80, target_port=80)],
    ),
)

ingress = frontend.status.apply(lambda status: status.load_balancer.ingress[0])
pulumi.export("ip", ingress.apply(lambda entry: entry.ip or entry.hostname))
