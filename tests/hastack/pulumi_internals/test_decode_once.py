"""The decode-once layer (`hastack.pulumi_internals.decode_once`): the same verdicts as pulumi-policy's
own path on the same requests, the same decoded values, one decode per resource per request, and
stock behaviour when the version is not the pinned one or the switch is off.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import subprocess
import sys
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.runtime.proto import analyzer_pb2

from hastack.pulumi_internals import decode_once
from hastack.wire import UNKNOWN
from hastack_policy import PACK_NAME, build_policies
from hastack_policy import rule as adapter
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.dev.mockrun import run_program
from hastack_tools.dev.pack_client import (
    PolicyPackProcess,
    ResourceView,
    load_config_file,
    requests,
    resolve_config,
    to_struct,
    views_from_records,
)
from tests.policy.k8s_fixtures import good_stack

PACK = REPO_ROOT / "policy"
upstream: Any = importlib.import_module("pulumi_policy.policy")
PROGRAMS = REPO_ROOT / "tests" / "programs"


def strict(value: Any) -> Any:
    """`value` with each scalar's type beside it, so 1 and 1.0 (or True and 1) compare unequal."""
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strict(v) for v in value]
    return (type(value).__name__, value)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(2**53), 2**53)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_struct_decode_equals_message_to_dict(value: dict[str, Any]) -> None:
    message = struct_pb2.Struct()
    message.update(value)
    assert strict(decode_once.struct_to_dict(message)) == strict(json_format.MessageToDict(message))


@pytest.mark.parametrize("number", [math.inf, -math.inf, math.nan])
def test_non_finite_numbers_fail_as_upstream_fails(number: float) -> None:
    message = struct_pb2.Struct()
    message.update({"n": number})
    with pytest.raises(ValueError, match="Fail to serialize"):
        json_format.MessageToDict(message)
    with pytest.raises(ValueError, match="Fail to serialize"):
        decode_once.struct_to_dict(message)


def test_importing_changes_nothing() -> None:
    probe = (
        "import pulumi_policy.policy as p; from google.protobuf import json_format; "
        "from pulumi_policy.deserialize import deserialize_properties as d; "
        "import hastack.pulumi_internals.decode_once; "
        "assert p.json_format is json_format and p.deserialize_properties is d"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, cwd=REPO_ROOT)


@pytest.fixture
def installable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lets a test `install()` in this process: monkeypatch puts upstream's names back afterwards."""
    for name in (
        "json_format",
        "deserialize_properties",
        "analyzer_pb2_grpc",
        "unknown_checking_proxy",
        "signature",
        "pulumi",
    ):
        monkeypatch.setattr(upstream, name, getattr(upstream, name))
    monkeypatch.delenv(decode_once.SWITCH, raising=False)


def _servicer(policies: list[Any] | None = None) -> Any:
    """pulumi-policy's analyzer servicer for the catalog (or `policies`), as `PolicyPack` builds it
    (not started)."""
    return upstream._PolicyAnalyzerServicer(
        PACK_NAME,
        "1",
        build_policies() if policies is None else policies,
        upstream.EnforcementLevel.ADVISORY,
        None,
        "",
        None,
        None,
        None,
        None,
        None,
    )


def _count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    stock = upstream.deserialize_properties

    def counting(props: dict[str, Any], proxy_secrets: bool = False) -> dict[str, Any]:
        calls.append(1)
        decoded: dict[str, Any] = stock(props, proxy_secrets)
        return decoded

    monkeypatch.setattr(upstream, "deserialize_properties", counting)
    return calls


def _analyze_request() -> Any:
    deployment = next(o for o in good_stack() if o.kind == "Deployment")
    return analyzer_pb2.AnalyzeRequest(
        type=deployment.type, properties=to_struct(deployment.props), urn=deployment.urn, name=deployment.name
    )


