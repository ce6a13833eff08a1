"""The HA claims of the dev and prod stacks, end to end: the real `pulumi` engine (with the policy
pack) deploys each stack into the local control plane, then the Kubernetes controllers, scheduler,
Eviction API and disruption controller are made to prove them.

One `pulumi up` per stack (module-scoped fixture, parametrized: all dev tests, then all prod
tests, in file order; the destroy test is last). The stack runs from a temporary program directory
(the repo's Pulumi.yaml, __main__.py, components/ and .venv, linked) with a copy of the stack file
whose namespace gets a unique suffix, so that a stack someone deployed with `make up` into the same
control plane is never touched; state lives in a temporary file backend.

Measured figures (up time, HPA time to its floor, minimum availability during the rolling update
and the drain, evictions allowed vs refused) are printed at the end of the run.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from hastack_tools.ops import engine
from tests.e2e.conftest import FIGURES
from tests.e2e.kube import (
    Cluster,
    DeploymentWatcher,
    evict,
    is_ready,
    live_pods,
    wait_until,
)

ZONE = "topology.kubernetes.io/zone"
HOSTNAME = "kubernetes.io/hostname"
PART_OF = "app.kubernetes.io/part-of=hastack"
INSTANCE = "app.kubernetes.io/instance"
DRAIN_RETRY_S = 5.0
"""`kubectl drain` retries a refused eviction every 5 seconds."""
DRAIN_TIMEOUT_S = 90.0
KEPT_DURING_DISRUPTION = {"dev": 1, "prod": 2}
"""README: pods kept during disruption, per environment."""
NEW_TAG = "9.9.9"
NEW_DIGEST = "sha256:" + "0123456789abcdef" * 4


@dataclass
class Deployed:
    """One stack brought up by the real engine into its own namespace."""

    stack: str
    cluster: Cluster
    program: Path
    workdir: Path
    namespace: str
    up_code: int = -1
    up_seconds: float = 0.0
    up_output: str = ""
    destroyed: bool = False
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def stack_file(self) -> Path:
        return self.program / f"Pulumi.{self.stack}.yaml"

    def config(self) -> dict[str, Any]:
        """The stack file's `hastack:` keys as deployed (namespace suffix included)."""
        loaded = yaml.safe_load(self.stack_file.read_text())["config"]
        return {key.split(":", 1)[1]: value for key, value in loaded.items()}

    def apps(self) -> list[dict[str, Any]]:
        apps: list[dict[str, Any]] = self.config()["apps"]
        return apps

    def engine(self, command: str, extra: tuple[str, ...] = ()) -> tuple[int, str]:
        """Runs the real CLI through hastack_tools.ops.engine; returns (exit code, its output)."""
        log = self.workdir / f"{command}-{time.monotonic_ns()}.log"
        with log.open("wb") as sink:
            code = engine.run(
                command, self.program, self.stack, "local", extra, workdir=self.workdir, log=sink
            )
        return code, log.read_text(errors="replace")

    def kubectl_json(self, *args: str) -> Any:
        return self.cluster.kubectl_json("-n", self.namespace, *args)

    def deployments(self) -> dict[str, dict[str, Any]]:
        """Deployments by instance (web, web-canary, api)."""
        return {
            d["metadata"]["labels"][INSTANCE]: d
            for d in self.kubectl_json("get", "deployments", "--show-managed-fields")["items"]
        }

    def floors(self) -> dict[str, int]:
        """Replica floor per Deployment instance: the HPA minReplicas, else the static replicas."""
        floors: dict[str, int] = {}
        for app in self.apps():
            floor = int(app["autoscaling"]["minReplicas"]) if "autoscaling" in app else int(app["replicas"])
            floors[app["name"]] = floor
            if "canary" in app:
                floors[f"{app['name']}-canary"] = floor
        return floors


def _tail(output: str, lines: int = 60) -> str:
    return "\n".join(output.splitlines()[-lines:])


