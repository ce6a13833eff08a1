"""Cross-resource rules: they judge the whole stack at once (PDBs vs HPAs vs workloads, Services vs
pods, Ingress vs Services and TLS secrets, NetworkPolicy coverage). Per-object tools cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from hastack import kube
from hastack.resources.tls import EXTERNAL_TLS_SECRETS_ANNOTATION
from hastack.wire import is_unknown, show

from .base import K8sObject, Rule, UnknownValueError, as_dict, as_int, as_list, dig, known
from .k8s import (
    REPLICATED_KINDS,
    SINGLE_WRITER_ANNOTATION,
    WORKLOAD_KINDS,
    StackIndex,
    Workload,
    build_index,
    container_ports,
    containers,
    declared_single_writer,
    equality_selector,
    hpa_target,
    mounted_single_node_claims,
    port_resolves,
    recreates_with_claim,
    selected_workloads,
    selector_matches,
    single_node_claims,
)

Finding = tuple[str, str]


def each_subject(subjects: Iterable[Any], check: Callable[[Any], Iterable[Finding]]) -> Iterator[Finding]:
    """Runs `check` per subject; an unknown value skips that subject only."""
    for subject in subjects:
        try:
            yield from list(check(subject))
        except UnknownValueError:
            continue


def workload_display(workload: Workload) -> str:
    return f"{workload.obj.kind} {workload.namespace}/{workload.name}"


# ---- min-replicas ------------------------------------------------------------------------------


LEADER_WORDS = frozenset({"leader", "master", "primary", "writer"})
"""Pod label values that name the one writer of a replicated store (a Redis primary, a leader)."""
SINGLE_WRITER_HINT = (
    f"an app that must run alone (one leader or writer, e.g. a Redis primary or a VPN router, where "
    f"more replicas would be independent writers) is declared with annotation {SINGLE_WRITER_ANNOTATION}: "
    "'<why>' instead"
)


def _leader_label(workload: Workload) -> str | None:
    """`key=value` of a pod label naming the workload a leader or primary, if one does."""
    for key, value in workload.labels.items():
        if isinstance(value, str) and value.lower() in LEADER_WORDS:
            return f"{key}={value}"
    return None


def served_workloads(index: StackIndex) -> set[str]:
    """URNs of the workloads some Service of the stack certainly selects (a selection an unknown value
    makes undecidable counts as none: an unknown never fails a rule)."""
    served: set[str] = set()
    for service in index.of_kind("Service", ""):
        try:
            if known(service.spec.get("type")) == "ExternalName":
                continue
            namespace = service.namespace
            selector = as_dict(service.spec.get("selector"))
        except UnknownValueError:
            continue
        if selector:
            matched, _ = selected_workloads(index, namespace, equality_selector(selector))
            served.update(w.obj.urn for w in matched)
    return served


def check_min_replicas(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """One replica of a serving workload (one a Service selects) is a single point of failure; the HPA
    floor counts when an HPA owns the count. A workload no Service selects serves no traffic (a load
    generator, a batch consumer): more replicas multiply its work, not its availability.

    Single writers (declared, Recreate on a claim, or writing a ReadWriteOnce claim) are judged by
    rwo-volume-rollout instead: more replicas would break them.
    """
    index = build_index(objs)
    needed = int(cfg["minReplicas"])
    claims = single_node_claims(index)
    served = served_workloads(index)

    def check(workload: Workload) -> Iterator[Finding]:
        if (
            workload.obj.kind not in REPLICATED_KINDS
            or workload.hpa is not None
            or index.maybe_hpa_owned(workload)
            or declared_single_writer(workload.obj)
            or recreates_with_claim(workload.obj)
            or mounted_single_node_claims(workload, claims)
            or workload.obj.urn not in served
        ):
            return
        display = workload_display(workload)
        count = (
            "spec.replicas is unset (defaults to 1) and no HPA targets it"
            if workload.replicas is None
            else f"spec.replicas is {workload.replicas}"
        )
        if workload.replicas is not None and workload.replicas >= needed:
            return
        leader = _leader_label(workload)
        if leader is not None and workload.floor == 1:
            yield (
                workload.obj.urn,
                f"{display} {count}, and its pod label {leader} names a single writer, which more "
                f"replicas would turn into independent writers: if it is one, declare it with annotation "
                f"{SINGLE_WRITER_ANNOTATION}: '<why>'; if it replicates, set spec.replicas: {needed}",
            )
            return
        fix = (
            f"set spec.replicas: {needed} or add an HPA with minReplicas >= {needed}"
            if workload.replicas is None
            else f"set spec.replicas: {needed}"
        )
        yield (
            workload.obj.urn,
            f"{display} {count}; at least {needed} needed: {fix}; {SINGLE_WRITER_HINT}",
        )

    yield from each_subject(index.workloads, check)


# ---- PDBs --------------------------------------------------------------------------------------


def _pdbs(index: StackIndex) -> list[K8sObject]:
    return index.of_kind("PodDisruptionBudget", "policy")


def check_pdb_coverage(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """Each multi-replica workload needs exactly one PDB: none = unguarded, two = eviction blocked."""
    index = build_index(objs)
    selections: dict[str, list[K8sObject]] = {}
    undecided: set[str] = set()
    pdbs = _pdbs(index)
    for pdb in pdbs:
        try:
            namespace = pdb.namespace
            selector = pdb.spec.get("selector")
        except UnknownValueError:
            undecided.update(w.obj.urn for w in index.workloads)
            continue
        matched, maybe = selected_workloads(index, namespace, selector)
        if maybe:
            undecided.update(w.obj.urn for w in index.workloads_in(namespace))
        for workload in matched:
            selections.setdefault(workload.obj.urn, []).append(pdb)
        if not matched and not maybe and selector is not None:
            yield (
                pdb.urn,
                f"{pdb.display()} selects the pods of no workload in namespace {namespace}: "
                "make spec.selector match the workload's pod labels, or delete it",
            )

    def check(workload: Workload) -> Iterator[Finding]:
        found = selections.get(workload.obj.urn, [])
        if len(found) > 1:  # the eviction API refuses pods under two PDBs, whatever the replica count
            names = ", ".join(p.display() for p in found)
            yield (
                workload.obj.urn,
                f"{workload_display(workload)} is selected by {len(found)} PodDisruptionBudgets ({names}); "
                "overlapping PDBs block eviction: keep exactly one",
            )
        elif (
            not found
            and workload.obj.urn not in undecided
            and workload.obj.kind in REPLICATED_KINDS
            and (workload.floor >= 2 or workload.hpa is not None)
        ):
            yield (
                workload.obj.urn,
                f"{workload_display(workload)} runs {workload.floor_text()} but no "
                "PodDisruptionBudget selects "
                "its pods: add a PDB with maxUnavailable: 1 and the workload's selector",
            )

    yield from each_subject(index.workloads, check)


def disruptions_allowed(pdb: K8sObject, expected: int) -> int | None:
    """How many pods the disruption controller lets go at `expected` pods (hastack.kube)."""
    spec = pdb.spec
    return kube.disruptions_allowed(
        known(spec.get("maxUnavailable")), known(spec.get("minAvailable")), expected
    )


def check_pdb_allows_eviction(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """At the minimum scale at least one voluntary eviction must be possible, or drains hang."""
    index = build_index(objs)

    def check(pdb: K8sObject) -> Iterator[Finding]:
        matched, maybe = selected_workloads(index, pdb.namespace, pdb.spec.get("selector"))
        if not matched or maybe:
            return
        if any((w.hpa is not None and w.hpa_min is None) or index.maybe_hpa_owned(w) for w in matched):
            return
        expected = sum(w.floor for w in matched)
        allowed = disruptions_allowed(pdb, expected)
        keep = int(cfg["minAvailable"])
        if allowed is None or (allowed >= 1 and expected - allowed >= keep):
            return
        spec = pdb.spec
        if spec.get("maxUnavailable") is not None:
            policy = f"maxUnavailable {show(spec['maxUnavailable'])}"
        else:
            policy = f"minAvailable {show(spec['minAvailable'])}"
        floors = ", ".join(f"{workload_display(w)}: {w.floor_text()}" for w in matched)
        scale = matched[0].floor_text() if len(matched) == 1 else f"{expected} replicas ({floors})"
        if allowed < 1:
            yield (
                pdb.urn,
                f"{pdb.display()} allows no eviction: {policy} with {scale}; set maxUnavailable: 1",
            )
            return
        yield (
            pdb.urn,
            f"{pdb.display()} lets {allowed} pod(s) go with {scale} ({policy}), keeping "
            f"{expected - allowed}; at least {keep} must stay available during disruptions: lower "
            "maxUnavailable or raise the floor",
        )

    yield from each_subject(_pdbs(index), check)


# ---- HPA ---------------------------------------------------------------------------------------


def _hpas(index: StackIndex) -> list[K8sObject]:
    return index.of_kind("HorizontalPodAutoscaler", "autoscaling")


def check_hpa_target(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """An HPA whose target is missing scales nothing; a static spec.replicas fights the HPA on apply."""
    index = build_index(objs)

    def check(hpa: K8sObject) -> Iterator[Finding]:
        ref = as_dict(hpa.spec.get("scaleTargetRef"))
        if index.unknown_workloads:
            return
        target = hpa_target(index, hpa)
        if target is None:
            kinds = sorted({w.obj.kind for w in index.workloads_in(hpa.namespace)})
            yield (
                hpa.urn,
                f"{hpa.display()} spec.scaleTargetRef "
                f"{known(ref.get('kind'))}/{known(ref.get('name'))} names no "
                f"workload in namespace {hpa.namespace} of this stack (workload kinds there: "
                f"{', '.join(kinds) or 'none'}): point it at the Deployment's metadata.name",
            )
            return
        if target.replicas is not None:
            yield (
                target.obj.urn,
                f"{workload_display(target)} sets spec.replicas {target.replicas} but "
                f"{hpa.display()} owns its "
                "replica count: remove spec.replicas (the two fight on every apply)",
            )

    yield from each_subject(_hpas(index), check)


def _utilization_resources(hpa: K8sObject) -> list[tuple[str, str | None]]:
    """(resource, container or None) for each Utilization metric, including the v2 default (cpu 80%)."""
    if hpa.type.startswith("kubernetes:autoscaling/v1:"):
        return [("cpu", None)]
    metrics = as_list(hpa.spec.get("metrics"))
    if not metrics:
        return [("cpu", None)]
    found: list[tuple[str, str | None]] = []
    for metric in metrics:
        kind = known(dig(metric, "type"))
        if kind == "Resource" and known(dig(metric, "resource", "target", "type")) == "Utilization":
            found.append((str(known(dig(metric, "resource", "name"))), None))
        if (
            kind == "ContainerResource"
            and known(dig(metric, "containerResource", "target", "type")) == "Utilization"
        ):
            found.append(
                (
                    str(known(dig(metric, "containerResource", "name"))),
                    str(known(dig(metric, "containerResource", "container"))),
                )
            )
    return found


def check_hpa_requests(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """Utilization is usage / request: without a request on every container the HPA cannot compute it."""
    index = build_index(objs)

    def check(hpa: K8sObject) -> Iterator[Finding]:
        target = hpa_target(index, hpa)
        if target is None:
            return
        for resource, only in _utilization_resources(hpa):
            for container in containers(target.pod_spec, init=False):
                name = known(container.get("name"))
                if only is not None and name != only:
                    continue
                request = dig(container, "resources", "requests", resource)
                if request in (None, ""):
                    yield (
                        hpa.urn,
                        f"{hpa.display()} scales on {resource} Utilization but container {name} of "
                        f"{workload_display(target)} has no resources.requests.{resource}: set "
                        "it on every container",
                    )

    yield from each_subject(_hpas(index), check)


# ---- Services ----------------------------------------------------------------------------------


def check_service_targets(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """A Service that selects no pods, or whose targetPort resolves in none, routes traffic nowhere.

    A named targetPort must be declared by the pods; a number is judged only against pods that
    declare ports (an undeclared port is still reachable, so pods declaring none are not judged).
    """
    index = build_index(objs)

    def check(service: K8sObject) -> Iterator[Finding]:
        spec = service.spec
        if known(spec.get("type")) == "ExternalName":
            return
        selector = as_dict(spec.get("selector"))
        if not selector:
            return  # endpoints managed elsewhere
        matched, maybe = selected_workloads(index, service.namespace, equality_selector(selector))
        if not matched:
            if not maybe:
                shown = ", ".join(f"{k}={v}" for k, v in selector.items())
                yield (
                    service.urn,
                    f"{service.display()} spec.selector {{{shown}}} selects the pods of no "
                    "workload in namespace "
                    f"{service.namespace}: match the workload's pod template labels",
                )
            return
        for entry in as_list(spec.get("ports")):
            port = as_dict(entry)
            target = known(port.get("targetPort"))
            if target is None:
                target = known(port.get("port"))
            for workload in matched:
                ports = container_ports(workload.pod_spec)
                if not isinstance(target, str) and not ports:
                    continue  # a number reaches the pod's port whether or not a container declares it
                if port_resolves(target, ports) is False:
                    declared = ", ".join(
                        f"{p.get('name')}:{as_int(p.get('containerPort'))}"
                        if p.get("name")
                        else str(as_int(p.get("containerPort")))
                        for p in ports
                    )
                    if isinstance(target, str):
                        shown, fix = f"'{target}'", "a named targetPort must be declared: use one of those"
                    else:
                        shown = str(as_int(target))
                        fix = "use one of those, or declare the port if the container listens on it"
                    yield (
                        service.urn,
                        f"{service.display()} port {show(port.get('port'))} targetPort {shown} "
                        "matches no container "
                        f"port of {workload_display(workload)} (declared: {declared or 'none'}): {fix}",
                    )

    yield from each_subject(index.of_kind("Service", ""), check)


# ---- Ingress -----------------------------------------------------------------------------------


def _backends(ingress: K8sObject) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, backend.service) for the default backend and every path."""
    spec = ingress.spec
    default = as_dict(dig(spec, "defaultBackend", "service"))
    if default:
        yield "spec.defaultBackend", default
    for i, rule in enumerate(as_list(spec.get("rules"))):
        for j, path in enumerate(as_list(dig(rule, "http", "paths"))):
            service = as_dict(dig(path, "backend", "service"))
            if service:
                yield f"spec.rules[{i}].http.paths[{j}]", service


