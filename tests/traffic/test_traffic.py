"""hastack's HA claims under real requests: one stack of eleven apps (`make up` onto three real nodes,
Traefik in front), then each claim put to the test in turn. Each test names its counterfactual, the same
run with the protection off, which must fail; where it can be run here it is, in the same test, so the
test shows it can fail. The tests run in file order: the last ones change the stack."""

from __future__ import annotations

import math
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography import x509

from hastack_tools.ops import loadgen
from tests.traffic.conftest import TrafficCluster, record
from tests.traffic.stacks import Background, Stack, echo_app

SPLIT = "split.gateway.local"  # the Gateway's certificate covers *.gateway.local
WEB, HASH, LIMITED, STURDY, SHOP, BUSY, QUICK, FASTEST = (
    f"{name}.traffic.local"
    for name in ("web", "hash", "limited", "sturdy", "shop", "busy", "quick", "fastest")
)
EJECTION_SECONDS = 10
CONSECUTIVE_ERRORS = 3
FAILING_CONCURRENCY = 3
"""How many requests `failing_pod` sends at once."""
CANARY_WEIGHT = 10


@pytest.fixture(scope="module")
def stack(traffic_cluster: TrafficCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    t = traffic_cluster
    apps = [
        echo_app(t, "web", host=WEB),
        echo_app(
            t, "api", port=9090, replicas=2, allowFrom=["web"], env={"PORT": "9090", "EXTRA_PORT": "9091"}
        ),
        echo_app(t, "other", replicas=2),
        echo_app(t, "hash", host=HASH),
        echo_app(t, "limited", host=LIMITED, replicas=2),
        echo_app(t, "sturdy", host=STURDY),
        echo_app(t, "shop", host=SHOP, canary={"image": t.image("echo"), "weight": CANARY_WEIGHT}),
        echo_app(t, "busy", host=BUSY),
        echo_app(
            t,
            "split",
            host=SPLIT,
            exposure="gateway",
            canary={"image": t.image("echo"), "weight": CANARY_WEIGHT},
        ),
        # Traefik's own route (kind: IngressRoute): p2c with a passive health check, and least time
        echo_app(t, "quick", host=QUICK),
        echo_app(t, "fastest", host=FASTEST),
    ]
    apps[9]["ingress"].update(
        kind="IngressRoute",
        loadBalancing="least-connections",
        backendHealth={"consecutiveErrors": CONSECUTIVE_ERRORS, "ejectionSeconds": EJECTION_SECONDS},
    )
    apps[10]["ingress"].update(kind="IngressRoute", loadBalancing="ewma")
    apps[3]["ingress"]["loadBalancing"] = "consistent-hash"
    apps[4]["ingress"]["rateLimit"] = {"rps": 5, "burst": 10}
    apps[5]["ingress"]["retries"] = {"attempts": 2, "conditions": ["connect-failure", "5xx"]}
    del apps[7]["replicas"]
    apps[7]["autoscaling"] = {
        "minReplicas": 2,
        "maxReplicas": 4,
        "targetCPUUtilization": 50,
        "scaleDownStabilizationSeconds": 15,
    }
    deployed = Stack(t, tmp_path_factory.mktemp("traffic"), f"tr-{uuid.uuid4().hex[:6]}", apps)
    try:
        deployed.up()
        record("stack_up", apps=len(apps), seconds=deployed.ups[0])
        for app in apps:
            deployed.wait_ready(app["name"], 2)
        for host, pods in (
            (WEB, 3),
            (HASH, 1),
            (STURDY, 3),
            (SHOP, 3),
            (BUSY, 2),
            (SPLIT, 3),
            (QUICK, 3),
            (FASTEST, 3),
        ):
            deployed.wait_serving(host, pods)
        deployed.wait_serving(LIMITED, 1, rate_per_s=2)  # under its limit
        yield deployed
    finally:
        deployed.destroy()


def ingress_load(stack: Stack, host: str, count: int, seconds: float, **kwargs: Any) -> loadgen.Run:
    return loadgen.load(
        stack.traffic.ingress(host), count=count, seconds=seconds, allowed=stack.traffic.allowed, **kwargs
    )


def test_tls_is_a_real_handshake_with_the_stacks_certificate(stack: Stack) -> None:
    """A TLS handshake for web's host gets the stack's own certificate (its Secret, byte for byte, with the
    host in its names) and an answer; another host of the same controller (counterfactual) gets another
    certificate; plain HTTP is redirected to HTTPS."""
    import base64

    selector = "app.kubernetes.io/name=web"
    ingress = stack.traffic.cluster.kubectl_json("get", "ingress", "-n", stack.namespace, "-l", selector)
    secret = ingress["items"][0]["spec"]["tls"][0]["secretName"]
    data = stack.traffic.cluster.kubectl_json("get", "secret", secret, "-n", stack.namespace)["data"]
    pem = base64.b64decode(data["tls.crt"]).decode()
    own = ssl.PEM_cert_to_DER_cert(pem)
    served = loadgen.send(stack.traffic.ingress(WEB), stack.traffic.allowed)
    other = loadgen.send(stack.traffic.ingress(HASH), stack.traffic.allowed)
    plain = loadgen.send(stack.traffic.ingress(WEB, https=False), stack.traffic.allowed)
    names = x509.load_pem_x509_certificate(pem.encode()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    record("tls", status=served.status, own_certificate=served.peer_cert == own, plain_http=plain.status)
    assert served.status == 200 and served.peer_cert == own, served
    assert WEB in names.value.get_values_for_type(x509.DNSName)
    assert other.status == 200 and other.peer_cert not in (None, own), other
    assert plain.status in {301, 302, 307, 308}, plain


def test_round_robin_spreads_requests_evenly(stack: Stack) -> None:
    """Three replicas behind Traefik's round robin: each gets a third (within 10 % of it). Counterfactual:
    the same client through consistent hashing (next test) lands on one pod."""
    run = ingress_load(stack, WEB, 900, 90, concurrency=3)
    shares = {pod: round(n / run.total, 4) for pod, n in run.by_pod().items()}
    record("round_robin", run, shares=shares)
    assert run.failed == 0, run.figures()
    assert len(shares) == 3 and all(abs(share - 1 / 3) <= 0.1 / 3 for share in shares.values()), shares


def test_consistent_hash_sticks_a_client_to_one_pod(stack: Stack) -> None:
    """`loadBalancing: consistent-hash` (by client address): every request of one client reaches one pod;
    the same client on a round-robin app (counterfactual) reaches all three."""
    hashed = ingress_load(stack, HASH, 150, 30)
    spread = ingress_load(stack, WEB, 150, 30)
    record("consistent_hash", hashed, pods=len(hashed.by_pod()), round_robin_pods=len(spread.by_pod()))
    assert hashed.failed == 0 and len(hashed.by_pod()) == 1, hashed.by_pod()
    assert len(spread.by_pod()) == 3, spread.by_pod()


def test_the_canary_gets_its_weight(stack: Stack) -> None:
    """`canary.weight: 10`: over 2,000 requests the canary's pods answer 10 % of them (within 3 points);
    the stable app without a canary (counterfactual) answers from no canary pod."""
    run = ingress_load(stack, SHOP, 2000, 150, concurrency=4)
    canary = sum(n for pod, n in run.by_pod().items() if "-canary-" in pod) / max(run.total, 1)
    record("canary_weight_10", run, canary_share=round(canary, 4))
    assert run.failed == 0, run.figures()
    assert abs(canary - CANARY_WEIGHT / 100) <= 0.03, canary
    assert not any("-canary-" in pod for pod in ingress_load(stack, WEB, 100, 20).by_pod())


def test_the_canary_gets_its_weight_through_the_gateway(stack: Stack) -> None:
    """The same canary on the Gateway API path (HTTPRoute backendRefs weighted 90/10, Traefik as the
    Gateway): over 2,000 requests the canary answers 10 % (within 3 points). Counterfactual: the stable
    backend alone (an app without canary, above) never reaches a canary pod."""
    run = ingress_load(stack, SPLIT, 2000, 150, concurrency=4)
    canary = sum(n for pod, n in run.by_pod().items() if "-canary-" in pod) / max(run.total, 1)
    record("canary_weight_10_gateway", run, canary_share=round(canary, 4))
    assert run.failed == 0, run.figures()
    assert abs(canary - CANARY_WEIGHT / 100) <= 0.03, canary


def test_the_rate_limit_answers_429_over_it_and_nothing_under_it(stack: Stack) -> None:
    """`rateLimit: {rps: 5, burst: 10}`: a client under it gets no 429; the same client over it
    (counterfactual of the first half) gets 429s and nothing else but 200s."""
    under = ingress_load(stack, LIMITED, 30, 20, rate_per_s=2)
    over = ingress_load(stack, LIMITED, 200, 20, concurrency=4)
    record("rate_limit_under", under)
    record("rate_limit_over", over)
    assert under.failed == 0, under.figures()
    assert over.statuses()[429] > 100 and set(over.statuses()) <= {200, 429}, over.statuses()


def slow_pod(stack: Stack, app: str, host: str) -> tuple[float, loadgen.Run]:
    """One of the app's three pods answers 200 ms late while 400 requests flow, 8 at a time: the share of
    them it answered."""
    pod = stack.ready_pods(app)[0]["metadata"]["name"]
    assert stack.traffic.admin(stack.namespace, pod, 8080, "/admin/latency?ms=200").status == 200
    try:
        run = ingress_load(stack, host, 400, 90, concurrency=8)
    finally:
        stack.traffic.admin(stack.namespace, pod, 8080, "/admin/latency?ms=0")
    return run.by_pod().get(pod, 0) / max(run.total, 1), run


def test_least_requests_and_least_time_avoid_a_slow_backend(stack: Stack) -> None:
    """`kind: IngressRoute` with `loadBalancing: least-connections` (Traefik's p2c: of two random backends
    the one with fewer requests in flight) and `ewma` (its least time): a pod answering 200 ms late gets
    a fifth at most, where its fair share is a third. Counterfactual, run here: round robin (web) gives
    the slow pod its third. Plain HTTP to the route is only redirected."""
    p2c, p2c_run = slow_pod(stack, "quick", QUICK)
    least_time, least_time_run = slow_pod(stack, "fastest", FASTEST)
    round_robin, round_robin_run = slow_pod(stack, "web", WEB)
    plain = loadgen.send(stack.traffic.ingress(QUICK, https=False), stack.traffic.allowed)
    record("least_requests_slow_pod", p2c_run, slow_pod_share=round(p2c, 4))
    record("least_time_slow_pod", least_time_run, slow_pod_share=round(least_time, 4))
    record("round_robin_slow_pod", round_robin_run, slow_pod_share=round(round_robin, 4))
    assert p2c_run.failed == least_time_run.failed == round_robin_run.failed == 0
    assert p2c < 0.2 and least_time < 0.2, (p2c, least_time)  # measured 0.10 and 0.02; a third without
    assert 0.25 <= round_robin <= 0.42, round_robin
    assert plain.status in {301, 308}, plain


def test_a_passive_health_check_ejects_a_failing_pod_and_readmits_it(stack: Stack) -> None:
    """`backendHealth: {consecutiveErrors: 3, ejectionSeconds: 10}` on the IngressRoute (Traefik's passive
    health check): a ready pod answering 500 to everything is taken out after its first failures, so
    clients see at most 3 errors (plus those in flight) per 10 s window, not a third; once healthy it is
    let back after the ejection time.
    Counterfactual, run here: the same failing pod on an app without it (web) fails about a third."""
    pod = stack.ready_pods("quick")[0]["metadata"]["name"]
    started = time.monotonic()
    ejected = failing_pod(stack, "quick", QUICK, pod)
    healed = time.monotonic()
    # each failure window lets the pod fail its consecutiveErrors again, plus what was already in flight
    windows = math.ceil((healed - started) / EJECTION_SECONDS)
    bound = windows * (CONSECUTIVE_ERRORS + FAILING_CONCURRENCY)
    back_after = None
    while time.monotonic() - healed < 3 * EJECTION_SECONDS:
        if pod in ingress_load(stack, QUICK, 30, 5, concurrency=3).by_pod():
            back_after = time.monotonic() - healed
            break
        time.sleep(0.5)
    bare = failing_pod(stack, "web", WEB)
    record(
        "passive_health_check",
        ejected,
        readmitted_after_s=back_after and round(back_after, 1),
        failure_windows=windows,
    )
    record("passive_health_check_without", bare)
    assert ejected.total == 300 and ejected.failed <= bound, (bound, ejected.figures())
    assert 0.2 <= bare.failed / bare.total <= 0.45, bare.figures()
    assert bound < bare.failed / 2, (bound, bare.failed)  # else the run was too slow to tell them apart
    assert back_after is not None and back_after <= EJECTION_SECONDS + 5, back_after


def test_a_pod_that_turns_unready_leaves_the_rotation_and_comes_back(stack: Stack) -> None:
    """Readiness switched off in one pod (it still answers): within the probe budget (2 s x 2 failures)
    plus Traefik's update the pod gets no more requests, and none fails; switched on, it serves again.
    Counterfactual: the same pod before the switch takes a third."""
    victim = stack.ready_pods("web")[0]["metadata"]["name"]
    assert victim in ingress_load(stack, WEB, 30, 10, concurrency=3).by_pod()  # it serves before the switch
    assert stack.traffic.admin(stack.namespace, victim, 8080, "/admin/ready?on=0").status == 200
    switched = time.monotonic()
    left_after = None
    seen = loadgen.Run()
    while time.monotonic() - switched < 60:
        batch = ingress_load(stack, WEB, 30, 5, concurrency=3)
        seen.samples += batch.samples
        if victim not in batch.by_pod():
            left_after = time.monotonic() - switched
            break
    away = ingress_load(stack, WEB, 150, 20, concurrency=3)
    assert stack.traffic.admin(stack.namespace, victim, 8080, "/admin/ready?on=1").status == 200
    switched_on = time.monotonic()
    back_after = None
    while time.monotonic() - switched_on < 60:
        if victim in ingress_load(stack, WEB, 30, 5, concurrency=3).by_pod():
            back_after = time.monotonic() - switched_on
            break
    record(
        "readiness_flip",
        away,
        left_after_s=left_after and round(left_after, 1),
        back_after_s=back_after and round(back_after, 1),
        failed_while_leaving=seen.failed,
    )
    assert left_after is not None, "the unready pod never left the rotation"
    assert away.failed == 0 and seen.failed == 0 and victim not in away.by_pod(), away.by_pod()
    assert back_after is not None, "the pod never came back once ready"


def crash_two(stack: Stack, app: str, host: str) -> loadgen.Run:
    """Two of the app's containers exit (and restart) while requests flow."""
    stack.wait_ready(app, 3)
    stack.wait_serving(host, 3)
    with Background(stack.traffic.ingress(host), stack.traffic.allowed, 60, 120) as load:
        for pod in stack.ready_pods(app)[:2]:
            stack.traffic.admin(stack.namespace, pod["metadata"]["name"], 8080, "/admin/crash")
            time.sleep(8)
    return load.run


def test_a_crashing_container_costs_no_request_with_retries(stack: Stack) -> None:
    """Two containers crash under load and restart: with `retries` (connect-failure, 5xx) a request that
    meets the dead pod is retried on another, none fails. The same crashes on an app without retries are
    measured beside it (a restart closes the port for well under a second, so how many requests meet it
    varies; the next test's counterfactual is the deterministic one)."""
    with_retries = crash_two(stack, "sturdy", STURDY)
    without = crash_two(stack, "web", WEB)
    record("crash_with_retries", with_retries)
    record("crash_without_retries", without)
    assert with_retries.total > 300 and with_retries.failed == 0, with_retries.figures()
    stack.wait_ready("web", 3)
    stack.wait_ready("sturdy", 3)


def failing_pod(stack: Stack, app: str, host: str, pod: str | None = None) -> loadgen.Run:
    """One of the app's pods answers every request with 500 (it stays ready) while 300 requests flow."""
    pod = pod or stack.ready_pods(app)[0]["metadata"]["name"]
    assert stack.traffic.admin(stack.namespace, pod, 8080, "/admin/errors?rate=1").status == 200
    try:
        return ingress_load(stack, host, 300, 60, concurrency=FAILING_CONCURRENCY)
    finally:
        stack.traffic.admin(stack.namespace, pod, 8080, "/admin/errors?rate=0")


def test_a_pod_answering_errors_is_retried_around(stack: Stack) -> None:
    """A ready pod that answers 500 to everything: with `retries: {attempts: 2, conditions: [connect-failure,
    5xx]}` Traefik retries each of its requests on another pod, so clients see none (its Ingress path has
    no passive health check to eject it: retries are what this profile offers; `kind: IngressRoute` has
    one, tested above). Counterfactual, run here: the same pod on an app without retries fails about a
    third of the requests."""
    retried = failing_pod(stack, "sturdy", STURDY)
    bare = failing_pod(stack, "web", WEB)
    record("failing_pod_with_retries", retried)
    record("failing_pod_without_retries", bare)
    assert retried.total == 300 and retried.failed == 0, retried.figures()
    assert 0.2 <= bare.failed / bare.total <= 0.45, bare.figures()


def test_network_policy_admits_what_is_declared_on_its_port_only(stack: Stack) -> None:
    """api `allowFrom: [web]` on its port 9090: web reaches it by name through its Service (port 80, DNS
    allowed); web on api's other port 9091, an unlisted app (other), and web's egress to other are
    refused. The counterfactual is in the same call: the allowed path answers 200 where the others do
    not."""
    ns = stack.namespace
    web = stack.ready_pods("web")[0]["metadata"]["name"]
    other = stack.ready_pods("other")[0]["metadata"]["name"]
    api_ip = stack.ready_pods("api")[0]["status"]["podIP"]
    allowed = stack.traffic.fetch_from(ns, web, 8080, f"http://api.{ns}.svc.cluster.local/")
    other_port = stack.traffic.fetch_from(ns, web, 8080, f"http://{api_ip}:9091/")
    unlisted = stack.traffic.fetch_from(ns, other, 8080, f"http://api.{ns}.svc.cluster.local/")
    egress = stack.traffic.fetch_from(ns, web, 8080, f"http://other.{ns}.svc.cluster.local/")
    record("network_policy", allowed=allowed, other_port=other_port, unlisted=unlisted, egress=egress)
    assert allowed.get("status") == 200, allowed
    assert "error" in other_port and "error" in unlisted and "error" in egress, (other_port, unlisted, egress)


def test_cpu_load_scales_out_past_the_floor_and_back_in(stack: Stack) -> None:
    """metrics-server reports real CPU: requests that burn 30 ms each push busy past its 50 % target, the
    HPA adds replicas beyond minReplicas 2; once the load stops it returns to 2 after its 15 s window.
    Counterfactual: before the load the HPA holds 2 (asserted first)."""

    def hpa() -> dict[str, Any]:
        selector = "app.kubernetes.io/name=busy"
        found = stack.traffic.cluster.kubectl_json("get", "hpa", "-n", stack.namespace, "-l", selector)
        return dict(found["items"][0])

    assert hpa()["status"].get("desiredReplicas", 2) == 2
    for pod in stack.ready_pods("busy"):
        assert (
            stack.traffic.admin(stack.namespace, pod["metadata"]["name"], 8080, "/admin/burn?ms=30").status
            == 200
        )
    started = time.monotonic()
    out_after = None
    with Background(stack.traffic.ingress(BUSY), stack.traffic.allowed, 25, 300) as load:
        while time.monotonic() - started < 240:
            if len(stack.ready_pods("busy")) > 2:
                out_after = time.monotonic() - started
                break
            time.sleep(3)
    most = max(len(stack.pods("busy")), 2)
    stopped = time.monotonic()
    in_after = None
    while time.monotonic() - stopped < 300:
        if hpa()["status"].get("desiredReplicas") == 2 and len(stack.pods("busy")) == 2:
            in_after = time.monotonic() - stopped
            break
        time.sleep(5)
    record(
        "autoscaling",
        load.run,
        scaled_out_after_s=out_after and round(out_after),
        most_replicas=most,
        back_in_after_s=in_after and round(in_after),
    )
    assert out_after is not None, f"never scaled out: {hpa()['status']}"
    assert in_after is not None, f"never scaled back in: {hpa()['status']}"


def test_draining_a_node_drops_no_request(stack: Stack) -> None:
    """`kubectl drain` of a node running web's pods, under load: the disruption budget keeps one ready, the
    preStop pause keeps a leaving pod serving until Traefik drops it: 0 failed. Counterfactual: the
    rolling update without preStop (next test) shows what an unpaused exit costs."""
    stack.wait_ready("web", 3)
    node = stack.ready_pods("web")[0]["spec"]["nodeName"]
    kubectl = stack.traffic.cluster.kubectl_command()
    with Background(stack.traffic.ingress(WEB), stack.traffic.allowed, 50, 300) as load:
        drained = subprocess.run(
            [*kubectl, "drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=240s"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        stack.wait_ready("web", 3)
    subprocess.run([*kubectl, "uncordon", node], capture_output=True, check=False, timeout=60)
    record("drain", load.run, node=node)
    assert drained.returncode == 0, drained.stderr
    assert load.run.total > 200 and load.run.failed == 0, load.run.figures()


def roll(stack: Stack, rate: float = 70, **env: str) -> loadgen.Run:
    """`make up` of a changed pod template (an env value: a new ReplicaSet) while requests flow."""
    stack.wait_ready("web", 3)
    stack.app("web")["env"].update(env, ROLL=uuid.uuid4().hex[:8])
    with Background(stack.traffic.ingress(WEB), stack.traffic.allowed, rate, 400, concurrency=12) as load:
        stack.up()
    return load.run


def test_a_rolling_update_drops_no_request(stack: Stack) -> None:
    """An app that exits at once on SIGTERM (no graceful shutdown, 300 ms a request): hastack's preStop
    pause (10 s) keeps each terminating pod serving until Traefik has dropped it, so a rollout of three
    replicas under load loses nothing. Counterfactual, run here: `preStopSeconds: 0` loses the requests in
    flight and those routed to the pod before Traefik notices."""
    roll(stack, EXIT_ON_SIGTERM="1", LATENCY_MS="300")  # the pods that will leave next exit abruptly
    paused = roll(stack)
    record("rolling_update", paused, prestop_s=10)
    assert paused.total > 300 and paused.failed == 0, paused.figures()
    stack.app("web")["shutdown"] = {"preStopSeconds": 0}
    stack.up()  # the pods that will leave next have no pause
    without = roll(stack)
    record("rolling_update_without_prestop", without, prestop_s=0)
    assert without.failed > 0, f"without preStop a rollout should lose requests: {without.figures()}"