@pytest.fixture(scope="module", params=["dev", "prod"])
def deployed(
    request: pytest.FixtureRequest,
    cluster: Cluster,
    engine_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployed]:
    """`pulumi up` of the stack, once; destroyed at the end if the destroy test did not run."""
    stack = str(request.param)
    root = tmp_path_factory.mktemp(f"stack-{stack}")
    program, namespace = engine.program_copy(root, stack, f"e2e-{uuid.uuid4().hex[:6]}")
    workdir = root / "work"
    workdir.mkdir()
    d = Deployed(stack, cluster, program, workdir, namespace)
    start = time.monotonic()
    d.up_code, d.up_output = d.engine("up")
    d.up_seconds = time.monotonic() - start
    d.figures = FIGURES.setdefault(stack, {})
    d.figures["namespace"] = namespace
    d.figures["up_s"] = round(d.up_seconds, 1)
    created = re.search(r"\+ (\d+) created", d.up_output)
    d.figures["resources_created"] = int(created.group(1)) if created else None
    try:
        yield d
    finally:
        if not d.destroyed:
            d.engine("destroy")
            cluster.kubectl(
                "delete", "namespace", namespace, "--wait=false", "--ignore-not-found", check=False
            )


# ---- up, availability, placement ----------------------------------------------------------------


def test_up_succeeds_through_the_engine_and_the_policy_pack(deployed: Deployed) -> None:
    assert deployed.up_code == 0, _tail(deployed.up_output)
    assert "hastack-ha@v1" in deployed.up_output
    assert "mandatory" not in deployed.up_output, _tail(deployed.up_output)
    expected = {"dev": 27, "prod": 33}[deployed.stack]
    assert deployed.figures["resources_created"] == expected, _tail(deployed.up_output)
    print(f"\n{deployed.stack}: pulumi up {deployed.up_seconds:.1f}s, {expected} resources created")


def _whole(deploy: dict[str, Any], replicas: int) -> bool:
    """Available, with exactly `replicas` pods of the current template ready and available."""
    status = deploy.get("status", {})
    conditions = {c["type"]: c for c in status.get("conditions", [])}
    return bool(
        deploy["spec"].get("replicas") == replicas
        and conditions.get("Available", {}).get("status") == "True"
        and conditions.get("Progressing", {}).get("reason") == "NewReplicaSetAvailable"
        and status.get("observedGeneration") == deploy["metadata"]["generation"]
        and status.get("replicas") == replicas
        and status.get("updatedReplicas") == replicas
        and status.get("readyReplicas") == replicas
        and status.get("availableReplicas") == replicas
    )


def _wait_whole(deployed: Deployed, timeout: float = 90) -> None:
    floors = deployed.floors()

    def whole() -> bool:
        deployments = deployed.deployments()
        return set(deployments) == set(floors) and all(_whole(deployments[k], n) for k, n in floors.items())

    wait_until(f"every Deployment of {deployed.namespace} Available at {floors}", whole, timeout=timeout)


def test_every_deployment_becomes_available_at_its_floor(deployed: Deployed) -> None:
    """dev sets spec.replicas; prod leaves it to the HPA, which must raise the API server's default of
    1 to minReplicas by itself (no metrics-server here: the floor needs no metrics)."""
    start = time.monotonic()
    _wait_whole(deployed)
    deployed.figures["floor_reached_after_up_s"] = round(time.monotonic() - start, 1)
    floors = deployed.floors()
    deployments = deployed.deployments()
    for key, deploy in deployments.items():
        appliers = {
            m["manager"]
            for m in deploy["metadata"]["managedFields"]
            if m["operation"] == "Apply" and "f:replicas" in m.get("fieldsV1", {}).get("f:spec", {})
        }
        if deployed.stack == "dev":  # the program's own count, applied server-side by the provider
            assert len(appliers) == 1 and appliers.pop().startswith("pulumi-kubernetes"), (key, appliers)
        else:  # never the program's: the HPA's
            assert appliers == set(), (key, appliers)
    if deployed.stack == "prod":
        events = deployed.kubectl_json("get", "events", "--field-selector", "reason=SuccessfulRescale")[
            "items"
        ]
        hpas = {h["metadata"]["name"]: h for h in deployed.kubectl_json("get", "hpa")["items"]}
        rescaled = {
            hpas[e["involvedObject"]["name"]]["metadata"]["labels"][INSTANCE]: e["message"]
            for e in events
            if e["involvedObject"]["kind"] == "HorizontalPodAutoscaler"
        }
        assert rescaled == {
            key: f"New size: {floor}; reason: Current number of replicas below Spec.MinReplicas"
            for key, floor in floors.items()
        }


def _zones(cluster: Cluster) -> dict[str, str]:
    return {
        n["metadata"]["name"]: n["metadata"]["labels"][ZONE]
        for n in cluster.kubectl_json("get", "nodes")["items"]
    }