def check_ingress_backends(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """A backend naming a missing Service or port returns 503 for that path."""
    index = build_index(objs)
    services: dict[tuple[str, str], K8sObject] = {}
    unknown_service = False
    for service in index.of_kind("Service", ""):
        try:
            services[(service.namespace, service.obj_name)] = service
        except UnknownValueError:
            unknown_service = True

    def check(ingress: K8sObject) -> Iterator[Finding]:
        for where, backend in _backends(ingress):
            name = known(backend.get("name"))
            port = as_dict(backend.get("port"))
            service = services.get((ingress.namespace, name))
            if service is None:
                if not unknown_service:
                    yield (
                        ingress.urn,
                        f"{ingress.display()} {where} backend names Service {name}, which is not "
                        "in namespace "
                        f"{ingress.namespace} of this stack: use the Service's metadata.name",
                    )
                continue
            ports = [as_dict(p) for p in as_list(service.spec.get("ports"))]
            number, port_name = port.get("number"), known(port.get("name"))
            if number is not None:  # an ExternalName alias has no ports: the backend's number is used
                ok = known(service.spec.get("type")) == "ExternalName" or any(
                    as_int(p.get("port")) == as_int(number) for p in ports
                )
                wanted = f"port.number {as_int(number)}"
            else:
                ok = any(known(p.get("name")) == port_name for p in ports)
                wanted = f"port.name '{port_name}'"
            if not ok:
                offered = ", ".join(
                    f"{p.get('name')}:{as_int(p.get('port'))}"
                    if p.get("name")
                    else str(as_int(p.get("port")))
                    for p in ports
                )
                yield (
                    ingress.urn,
                    f"{ingress.display()} {where} backend {wanted} is not a port of {service.display()} "
                    f"(ports: {offered or 'none'}): use one of those",
                )

    yield from each_subject(index.of_kind("Ingress", "networking.k8s.io"), check)


CERT_MANAGER_ANNOTATIONS = ("cert-manager.io/cluster-issuer", "cert-manager.io/issuer")
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
CERTIFICATE_ANNOTATIONS = (
    "alb.ingress.kubernetes.io/certificate-arn",
    "networking.gke.io/pre-shared-cert",
    "networking.gke.io/managed-certificates",
)
"""Annotations by which an Ingress names a certificate its (cloud) controller terminates TLS with."""
EXTERNAL_SECRET_ANNOTATION = EXTERNAL_TLS_SECRETS_ANNOTATION
"""Ingress annotation listing (comma-separated) TLS secret names managed outside the stack."""


def host_covered(host: str, tls_hosts: Iterable[str]) -> bool:
    """Exact match, or a `*.` wildcard covering exactly one more label."""
    for pattern in tls_hosts:
        if pattern == host:
            return True
        if (
            pattern.startswith("*.")
            and "." in host
            and host.split(".", 1)[1] == pattern[2:]
            and not host.startswith("*.")
        ):
            return True
    return False


def check_ingress_tls(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """Every host is served over TLS with a certificate secret the stack provides (or is told about).

    A secret another Ingress of the namespace asks cert-manager for counts as provided. An entry
    without secretName is valid for ingress classes that bring their own certificate (configured),
    and an Ingress that names its certificate in a controller annotation needs no spec.tls at all.
    """
    index = build_index(objs)
    secrets: set[tuple[str, str]] = set()
    unknown_secret = False
    for secret in index.of_kind("Secret", ""):
        try:
            secrets.add((secret.namespace, secret.obj_name))
        except UnknownValueError:
            unknown_secret = True
    for certificate in index.of_kind("Certificate", "cert-manager.io"):
        try:
            secrets.add((certificate.namespace, str(known(certificate.spec.get("secretName")))))
        except UnknownValueError:
            unknown_secret = True
    for requester in index.of_kind("Ingress", "networking.k8s.io"):
        try:  # cert-manager makes the secrets an annotated Ingress asks for; a canary twin may share them
            annotations = as_dict(requester.metadata.get("annotations"))
            if any(annotations.get(a) for a in CERT_MANAGER_ANNOTATIONS):
                for entry in as_list(requester.spec.get("tls")):
                    secrets.add((requester.namespace, str(known(as_dict(entry).get("secretName")))))
        except UnknownValueError:
            unknown_secret = True
    external = [str(s) for s in cfg["externalSecrets"]]
    terminating = {str(c) for c in cfg["tlsWithoutSecretClasses"]}
    certificate_annotations = [str(a) for a in cfg["certificateAnnotations"]]

    def check(ingress: K8sObject) -> Iterator[Finding]:
        spec = ingress.spec
        annotations = as_dict(ingress.metadata.get("annotations"))
        if any(known(annotations.get(a)) for a in certificate_annotations):
            return  # the Ingress names the certificate its controller serves for every host
        ingress_class = known(spec.get("ingressClassName")) or known(annotations.get(LEGACY_CLASS_ANNOTATION))
        cert_manager = any(annotations.get(a) for a in CERT_MANAGER_ANNOTATIONS)
        annotated = {
            s.strip()
            for s in str(known(annotations.get(EXTERNAL_SECRET_ANNOTATION)) or "").split(",")
            if s.strip()
        }
        tls = [as_dict(t) for t in as_list(spec.get("tls"))]
        for i, rule in enumerate(as_list(spec.get("rules"))):
            host = known(as_dict(rule).get("host"))
            if not host:
                if not any(not as_list(t.get("hosts")) for t in tls):
                    yield (
                        ingress.urn,
                        f"{ingress.display()} spec.rules[{i}] has no host, so it is served over plain HTTP: "
                        "set a host and a spec.tls entry covering it",
                    )
                continue
            entries = [t for t in tls if host_covered(host, [str(known(h)) for h in as_list(t.get("hosts"))])]
            if not entries:
                yield (
                    ingress.urn,
                    f"{ingress.display()} host {host} is not covered by any spec.tls entry: add "
                    "it to spec.tls[].hosts "
                    "with a secretName",
                )
        for j, entry in enumerate(tls):
            secret_name = known(entry.get("secretName"))
            if not secret_name and ingress_class in terminating:
                continue  # the controller supplies the certificate for the entry's hosts itself
            if not secret_name:
                yield (
                    ingress.urn,
                    f"{ingress.display()} spec.tls[{j}] has no secretName: name the certificate Secret, or, "
                    f"if ingress class {ingress_class or '(none)'} supplies certificates itself, list it in "
                    "this rule's tlsWithoutSecretClasses config",
                )
                continue
            namespace = ingress.namespace
            if (
                (namespace, secret_name) in secrets
                or cert_manager
                or secret_name in annotated
                or secret_name in external
                or f"{namespace}/{secret_name}" in external
                or unknown_secret
            ):
                continue
            yield (
                ingress.urn,
                f"{ingress.display()} spec.tls[{j}].secretName {secret_name} is not created by this stack "
                f"(no Secret or cert-manager Certificate {namespace}/{secret_name}, no "
                "cert-manager.io issuer "
                "annotation): add one, or list it in this rule's externalSecrets config",
            )

    yield from each_subject(index.of_kind("Ingress", "networking.k8s.io"), check)


# ---- NetworkPolicy -----------------------------------------------------------------------------


def _is_default_deny(policy: K8sObject) -> bool:
    spec = policy.spec
    selector = as_dict(spec.get("podSelector"))
    if selector.get("matchLabels") or selector.get("matchExpressions"):
        return False
    types = [str(known(t)) for t in as_list(spec.get("policyTypes"))] or ["Ingress"]
    return "Ingress" in types and not as_list(spec.get("ingress"))


def check_network_policy(objs: Sequence[K8sObject], cfg: Mapping[str, Any]) -> Iterator[Finding]:
    """Pods no NetworkPolicy selects accept traffic from anywhere in the cluster."""
    index = build_index(objs)
    policies = index.of_kind("NetworkPolicy", "networking.k8s.io")
    by_namespace: dict[str, list[K8sObject]] = {}
    unknown = False
    for policy in policies:
        try:
            by_namespace.setdefault(policy.namespace, []).append(policy)
        except UnknownValueError:
            unknown = True
    if unknown:
        return

    def check(workload: Workload) -> Iterator[Finding]:
        maybe = False
        for policy in by_namespace.get(workload.namespace, []):
            selector = policy.spec.get("podSelector")
            result = (
                True
                if selector is not None and not is_unknown(selector) and not as_dict(selector)
                else selector_matches(selector, workload.labels)
            )
            if result:
                return  # one policy selecting the pods is enough (the namespace's default deny, first)
            maybe = maybe or result is None
        if not maybe:
            yield (
                workload.obj.urn,
                f"{workload_display(workload)} pods are selected by no NetworkPolicy in namespace "
                f"{workload.namespace}: add a default-deny policy (podSelector: {{}}) and an "
                "allow policy for the app",
            )

    yield from each_subject(index.workloads, check)
    if cfg.get("requireDefaultDeny"):
        for namespace in sorted({w.namespace for w in index.workloads}):
            try:
                if any(_is_default_deny(p) for p in by_namespace.get(namespace, [])):
                    continue
            except UnknownValueError:
                continue
            urn = next(w.obj.urn for w in index.workloads if w.namespace == namespace)
            yield (
                urn,
                f"namespace {namespace} has no default-deny NetworkPolicy (podSelector {{}}, policyTypes "
                "[Ingress, Egress], no rules): add one",
            )


_MIN_REPLICAS_SCHEMA = {
    "type": "integer",
    "minimum": 1,
    "default": 2,
    "description": "lowest replica count allowed",
}

RULES: tuple[Rule, ...] = (
    Rule(
        id="min-replicas",
        description=(
            "Serving workloads (selected by a Service) not owned by an HPA run at least the environment's "
            "minimum replicas."
        ),
        severity="high",
        remediation=(
            "Set spec.replicas to the environment floor, or add an HPA whose minReplicas is at least that; "
            f"an app that must run alone (a Redis primary, a VPN router) carries {SINGLE_WRITER_ANNOTATION} "
            "instead."
        ),
        category="ha",
        default_enforcement="mandatory",
        config={"minReplicas": _MIN_REPLICAS_SCHEMA},
        stack_check=check_min_replicas,
        kinds=frozenset(WORKLOAD_KINDS) | {"HorizontalPodAutoscaler", "PersistentVolumeClaim", "Service"},
    ),
    Rule(
        id="pdb-coverage",
        description="Every multi-replica workload is selected by exactly one PodDisruptionBudget.",
        severity="high",
        remediation=(
            "Give each workload one PDB whose selector matches its pod labels; delete overlapping PDBs."
        ),
        category="ha",
        default_enforcement="mandatory",
        stack_check=check_pdb_coverage,
        kinds=frozenset(WORKLOAD_KINDS) | {"HorizontalPodAutoscaler", "PodDisruptionBudget"},
    ),
    Rule(
        id="pdb-allows-eviction",
        description=(
            "A PodDisruptionBudget allows an eviction at the workload's minimum scale and keeps the "
            "environment's minimum available."
        ),
        severity="critical",
        remediation=(
            "Use maxUnavailable: 1, or a minAvailable below the replica (HPA) floor that still keeps the "
            "environment's minimum available."
        ),
        category="ha",
        default_enforcement="mandatory",
        config={
            "minAvailable": {
                "type": "integer",
                "minimum": 0,
                "default": 0,
                "description": "pods the budget must keep at the replica floor (0: not checked)",
            }
        },
        stack_check=check_pdb_allows_eviction,
        kinds=frozenset(WORKLOAD_KINDS) | {"HorizontalPodAutoscaler", "PodDisruptionBudget"},
    ),
    Rule(
        id="hpa-target-exists",
        description="An HPA targets a workload in the stack, and that workload sets no static replicas.",
        severity="high",
        remediation="Point scaleTargetRef at the workload's kind and metadata.name; drop its spec.replicas.",
        category="ha",
        default_enforcement="mandatory",
        stack_check=check_hpa_target,
        kinds=frozenset(WORKLOAD_KINDS) | {"HorizontalPodAutoscaler"},
    ),
    Rule(
        id="hpa-metrics-have-requests",
        description="An HPA Utilization metric has that resource requested on every container of its target.",
        severity="high",
        remediation="Set resources.requests.<cpu|memory> on every container of the target workload.",
        category="ha",
        default_enforcement="mandatory",
        stack_check=check_hpa_requests,
        kinds=frozenset(WORKLOAD_KINDS) | {"HorizontalPodAutoscaler"},
    ),
    Rule(
        id="service-selects-pods",
        description=(
            "A Service selects the pods of a workload and its targetPort resolves to a container port."
        ),
        severity="high",
        remediation=(
            "Make spec.selector match the pod template labels and targetPort name a declared container port."
        ),
        category="ha",
        default_enforcement="mandatory",
        stack_check=check_service_targets,
        kinds=frozenset(WORKLOAD_KINDS) | {"Service"},
    ),
    Rule(
        id="ingress-backend-exists",
        description="Every Ingress backend names a Service of the stack and one of its ports.",
        severity="high",
        remediation="Use the Service's metadata.name and one of its port numbers or names.",
        category="ha",
        default_enforcement="mandatory",
        stack_check=check_ingress_backends,
        kinds=frozenset({"Service", "Ingress"}),
    ),
    Rule(
        id="ingress-tls-coverage",
        tier="hardening",
        description="Every Ingress host is covered by a TLS entry whose secret the stack provides.",
        severity="high",
        remediation=(
            "Add each host to spec.tls[].hosts with a secretName created in the stack (Secret, cert-manager "
            "Certificate or issuer annotation); list secrets managed elsewhere in externalSecrets."
        ),
        category="security",
        default_enforcement="mandatory",
        config={
            "externalSecrets": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "TLS secret names ('name' or 'namespace/name') managed outside the stack",
            },
            "tlsWithoutSecretClasses": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": (
                    "ingress classes whose controller supplies the certificate itself (e.g. alb with ACM "
                    "certificates found by host, or a controller's default certificate): their spec.tls "
                    "entries need no secretName"
                ),
            },
            "certificateAnnotations": {
                "type": "array",
                "items": {"type": "string"},
                "default": list(CERTIFICATE_ANNOTATIONS),
                "description": (
                    "Ingress annotations naming a certificate the controller serves for every host "
                    "(AWS ACM, GKE pre-shared or managed): an Ingress carrying one needs no spec.tls"
                ),
            },
        },
        stack_check=check_ingress_tls,
        kinds=frozenset({"Secret", "Certificate", "Ingress"}),
    ),
    Rule(
        id="network-policy-coverage",
        tier="hardening",
        description=(
            "Every pod is selected by a NetworkPolicy (and namespaces deny by default where required)."
        ),
        severity="high",
        remediation=(
            "Add a default-deny NetworkPolicy (podSelector: {}) per namespace plus per-app allow policies."
        ),
        category="security",
        default_enforcement="mandatory",
        config={
            "requireDefaultDeny": {
                "type": "boolean",
                "default": True,
                "description": "require a namespace-wide default-deny policy",
            }
        },
        stack_check=check_network_policy,
        kinds=frozenset(WORKLOAD_KINDS) | {"NetworkPolicy"},
    ),
)
