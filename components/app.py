"""HighlyAvailableApp: one app with every HA and security default, composed from the concern modules."""

from __future__ import annotations

import pulumi

from components import exposure, isolation, scaling, secrets, tls, workload
from components.config import AppConfig, ConfigError, StackConfig, check


class HighlyAvailableApp(pulumi.ComponentResource):
    """ServiceAccount, env ConfigMap and generated Secret, Deployment, Service, Ingress with TLS,
    HPA, PDB and NetworkPolicy for one app of a validated stack config.

    The stack config is checked again at construction, so a model built in code gets the same
    environment floors as one read from a stack file.
    """

    service_dns_name: pulumi.Output[str]
    service_port: pulumi.Output[int]
    urls: pulumi.Output[list[str]]

    def __init__(
        self,
        app: AppConfig,
        stack: StackConfig,
        namespace: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("hastack:index:HighlyAvailableApp", app.name, None, opts)
        source = f"HighlyAvailableApp({app.name})"
        if app not in stack.apps:
            raise ConfigError(source, [f"app {app.name!r} is not one of the stack config's apps"])
        check(stack, source)

        account = isolation.service_account(app, namespace, self)
        environment = secrets.app_environment(app, namespace, self)
        deployment = workload.deployment(
            app,
            stack.rules,
            namespace,
            self,
            service_account_name=account.metadata.name,
            config_map_name=environment.config_map_name,
            secret_name=environment.secret_name,
            config_checksum=environment.checksum,
        )
        service = exposure.service(app, namespace, self)
        hpa = scaling.autoscaler(app, deployment.metadata.name, namespace, self)
        pdb = scaling.disruption_budget(app, namespace, self)
        policy = isolation.network_policy(app, stack, namespace, self)
        ingress = None
        if app.ingress is not None and stack.ingress is not None:
            binding = tls.tls_binding(app, list(app.ingress.hosts), stack.ingress.tls, namespace, self)
            ingress = exposure.ingress(app, stack.ingress, binding, service.metadata.name, namespace, self)

        self.service_dns_name = pulumi.Output.from_input(namespace).apply(
            lambda ns: exposure.service_dns_name(app, ns, stack.cluster_domain)
        )
        self.service_port = pulumi.Output.from_input(exposure.SERVICE_PORT)
        self.urls = pulumi.Output.from_input(exposure.public_urls(app))
        names: dict[str, pulumi.Input[str]] = {
            "serviceAccount": account.metadata.name,
            "configMap": environment.config_map_name,
            "deployment": deployment.metadata.name,
            "service": service.metadata.name,
            "podDisruptionBudget": pdb.metadata.name,
            "networkPolicy": policy.metadata.name,
        }
        if environment.secret_name is not None:
            names["secret"] = environment.secret_name
        if hpa is not None:
            names["horizontalPodAutoscaler"] = hpa.metadata.name
        if ingress is not None:
            names["ingress"] = ingress.metadata.name
        self.resource_names = pulumi.Output.from_input(names)
        self.register_outputs(
            {
                "serviceDnsName": self.service_dns_name,
                "servicePort": self.service_port,
                "urls": self.urls,
                "namespace": namespace,
                "resourceNames": self.resource_names,
            }
        )
