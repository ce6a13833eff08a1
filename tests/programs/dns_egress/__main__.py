"""Default deny plus the DNS allowance every network-policy recipe writes: egress on port 53 to the
pods labelled `k8s-app: kube-dns` in whatever namespace runs them (`namespaceSelector: {}` together
with that `podSelector`). That names the DNS pods, not every namespace; the open allowance beside it
(egress to any namespace on 443, no pod selector) is the one egress-not-open reports."""

import pulumi_kubernetes as k8s

ns = k8s.core.v1.Namespace(
    "web", metadata={"name": "web", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}
)
dns = {
    "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}
k8s.networking.v1.NetworkPolicy(
    "default-deny",
    metadata={"namespace": "web"},
    spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "egress": [dns]},
)
k8s.networking.v1.NetworkPolicy(
    "api-egress",
    metadata={"namespace": "web"},
    spec={
        "podSelector": {"matchLabels": {"app": "api"}},
        "policyTypes": ["Egress"],
        "egress": [dns, {"to": [{"namespaceSelector": {}}], "ports": [{"protocol": "TCP", "port": 443}]}],
    },
)
