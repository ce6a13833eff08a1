"""HighlyAvailableApp: one app with every HA and security default, built from the resource modules."""

from typing import Self

import pulumi

from hastack.args import HighlyAvailableAppArgs, ResolvedArgs, resolve, secret_inputs
from hastack.config import AppConfig, StackConfig, TlsConfig, check, key_path
from hastack.references import read_exports, remote_callees
from hastack.resources import (
    canary,
    gateway,
    ingress,
    ingress_route,
    network,
    scaling,
    secrets,
    service,
    tls,
    workload,
)
from hastack.resources.labels import Track


def _track_key(key: str, track: Track) -> str:
    """`deployment` for the stable release, `canaryDeployment` for the canary (output keys)."""
    return key if track == "stable" else f"canary{key[0].upper()}{key[1:]}"


class HighlyAvailableApp(pulumi.ComponentResource):
    """ServiceAccount, env ConfigMap and generated Secret, Deployment, Service, HPA, PDB (again for a
    canary), NetworkPolicy, and an Ingress with TLS, Traefik's IngressRoute, or a Gateway API
    HTTPRoute, for one app.

    `args` (hastack.args.HighlyAvailableAppArgs) carries the app, its namespace and its environment
    profile; plain leaves are checked before anything is registered, computed ones when they resolve.
    An AppGroup passes arguments it has resolved already (it checks all its apps before registering);
    a program with a loaded stack config uses `from_config`.
    """

    service_dns_name: pulumi.Output[str]
    """Cluster-internal DNS name of the app's Service."""
    service_port: pulumi.Output[int]
    urls: pulumi.Output[list[str]]
    """Public URLs (https://<host><path>), empty when the app has no ingress."""
    namespace: pulumi.Output[str]
    resource_names: pulumi.Output[dict[str, str]]
    """Names of the Kubernetes objects, by role (deployment, service, podDisruptionBudget, ...)."""

    @classmethod
    def from_config(
        cls,
        app: AppConfig,
        stack: StackConfig,
        namespace: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> Self:
        """One app of a loaded stack config: its neighbours are the stack's other apps, and the models
        go to the builders as they are (no argument dict). The stack's rules are checked for this app
        again, on the models, since a config built in code may have skipped `validate`."""
        check(stack, f"HighlyAvailableApp({app.name})", focus=app)
        resolved = ResolvedArgs(
            secret_inputs(app),
            stack,
            stack.neighbours_of(app),
            namespace,
            f"Pulumi.{pulumi.get_stack()}.yaml",
            key_path(("apps", stack.apps.index(app))),
        )
        return cls(app.name, resolved, opts)

    def _traefik_routes(
        self,
        app: AppConfig,
        source: TlsConfig,
        binding: tls.TlsBinding,
        service_name: pulumi.Input[str],
        namespace: pulumi.Input[str],
    ) -> dict[str, pulumi.Input[str]]:
        """`kind: IngressRoute`: Traefik's routes and Middlewares, and the Certificate cert-manager's
        ingress-shim would have made from an Ingress annotation (it reads no IngressRoute)."""
        assert app.ingress is not None
        names: dict[str, pulumi.Input[str]] = {}
        if source.mode == "cert-manager":
            assert source.issuer is not None  # guaranteed by config validation
            certificate = tls.cert_manager_certificate(
                app, list(app.ingress.hosts), source.issuer, namespace, self
            )
            names["certificate"] = certificate.metadata["name"]
        routes = ingress_route.ingress_routes(app, binding, service_name, namespace, self)
        names["ingressRoute"] = routes.route.metadata["name"]
        names["redirectIngressRoute"] = routes.redirect.metadata["name"]
        for role, middleware in routes.middlewares.items():
            names[f"{role}Middleware"] = middleware.metadata["name"]
        return names

    def __init__(
        self,
        name: str,
        args: HighlyAvailableAppArgs | ResolvedArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        resolved = args if isinstance(args, ResolvedArgs) else resolve(name, args)
        source = resolved.source or f"HighlyAvailableApp({name})"
        exports = read_exports(resolved.app, source, resolved.where)  # before anything is registered
        super().__init__("hastack:index:HighlyAvailableApp", name, None, opts)
        app, stack, namespace = resolved.app, resolved.environment, resolved.namespace
        remote = remote_callees(app, exports, source, resolved.where, self)
        if remote:  # each callee's URL as a variable; the checks refuse one that env (or a secret) sets
            app = app.model_copy(update={"env": {**{c.variable: c.url for c in remote}, **app.env}})

        account = workload.service_account(app, namespace, self)
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
                stack.profile,
                namespace,
                self,
                track=track,
                service_account_name=account.metadata.name,
                config_map_name=environment.config_map_name,
                secret_name=environment.secret_name,
                config_checksum=environment.checksum,
            )
            app_service = service.service(release, namespace, self, track)
            hpa = scaling.autoscaler(release, deployment.metadata.name, namespace, self, track)
            pdb = scaling.disruption_budget(release, namespace, self, track)
            service_names[track] = app_service.metadata.name
            names[_track_key("deployment", track)] = deployment.metadata.name
            names[_track_key("service", track)] = app_service.metadata.name
            names[_track_key("podDisruptionBudget", track)] = pdb.metadata.name
            if hpa is not None:
                names[_track_key("horizontalPodAutoscaler", track)] = hpa.metadata.name
        policy = network.network_policy(app, stack, resolved.neighbours, namespace, self, remote)
        names["networkPolicy"] = policy.metadata.name

        exposed_by = stack.exposure_of(app)
        if exposed_by == "ingress" and app.ingress is not None and stack.ingress is not None:
            binding = tls.tls_binding(app, list(app.ingress.hosts), stack.ingress.tls, namespace, self)
            if app.ingress.kind == "IngressRoute":
                stable = service_names["stable"]
                names.update(self._traefik_routes(app, stack.ingress.tls, binding, stable, namespace))
            else:
                for track, service_name in service_names.items():
                    app_ingress = ingress.ingress(
                        app, stack.ingress, binding, service_name, namespace, self, track
                    )
                    names[_track_key("ingress", track)] = app_ingress.metadata.name
        elif exposed_by == "gateway" and stack.gateway is not None:
            routes = gateway.gateway_routes(app, stack.gateway, service_names, namespace, self)
            names["httpRoute"] = routes.route.metadata["name"]
            names["redirectHttpRoute"] = routes.redirect.metadata["name"]
            if routes.traffic_policy is not None:
                names["trafficPolicy"] = routes.traffic_policy.metadata["name"]

        self.service_dns_name = pulumi.Output.from_input(namespace).apply(
            lambda ns: service.service_dns_name(app, ns, stack.cluster_domain)
        )
        self.service_port = pulumi.Output.from_input(service.SERVICE_PORT)
        self.urls = pulumi.Output.all(*ingress.public_urls(app))
        self.namespace = pulumi.Output.from_input(namespace)
        self.resource_names = pulumi.Output.all(**names)
        self.register_outputs(
            {
                "serviceDnsName": self.service_dns_name,
                "servicePort": self.service_port,
                "urls": self.urls,
                "namespace": self.namespace,
                "resourceNames": self.resource_names,
            }
        )
