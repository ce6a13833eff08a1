"""HighlyAvailableApp: one app with every HA and security default, composed from the concern modules."""

from __future__ import annotations

import pulumi

from hastack import canary, exposure, gateway, isolation, scaling, secrets, tls, workload
from hastack.config import AppConfig, ConfigError, StackConfig, check
from hastack.labels import Track


def _track_key(key: str, track: Track) -> str:
    """`deployment` for the stable release, `canaryDeployment` for the canary (output keys)."""
    return key if track == "stable" else f"canary{key[0].upper()}{key[1:]}"


class HighlyAvailableApp(pulumi.ComponentResource):
    """ServiceAccount, env ConfigMap and generated Secret, Deployment, Service, HPA, PDB (again for a
    canary), NetworkPolicy, and an Ingress with TLS or a Gateway API HTTPRoute, for one app of a
    validated stack config.

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
        check(stack, source, focus=app)

        account = isolation.service_account(app, namespace, self)
        environment = secrets.app_environment(app, namespace, self)
        names: dict[str, pulumi.Input[str]] = {
            "serviceAccount": account.metadata.name,
            "configMap": environment.config_map_name,
        }
        if environment.secret_name is not None:
            names["secret"] = environment.secret_name
        service_names: dict[Track, pulumi.Input[str]] = {}
        for track, release in canary.releases(app):
            deployment = workload.deployment(
                release,
                stack.rules,
                namespace,
                self,
                track=track,
                service_account_name=account.metadata.name,
                config_map_name=environment.config_map_name,
                secret_name=environment.secret_name,
                config_checksum=environment.checksum,
            )
            service = exposure.service(release, namespace, self, track)
            hpa = scaling.autoscaler(release, deployment.metadata.name, namespace, self, track)
            pdb = scaling.disruption_budget(release, namespace, self, track)
            service_names[track] = service.metadata.name
            names[_track_key("deployment", track)] = deployment.metadata.name
            names[_track_key("service", track)] = service.metadata.name
            names[_track_key("podDisruptionBudget", track)] = pdb.metadata.name
            if hpa is not None:
                names[_track_key("horizontalPodAutoscaler", track)] = hpa.metadata.name
        policy = isolation.network_policy(app, stack, namespace, self)
        names["networkPolicy"] = policy.metadata.name

        exposed_by = stack.exposure_of(app)
        if exposed_by == "ingress" and app.ingress is not None and stack.ingress is not None:
            binding = tls.tls_binding(app, list(app.ingress.hosts), stack.ingress.tls, namespace, self)
            for track, name in service_names.items():
                ingress = exposure.ingress(app, stack.ingress, binding, name, namespace, self, track)
                names[_track_key("ingress", track)] = ingress.metadata.name
        elif exposed_by == "gateway" and stack.gateway is not None:
            routes = gateway.gateway_routes(app, stack.gateway, service_names, namespace, self)
            names["httpRoute"] = routes.route.metadata["name"]
            names["redirectHttpRoute"] = routes.redirect.metadata["name"]
            names["trafficPolicy"] = routes.traffic_policy.metadata["name"]

        self.service_dns_name = pulumi.Output.from_input(namespace).apply(
            lambda ns: exposure.service_dns_name(app, ns, stack.cluster_domain)
        )
        self.service_port = pulumi.Output.from_input(exposure.SERVICE_PORT)
        self.urls = pulumi.Output.from_input(exposure.public_urls(app))
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
