"""A managed-Kubernetes SDK in the shape pulumi's generated provider SDKs have (here: a DigitalOcean-
like cluster and its versions lookup), written out so that the fixture needs no further package: a
CustomResource whose `kube_configs` only the cloud computes, and a function in its plain and its
output form, both calling `pulumi.runtime.invoke*` exactly as generated code does."""

from typing import Any

import pulumi

TOKEN = "digitalocean:index/getKubernetesVersions:getKubernetesVersions"


@pulumi.output_type
class GetKubernetesVersionsResult:
    def __init__(self, latest_version: Any = None, valid_versions: Any = None) -> None:
        pulumi.set(self, "latest_version", latest_version)
        pulumi.set(self, "valid_versions", valid_versions)

    @property
    @pulumi.getter(name="latestVersion")
    def latest_version(self) -> str:
        return pulumi.get(self, "latest_version")

    @property
    @pulumi.getter(name="validVersions")
    def valid_versions(self) -> list[str]:
        return pulumi.get(self, "valid_versions")


def get_kubernetes_versions(version_prefix: str | None = None) -> GetKubernetesVersionsResult:
    ret = pulumi.runtime.invoke(
        TOKEN, {"versionPrefix": version_prefix}, typ=GetKubernetesVersionsResult
    ).value
    return GetKubernetesVersionsResult(
        latest_version=pulumi.get(ret, "latest_version"), valid_versions=pulumi.get(ret, "valid_versions")
    )


def get_kubernetes_versions_output(
    version_prefix: str | None = None,
) -> pulumi.Output[GetKubernetesVersionsResult]:
    ret = pulumi.runtime.invoke_output(
        TOKEN, {"versionPrefix": version_prefix}, typ=GetKubernetesVersionsResult
    )
    return ret.apply(
        lambda r: GetKubernetesVersionsResult(
            latest_version=pulumi.get(r, "latest_version"), valid_versions=pulumi.get(r, "valid_versions")
        )
    )


class KubernetesCluster(pulumi.CustomResource):
    kube_configs: pulumi.Output[list[dict[str, Any]]]
    endpoint: pulumi.Output[str]

    def __init__(self, name: str, region: str, version: Any, node_count: int) -> None:
        props = {
            "region": region,
            "version": version,
            "nodePool": {"name": "default", "size": "s-2vcpu-4gb", "nodeCount": node_count},
            "kube_configs": None,
            "endpoint": None,
        }
        super().__init__("digitalocean:index/kubernetesCluster:KubernetesCluster", name, props)