def test_pods_spread_as_the_environment_demands(deployed: Deployed) -> None:
    """dev: hostname spread (soft) puts the replicas on distinct nodes; prod: zone spread
    (DoNotSchedule) covers all three zones with a skew of at most 1, for every Deployment."""
    zones = _zones(deployed.cluster)
    for key, floor in deployed.floors().items():
        pods = [
            p for p in live_pods(deployed.cluster, deployed.namespace, f"{INSTANCE}={key}") if is_ready(p)
        ]
        assert len(pods) == floor, key
        nodes = [p["spec"]["nodeName"] for p in pods]
        if deployed.stack == "dev":
            assert len(set(nodes)) == len(nodes), (key, nodes)
        else:
            counts = [sum(1 for n in nodes if zones[n] == zone) for zone in sorted(set(zones.values()))]
            assert len(counts) == 3 and min(counts) >= 1, (key, counts)
            assert max(counts) - min(counts) <= 1, (key, counts)
        spread = pods[0]["spec"]["topologySpreadConstraints"]
        keys = {(c["topologyKey"], c["whenUnsatisfiable"]) for c in spread}
        expected = {(HOSTNAME, "ScheduleAnyway")} | (
            {(ZONE, "DoNotSchedule")} if deployed.stack == "prod" else set()
        )
        assert keys == expected


# ---- HPA, Service endpoints, TLS -------------------------------------------------------------------


def test_hpa_is_accepted_and_scales_the_right_deployment(deployed: Deployed) -> None:
    hpas = deployed.kubectl_json("get", "horizontalpodautoscalers")["items"]
    deployments = deployed.deployments()
    if deployed.stack == "dev":
        assert hpas == []  # dev sets static replicas: nothing else may own the count
        return
    floors = deployed.floors()
    assert {h["metadata"]["labels"][INSTANCE] for h in hpas} == set(floors)

    def caught_up() -> bool:
        """The HPA writes its status on its next sync (15 s) after scaling."""
        items = deployed.kubectl_json("get", "horizontalpodautoscalers")["items"]
        return all(h["status"].get("currentReplicas") == h["spec"]["minReplicas"] for h in items)

    wait_until("every HPA's status to report its floor", caught_up, timeout=45)
    hpas = deployed.kubectl_json("get", "horizontalpodautoscalers")["items"]
    for hpa in hpas:
        key = hpa["metadata"]["labels"][INSTANCE]
        ref = hpa["spec"]["scaleTargetRef"]
        assert ref == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": deployments[key]["metadata"]["name"],
        }
        conditions = {c["type"]: c for c in hpa["status"]["conditions"]}
        assert conditions["AbleToScale"]["status"] == "True", conditions
        assert hpa["spec"]["minReplicas"] == floors[key]
        assert hpa["status"]["currentReplicas"] == hpa["status"]["desiredReplicas"] == floors[key]
        deployed.figures.setdefault("hpa_conditions", {})[key] = {
            t: f"{c['status']}/{c['reason']}" for t, c in conditions.items()
        }


def test_service_has_an_endpoint_for_every_ready_pod(deployed: Deployed) -> None:
    services = deployed.kubectl_json("get", "services")["items"]
    assert {s["metadata"]["name"] for s in services} == set(deployed.floors())
    ports = {app["name"]: app["port"] for app in deployed.apps()}
    for service in services:
        name = service["metadata"]["name"]
        selector = ",".join(f"{k}={v}" for k, v in service["spec"]["selector"].items())
        ready = {
            p["metadata"]["name"]: p["status"]["podIP"]
            for p in live_pods(deployed.cluster, deployed.namespace, selector)
            if is_ready(p)
        }
        assert len(ready) == deployed.floors()[name]

        def listed(service_name: str = name, pods: dict[str, str] = ready) -> bool:
            return endpoints(service_name) == pods

        def endpoints(service_name: str) -> dict[str, str]:
            slices = deployed.kubectl_json(
                "get", "endpointslices", "-l", f"kubernetes.io/service-name={service_name}"
            )
            return {
                e["targetRef"]["name"]: e["addresses"][0]
                for s in slices["items"]
                for e in s.get("endpoints") or []
                if e.get("conditions", {}).get("ready")
            }

        wait_until(f"EndpointSlices of {name} to list its ready pods", listed, timeout=30)
        slices = deployed.kubectl_json("get", "endpointslices", "-l", f"kubernetes.io/service-name={name}")[
            "items"
        ]
        app = name.removesuffix("-canary")
        assert {(p["name"], p["port"]) for s in slices for p in s["ports"]} == {("http", ports[app])}