def test_upstream_decodes_once_per_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The behaviour the layer exists for; when upstream fixes it, this fails and the layer can go."""
    calls = _count_decodes(monkeypatch)
    _servicer().Analyze(_analyze_request(), None)
    assert len(calls) == len(build_policies()) - sum(
        isinstance(p, upstream.StackValidationPolicy) for p in build_policies()
    )


def test_installed_decodes_once_per_request(installable: None, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_decodes(monkeypatch)
    assert decode_once.install()
    assert decode_once.install()  # idempotent
    servicer = decode_once._ScopedServicer(_servicer())
    request = _analyze_request()
    servicer.Analyze(request, None)
    assert len(calls) == 1
    servicer.Analyze(request, None)  # a new request decodes again: nothing is kept between requests
    assert len(calls) == 2
    upstream.deserialize_properties(json_format.MessageToDict(request.properties))  # outside a request
    assert len(calls) == 3


def test_installed_wraps_and_copies_once_per_request(
    installable: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One unknown-checking proxy and one plain copy per resource per request, shared by the
    policies, which leave the shared copy as they found it."""
    builds: list[int] = []
    proxy: Any = importlib.import_module("pulumi_policy.proxy")
    helper = proxy._proxy_helper

    def counting(value: Any, path: list[str]) -> Any:
        builds.extend([1] if not path else [])  # the root of one proxy tree
        return helper(value, path)

    monkeypatch.setattr(proxy, "_proxy_helper", counting)
    assert decode_once.install()
    servicer = decode_once._ScopedServicer(_servicer())
    request = _analyze_request()
    copies: list[Any] = []
    real_plain = adapter.plain

    def recording_plain(value: Any) -> Any:
        copy = real_plain(value)
        if isinstance(copy, dict) and {"apiVersion", "metadata"} <= copy.keys():  # a whole object
            copies.append(copy)
        return copy

    monkeypatch.setattr(adapter, "plain", recording_plain)
    servicer.Analyze(request, None)
    assert len(builds) == 1
    assert len(copies) == 1
    assert copies[0] == json_format.MessageToDict(request.properties)  # no rule changed it
    servicer.Analyze(request, None)
    assert len(builds) == 2  # nothing kept between requests


