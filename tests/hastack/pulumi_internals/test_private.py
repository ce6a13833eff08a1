"""Each private Pulumi name hastack relies on behaves as the adapter assumes: fails on an SDK upgrade."""

from __future__ import annotations

import pulumi

from hastack.pulumi_internals import private
from hastack_tools.dev.mockrun import RecordingMocks, RecordingMonitor


def test_marked_secret_round_trips_through_the_sdk_wire_format() -> None:
    wrapped = private.marked_secret({"password": "x"})
    assert private.is_secret(wrapped)
    assert private.unwrap_secret(wrapped) == {"password": "x"}
    assert not private.is_secret({"value": "x"})


def test_run_under_mocks_passes_config_and_secret_keys_to_the_program() -> None:
    seen: dict[str, object] = {}

    def program() -> None:
        config = pulumi.Config("demo")
        seen["plain"] = config.get("plain")
        seen["secret_is_output"] = isinstance(config.get_secret("token"), pulumi.Output)
        seen["engine"] = private.engine_config()
        seen["secret"] = [key for key in ("demo:plain", "demo:token") if private.is_config_secret(key)]
        pulumi.export("name", pulumi.get_stack())

    monitor = RecordingMonitor(RecordingMocks())
    private.run_under_mocks(
        program,
        monitor,
        project="demo",
        stack="dev",
        preview=True,
        config={"demo:plain": "a", "demo:token": "t"},
        secret_keys=["demo:token"],
    )
    assert seen["plain"] == "a"
    assert seen["secret_is_output"] is True
    assert seen["engine"] == {"demo:plain": "a", "demo:token": "t"}
    assert seen["secret"] == ["demo:token"]
    assert monitor.stack_outputs == {"name": "dev"}


def test_policy_proxy_types_are_the_wrappers_pulumi_policy_hands_to_rules() -> None:
    from pulumi_policy.proxy import unknown_checking_proxy

    dict_proxy, list_proxy = private.policy_proxy_types()
    proxied = unknown_checking_proxy({"a": [1]})
    assert isinstance(proxied, dict_proxy)
    assert isinstance(proxied["a"], list_proxy)