def _certificate_names(pem: bytes) -> set[str]:
    text = subprocess.run(
        ["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=pem, capture_output=True, check=True
    ).stdout.decode()
    return set(re.findall(r"DNS:([^,\s]+)", text))


def test_ingress_carries_the_tls_secret(deployed: Deployed) -> None:
    """Every host of every exposed app is covered: dev by a self-signed kubernetes.io/tls Secret in the
    cluster; prod's Ingress by the cert-manager issuer annotation and secret name (no cert-manager
    controller runs here), prod's web by an HTTPS Gateway listener with a 95/5 canary split."""
    ingresses = {
        i["metadata"]["labels"][INSTANCE]: i for i in deployed.kubectl_json("get", "ingresses")["items"]
    }
    config = deployed.config()
    exposed = [a for a in deployed.apps() if "ingress" in a]
    assert exposed
    for app in exposed:
        hosts = set(app["ingress"]["hosts"])
        if app.get("exposure", config.get("exposure", "ingress")) == "gateway":
            routes = deployed.kubectl_json("get", "httproutes.gateway.networking.k8s.io")["items"]
            https = [
                r
                for r in routes
                if r["spec"]["parentRefs"][0]["sectionName"] == config["gateway"]["sectionName"]
            ]
            assert len(https) == 1 and set(https[0]["spec"]["hostnames"]) == hosts
            weights = {b["name"]: b["weight"] for b in https[0]["spec"]["rules"][0]["backendRefs"]}
            assert weights == {app["name"]: 95, f"{app['name']}-canary": 5}
            continue
        ingress = ingresses[app["name"]]
        tls = ingress["spec"]["tls"]
        assert {h for entry in tls for h in entry["hosts"]} == hosts
        assert {r["host"] for r in ingress["spec"]["rules"]} == hosts
        (secret_name,) = {entry["secretName"] for entry in tls}
        if config["ingress"]["tls"]["mode"] == "self-signed":
            secret = deployed.kubectl_json("get", "secret", secret_name)
            assert secret["type"] == "kubernetes.io/tls"
            assert set(secret["data"]) == {"tls.crt", "tls.key"}
            assert _certificate_names(base64.b64decode(secret["data"]["tls.crt"])) == hosts
        else:
            annotations = ingress["metadata"]["annotations"]
            assert annotations["cert-manager.io/cluster-issuer"] == config["ingress"]["tls"]["issuer"]
            assert secret_name == f"{app['name']}-tls"


# ---- no perpetual diff ------------------------------------------------------------------------------


def test_preview_after_up_expects_no_changes(deployed: Deployed) -> None:
    code, output = deployed.engine("preview", ("--expect-no-changes", "--diff"))
    assert code == 0, _tail(output, 120)
    assert re.search(r"\d+ unchanged", output), _tail(output)


def test_refresh_then_preview_expects_no_changes(deployed: Deployed) -> None:
    """refresh reads the live objects (HPA-set replicas, defaulted fields) into the state; the program
    must still match them."""
    code, output = deployed.engine("refresh")
    assert code == 0, _tail(output, 120)
    code, output = deployed.engine("preview", ("--expect-no-changes", "--diff"))
    assert code == 0, _tail(output, 120)


# ---- disruption budget and drain ---------------------------------------------------------------------


def _pdbs(deployed: Deployed) -> dict[str, dict[str, Any]]:
    return {
        p["metadata"]["labels"][INSTANCE]: p
        for p in deployed.kubectl_json("get", "poddisruptionbudgets")["items"]
    }


def _budgets_settled(deployed: Deployed) -> bool:
    floors = deployed.floors()
    pdbs = _pdbs(deployed)
    return set(pdbs) == set(floors) and all(
        p.get("status", {}).get("observedGeneration") == p["metadata"]["generation"]
        and p["status"].get("currentHealthy") == floors[k]
        and p["status"].get("disruptionsAllowed", 0) >= 1
        for k, p in pdbs.items()
    )


def _nodes(cluster: Cluster) -> list[str]:
    return [n["metadata"]["name"] for n in cluster.kubectl_json("get", "nodes")["items"]]


def test_pdb_allows_one_eviction_and_refuses_the_next(deployed: Deployed) -> None:
    """On the Deployment with the most replicas: the first eviction is allowed (201), the second is
    refused (429) while the first pod's replacement cannot become ready (nodes cordoned, as in a drain)."""
    wait_until("the PDBs to allow a disruption at full health", lambda: _budgets_settled(deployed))
    floors = deployed.floors()
    key = max(floors, key=lambda k: floors[k])
    pdb = _pdbs(deployed)[key]
    assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    assert pdb["status"]["disruptionsAllowed"] == 1, pdb["status"]
    nodes = _nodes(deployed.cluster)
    deployed.cluster.kubectl("cordon", *nodes)
    codes: list[int] = []
    try:
        pods = [
            p["metadata"]["name"]
            for p in live_pods(deployed.cluster, deployed.namespace, f"{INSTANCE}={key}")
        ]
        for pod in pods[:2]:
            code, reply = evict(deployed.cluster, deployed.namespace, pod)
            codes.append(code)
            if code == 429:
                assert "disruption budget" in reply["message"], reply
        pdb_after = _pdbs(deployed)[key]["status"]
        assert "deletionTimestamp" not in deployed.kubectl_json("get", "pod", pods[1])["metadata"]
    finally:
        deployed.cluster.kubectl("uncordon", *nodes)
    deployed.figures["evictions"] = {
        "deployment": key,
        "replicas": floors[key],
        "allowed": codes.count(201),
        "refused": codes.count(429),
        "pdb": pdb["spec"].get("maxUnavailable", pdb["spec"].get("minAvailable")),
    }
    assert codes == [201, 429]
    assert pdb_after["disruptionsAllowed"] == 0
    _wait_whole(deployed)


def test_draining_a_node_keeps_every_app_at_its_floor(deployed: Deployed) -> None:
    """Cordon the node holding the most of our pods and evict them like `kubectl drain` (a refused
    eviction is retried every 5 s) while a watcher samples every Deployment: Ready replicas (what the
    Service routes to) never drop below the PDB's desiredHealthy nor the environment's disruption
    floor, and the node ends up with none of our pods.

    "Available" (Ready for minReadySeconds) is recorded, not asserted: the disruption controller
    counts a replacement as healthy as soon as it is Ready, so a drain may evict the next pod while
    the replacement still serves inside its minReadySeconds (seen here: available 0, ready 2)."""
    wait_until("the PDBs to allow a disruption at full health", lambda: _budgets_settled(deployed))
    desired = {k: int(p["status"]["desiredHealthy"]) for k, p in _pdbs(deployed).items()}
    pods = live_pods(deployed.cluster, deployed.namespace, PART_OF)
    per_node: dict[str, list[str]] = {}
    for item in pods:
        per_node.setdefault(item["spec"]["nodeName"], []).append(item["metadata"]["name"])
    node = max(sorted(per_node), key=lambda n: len(per_node[n]))
    log: list[tuple[float, str, int]] = []
    deployed.cluster.kubectl("cordon", node)
    try:
        with DeploymentWatcher(deployed.cluster, deployed.namespace) as watcher:
            time.sleep(0.5)
            start = time.monotonic()
            pending = list(per_node[node])
            while pending and time.monotonic() - start < DRAIN_TIMEOUT_S:
                for pod in list(pending):
                    code, reply = evict(deployed.cluster, deployed.namespace, pod)
                    log.append((round(time.monotonic() - start, 1), pod, code))
                    if code in (200, 201, 404):
                        pending.remove(pod)
                    else:
                        assert code == 429, reply
                if pending:
                    time.sleep(DRAIN_RETRY_S)
            drain_s = time.monotonic() - start
            time.sleep(6)  # past minReadySeconds: the last replacements' availability is sampled too
        left = [
            p["metadata"]["name"]
            for p in live_pods(deployed.cluster, deployed.namespace, PART_OF)
            if p["spec"].get("nodeName") == node
        ]
    finally:
        deployed.cluster.kubectl("uncordon", node)
    assert not watcher.errors, watcher.errors
    minima = {
        k: {"ready": watcher.minimum(k, "ready"), "available": watcher.minimum(k, "available")}
        for k in desired
    }
    deployed.figures["drain"] = {
        "node": node,
        "pods": len(per_node[node]),
        "evictions_allowed": sum(1 for *_, c in log if c == 201),
        "evictions_refused_then_retried": sum(1 for *_, c in log if c == 429),
        "seconds": round(drain_s, 1),
        "desired_healthy": desired,
        "minimum_seen": minima,
    }
    assert pending == [] and left == [], (pending, left, log)
    for key, budget_floor in desired.items():
        # Ready pods are what the Service routes to; "available" is recorded only (see above).
        floor = max(budget_floor, KEPT_DURING_DISRUPTION[deployed.stack])
        assert minima[key]["ready"] >= floor, (key, minima, floor, log)
    _wait_whole(deployed)


# ---- rolling update ------------------------------------------------------------------------------------


def _new_image(image: str) -> str:
    if "@sha256:" in image:
        return image.split("@", 1)[0] + "@" + NEW_DIGEST
    return image.rsplit(":", 1)[0] + ":" + NEW_TAG


def test_image_change_rolls_out_with_zero_unavailable_replicas(deployed: Deployed) -> None:
    """Every app's image changes through the stack file and `pulumi up` rolls it out while a watcher
    samples each Deployment's available replicas (0.2 s): the minimum never drops below the floor."""
    _wait_whole(deployed)
    original = deployed.stack_file.read_text()
    changed = yaml.safe_load(original)
    apps = changed["config"]["hastack:apps"]
    images = {}
    for app in apps:
        app["image"] = _new_image(app["image"])
        images[app["name"]] = app["image"]
    deployed.stack_file.write_text(yaml.safe_dump(changed, sort_keys=False))
    floors = deployed.floors()
    before = {k: d["metadata"]["uid"] for k, d in deployed.deployments().items()}
    with DeploymentWatcher(deployed.cluster, deployed.namespace) as watcher:
        time.sleep(0.5)
        start = time.monotonic()
        code, output = deployed.engine("up")
        rollout_s = time.monotonic() - start
        time.sleep(1)
    assert code == 0, _tail(output, 120)
    assert not watcher.errors, watcher.errors
    after = deployed.deployments()
    assert {k: d["metadata"]["uid"] for k, d in after.items()} == before, "updated in place, not replaced"
    for name, image in images.items():
        assert after[name]["spec"]["template"]["spec"]["containers"][0]["image"] == image
    minima = {k: watcher.minimum(k, "available") for k in floors}
    deployed.figures["rolling_update"] = {
        "up_s": round(rollout_s, 1),
        "samples": {k: len(v) for k, v in watcher.samples.items()},
        "floor": floors,
        "minimum_available": minima,
    }
    for name in images:
        seen = watcher.samples[name]
        # the count stayed the floor (no HPA or apply fight), and the rollout itself was sampled
        assert {s.replicas for s in seen} == {floors[name]}, name
        assert any(s.updated < floors[name] for s in seen), f"{name}: no rollout was sampled"
        assert seen[-1].updated == floors[name] == seen[-1].available
    for key, floor in floors.items():
        assert minima[key] >= floor, (key, minima, floors)
    _wait_whole(deployed)


# ---- destroy -------------------------------------------------------------------------------------------


def _our_objects(deployed: Deployed) -> list[str]:
    kinds = deployed.cluster.kubectl(
        "api-resources", "--verbs=list", "--namespaced", "-o", "name"
    ).stdout.split()
    listed = deployed.cluster.kubectl(
        "get",
        ",".join(kinds),
        "-A",
        "-l",
        PART_OF,
        "--ignore-not-found",
        "-o",
        "jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name}{'\\n'}{end}",
    ).stdout
    return [line for line in listed.splitlines() if f"/{deployed.namespace}/" in line]


def test_destroy_leaves_no_object_behind(deployed: Deployed) -> None:
    assert _our_objects(deployed), "the check must see our objects before the destroy"
    code, output = deployed.engine("destroy")
    deployed.destroyed = code == 0
    assert code == 0, _tail(output, 120)
    deleted = re.search(r"- (\d+) deleted", output)
    assert deleted and int(deleted.group(1)) == deployed.figures["resources_created"], _tail(output)
    wait_until(
        f"no object labelled {PART_OF} left in {deployed.namespace}",
        lambda: not _our_objects(deployed),
        timeout=30,
    )
    namespace = deployed.cluster.kubectl("get", "namespace", deployed.namespace, "-o", "json", check=False)
    if namespace.returncode == 0:
        assert json.loads(namespace.stdout)["status"]["phase"] == "Terminating"
    else:
        assert "NotFound" in namespace.stderr, namespace.stderr
