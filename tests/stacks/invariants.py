"""HA invariants over a rendered stack, stated independently of the components that produce it."""

from __future__ import annotations

from typing import Any

from hastack.kube import disruptions_allowed

Manifest = dict[str, Any]


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _of_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def _pod_labels(deployment: Manifest) -> dict[str, str]:
    return dict(deployment["spec"]["template"]["metadata"]["labels"])


def _floor(deployment: Manifest, manifests: list[Manifest]) -> int:
    name = deployment["metadata"]["name"]
    for hpa in _of_kind(manifests, "HorizontalPodAutoscaler"):
        if hpa["spec"]["scaleTargetRef"]["name"] == name:
            return int(hpa["spec"].get("minReplicas", 1))
    return int(deployment["spec"].get("replicas", 1))


def _allowed(pdb: Manifest, pods: int) -> int:
    spec = pdb["spec"]
    return disruptions_allowed(spec.get("maxUnavailable"), spec.get("minAvailable"), pods) or 0


def violations(manifests: list[Manifest]) -> list[str]:
    found: list[str] = []
    deployments = _of_kind(manifests, "Deployment")
    services = {s["metadata"]["name"]: s for s in _of_kind(manifests, "Service")}
    for service in services.values():
        selected = [d for d in deployments if _matches(service["spec"]["selector"], _pod_labels(d))]
        if len(selected) != 1:
            found.append(f"Service {service['metadata']['name']} selects {len(selected)} Deployments")
            continue
        containers = selected[0]["spec"]["template"]["spec"]["containers"]
        ports = {p.get("name") for c in containers for p in c.get("ports", [])} | {
            p["containerPort"] for c in containers for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            if port["targetPort"] not in ports:
                name = service["metadata"]["name"]
                found.append(f"Service {name} targetPort {port['targetPort']} resolves to nothing")
    tls_secrets = {
        s["metadata"]["name"] for s in _of_kind(manifests, "Secret") if s.get("type") == "kubernetes.io/tls"
    }
    for ingress in _of_kind(manifests, "Ingress"):
        name = ingress["metadata"]["name"]
        covered = {h: t["secretName"] for t in ingress["spec"].get("tls", []) for h in t.get("hosts", [])}
        cert_manager = "cert-manager.io/cluster-issuer" in ingress["metadata"].get("annotations", {})
        for rule in ingress["spec"]["rules"]:
            host = rule["host"]
            if host not in covered:
                found.append(f"Ingress {name} host {host} has no TLS entry")
            elif not cert_manager and covered[host] not in tls_secrets:
                found.append(f"Ingress {name} host {host} uses secret {covered[host]} missing from the stack")
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                target = services.get(backend["name"])
                if target is None:
                    found.append(f"Ingress {name} backend {backend['name']} is not a Service of the stack")
                elif backend["port"].get("name") not in {p.get("name") for p in target["spec"]["ports"]}:
                    found.append(
                        f"Ingress {name} backend port {backend['port']} not on Service {backend['name']}"
                    )
    for route in _of_kind(manifests, "HTTPRoute"):
        name = route["metadata"]["name"]
        for rule in route["spec"]["rules"]:
            refs = rule.get("backendRefs", [])
            if not refs and not any(f["type"] == "RequestRedirect" for f in rule.get("filters", [])):
                found.append(f"HTTPRoute {name} has a rule that neither serves nor redirects")
            for ref in refs:
                target = services.get(ref["name"])
                if target is None or ref["port"] not in {p["port"] for p in target["spec"]["ports"]}:
                    found.append(
                        f"HTTPRoute {name} backend {ref['name']}:{ref['port']} is not a Service port"
                    )
            if len(refs) > 1 and sum(ref["weight"] for ref in refs) != 100:
                found.append(f"HTTPRoute {name} weights do not add up to 100")
    pdbs = _of_kind(manifests, "PodDisruptionBudget")
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        covering = [
            p for p in pdbs if _matches(p["spec"]["selector"]["matchLabels"], _pod_labels(deployment))
        ]
        floor = _floor(deployment, manifests)
        if len(covering) != 1:
            found.append(f"Deployment {name} is covered by {len(covering)} PDBs")
        elif _allowed(covering[0], floor) < 1:
            found.append(f"Deployment {name}: PDB allows no eviction at {floor} replicas")
        policies = [
            p
            for p in _of_kind(manifests, "NetworkPolicy")
            if p["spec"]["podSelector"] == {}
            or _matches(p["spec"]["podSelector"].get("matchLabels", {}), _pod_labels(deployment))
        ]
        if not policies:
            found.append(f"Deployment {name} pods are selected by no NetworkPolicy")
    found.extend(_egress_violations(_of_kind(manifests, "NetworkPolicy")))
    return found


def _egress_violations(policies: list[Manifest]) -> list[str]:
    """Each egress rule names a destination and its ports; an open one (every address or every
    namespace) carries the reason annotation."""
    found: list[str] = []
    for policy in policies:
        name = policy["metadata"]["name"]
        reason = policy["metadata"].get("annotations", {}).get("hastack.dev/open-egress-reason", "").strip()
        for index, rule in enumerate(policy["spec"].get("egress", [])):
            if not rule.get("to") or not rule.get("ports"):
                found.append(f"NetworkPolicy {name} egress[{index}] allows every destination or every port")
            for peer in rule.get("to", []):
                block = peer.get("ipBlock", {}).get("cidr", "")
                every_namespace = "namespaceSelector" in peer and not any(peer["namespaceSelector"].values())
                if (block.endswith("/0") or every_namespace) and not reason:
                    found.append(f"NetworkPolicy {name} egress[{index}] is open without a reason")
    return found