def test_installed_reads_options_and_provider_once_per_resource_per_request(
    installable: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upstream reads a resource's options and provider again for every policy; the layer reads
    them once per resource per request, and again in the next request."""
    reads: list[str] = []
    for name in ("_get_resource_options", "_get_provider_resource"):
        stock = getattr(upstream._PolicyAnalyzerServicer, name)

        def counting(self: Any, message: Any, stock: Any = stock, name: str = name) -> Any:
            reads.append(name)
            return stock(self, message)

        monkeypatch.setattr(upstream._PolicyAnalyzerServicer, name, counting)
    assert decode_once.install()
    servicer = decode_once._ScopedServicer(_servicer())
    request = _analyze_request()
    servicer.Analyze(request, None)
    assert sorted(reads) == ["_get_provider_resource", "_get_resource_options"]
    props = request.properties
    resource = analyzer_pb2.AnalyzerResource(type=request.type, urn=request.urn, properties=props)
    stack = analyzer_pb2.AnalyzeStackRequest(resources=[resource])
    servicer.AnalyzeStack(stack, None)
    assert len(reads) == 4  # one resource, however many stack policies read it
    servicer.Analyze(request, None)
    assert len(reads) == 6  # a new request reads again: nothing is kept between requests
    _servicer().Analyze(request, None)  # the stock servicer, for comparison: once per resource policy
    resource_policies = sum(isinstance(p, upstream.ResourceValidationPolicy) for p in build_policies())
    assert len(reads) == 6 + 2 * resource_policies


def _foreign_policies() -> list[Any]:
    """Policies that declared no types to the layer: they must run on every resource."""

    def every_resource(args: Any, report: Any) -> None:
        report(f"saw {args.resource_type} {args.urn}")

    def every_stack(args: Any, report: Any) -> None:
        report(f"saw {len(args.resources)} resources")

    common = {"description": "not hastack's", "enforcement_level": upstream.EnforcementLevel.ADVISORY}
    return [
        upstream.ResourceValidationPolicy(name="foreign-resource", validate=every_resource, **common),
        upstream.StackValidationPolicy(name="foreign-stack", validate=every_stack, **common),
    ]


def test_policies_run_only_on_their_types_with_upstreams_answers_in_upstreams_order(
    installable: None,
) -> None:
    """Each hastack rule runs only on the types it reads, policies that declared nothing run on
    everything, and every response equals the stock servicer's, diagnostic for diagnostic."""
    ours = build_policies()
    foreign = _foreign_policies()
    policies = [*ours[:4], foreign[0], *ours[4:20], foreign[1], *ours[20:]]
    views = views_from_records(run_program(PROGRAMS / "bad_cross", "ci").resources)
    each, stack = requests(views)
    assert decode_once.install()
    stock, layered = _servicer(policies), decode_once._ScopedServicer(_servicer(policies))
    fired: set[str] = set()
    for request in each:
        assert layered.Remediate(request, None) == stock.Remediate(request, None)  # empty: none remediates
        answer = layered.Analyze(request, None)
        assert answer == stock.Analyze(request, None)
        fired.update(d.policyName for d in answer.diagnostics)
    answer = layered.AnalyzeStack(stack, None)
    assert answer == stock.AnalyzeStack(stack, None)
    fired.update(d.policyName for d in answer.diagnostics)
    assert {"foreign-resource", "foreign-stack"} <= fired
    assert len(fired) > 4  # hastack rules fired too: answers were compared, not just silence
    service_policies = layered._policies_for("kubernetes:core/v1:Service")
    assert set(foreign) < set(service_policies)
    assert len(service_policies) < len(policies) // 2


def test_remediate_answers_as_upstream_when_a_policy_remediates(installable: None) -> None:
    """With a policy at the remediate level, Remediate is upstream's own (rewritten properties and all)."""

    def label_it(args: Any) -> dict[str, Any]:
        return {**adapter.plain(args.props), "metadata": {"labels": {"remediated": "yes"}}}

    remediating = upstream.ResourceValidationPolicy(
        name="foreign-remediate",
        description="not hastack's",
        remediate=label_it,
        enforcement_level=upstream.EnforcementLevel.REMEDIATE,
    )
    policies = [*build_policies(), remediating]
    assert decode_once.install()
    stock, layered = _servicer(policies), decode_once._ScopedServicer(_servicer(policies))
    request = _analyze_request()
    answer = layered.Remediate(request, None)
    assert answer == stock.Remediate(request, None)
    assert [r.policyName for r in answer.remediations] == ["foreign-remediate"]
    assert layered.Remediate(request, None) != decode_once._ScopedServicer(_servicer()).Remediate(
        request, None
    )


def test_installed_runtime_set_up_reads_the_same_config_and_signature(
    installable: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The per-request set-up's stand-ins: the engine's config as upstream parses it, parsed again
    when it changes, a map of its own per call; `Settings`'s signature as `inspect` gives it."""
    import inspect

    import pulumi.runtime

    assert decode_once.install()
    monkeypatch.setenv("PULUMI_CONFIG", '{"hastack:environment": "prod"}')
    first = upstream.pulumi.runtime.get_config_env()
    assert first == pulumi.runtime.get_config_env() == {"hastack:environment": "prod"}
    first["hastack:environment"] = "changed by a caller"
    assert upstream.pulumi.runtime.get_config_env() == {"hastack:environment": "prod"}
    monkeypatch.setenv("PULUMI_CONFIG", '{"hastack:environment": "dev"}')
    assert upstream.pulumi.runtime.get_config_env() == {"hastack:environment": "dev"}
    monkeypatch.delenv("PULUMI_CONFIG")
    assert upstream.pulumi.runtime.get_config_env() == {}
    assert upstream.pulumi.runtime.Settings is pulumi.runtime.Settings  # the rest is upstream's
    assert upstream.signature(pulumi.runtime.Settings) == inspect.signature(pulumi.runtime.Settings)
    assert upstream.signature(pulumi.runtime.Settings) is upstream.signature(pulumi.runtime.Settings)


def test_other_versions_and_the_switch_keep_the_stock_path(
    installable: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(decode_once.SWITCH, "0")
    assert not decode_once.install()
    assert upstream.json_format is json_format
    monkeypatch.delenv(decode_once.SWITCH)
    monkeypatch.setattr("pulumi_policy.version.VERSION", "1.22.0")
    assert not decode_once.install()
    assert upstream.json_format is json_format
    assert "pulumi-policy 1.22.0" in capsys.readouterr().err


def _with_unknowns() -> list[ResourceView]:
    """The good stack with a value unknown in each kind of object (what a preview sends)."""
    views = []
    for index, obj in enumerate(good_stack()):
        props = {**obj.props, "spec": UNKNOWN} if index % 3 == 0 and "spec" in obj.props else obj.props
        views.append(ResourceView(urn=obj.urn, type=obj.type, name=obj.name, inputs=props, outputs=props))
    return views


def _verdicts(views: list[ResourceView], env: str, dry_run: bool) -> list[tuple[Any, ...]]:
    path = PACK / "config" / f"{env}.json"
    with PolicyPackProcess(PACK, project="hastack", stack="t", dry_run=dry_run, echo_logs=False) as pack:
        pack.configure(resolve_config(pack.info(), load_config_file(path), str(path)))
        return sorted(dataclasses.astuple(d) for d in pack.analyze(views))


def test_same_verdicts_as_the_stock_path_on_the_same_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    stacks = [
        views_from_records(run_program(PROGRAMS / name, "ci").resources)
        for name in sorted(p.name for p in PROGRAMS.iterdir() if p.name.startswith("bad_"))
    ]
    cases = [(views, "prod", False) for views in stacks] + [(_with_unknowns(), "prod", True)]
    compared = 0
    for views, env, dry_run in cases:
        monkeypatch.setenv(decode_once.SWITCH, "0")
        stock = _verdicts(views, env, dry_run)
        monkeypatch.setenv(decode_once.SWITCH, "1")
        assert _verdicts(views, env, dry_run) == stock
        compared += len(stock)
    assert compared > 10  # the bad programs do break rules: verdicts were compared, not just silence
