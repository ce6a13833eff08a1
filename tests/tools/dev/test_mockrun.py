"""The mock runner: engine-like config, faithful records, isolation between runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.project import engine_config
from hastack_tools.common.stack_secrets import LOCAL_PASSPHRASE, encrypter, new_salt
from hastack_tools.dev.mockrun import RESPONSES_SWITCH, MockRun, is_secret, run_function, run_program


def write_program(folder: Path, body: str, stack_config: str = "config: {}\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Pulumi.yaml").write_text(
        "name: demo\nruntime: python\nconfig:\n  demo:size:\n    type: integer\n    default: 3\n"
    )
    (folder / "Pulumi.ci.yaml").write_text(stack_config)
    (folder / "__main__.py").write_text(body)
    return folder


def test_engine_config_applies_project_defaults_then_stack_values(tmp_path: Path) -> None:
    salt = new_salt(LOCAL_PASSPHRASE)
    token = encrypter(tmp_path / "x", salt, LOCAL_PASSPHRASE)("t0k3n")
    program = write_program(
        tmp_path,
        "",
        f"encryptionsalt: {salt}\n"
        f"config:\n  demo:items: [1, 2]\n  demo:flag: true\n  demo:token:\n    secure: {token}\n",
    )
    config, secret_keys = engine_config(program, "ci")
    assert config == {"demo:size": "3", "demo:items": "[1, 2]", "demo:flag": "true", "demo:token": "t0k3n"}
    assert secret_keys == ["demo:token"]


def test_program_sees_config_and_local_modules(tmp_path: Path) -> None:
    body = (
        "import pulumi\nimport helper\n"
        "pulumi.export('size', pulumi.Config().require_int('size') * helper.FACTOR)\n"
    )
    program = write_program(tmp_path / "p", body)
    (program / "helper.py").write_text("FACTOR = 2\n")
    run = run_program(program, "ci")
    assert run.outputs == {"size": 6}
    assert run.project == "demo"
    # a second program with a module of the same name gets its own module, not the cached one
    other = write_program(tmp_path / "q", body)
    (other / "helper.py").write_text("FACTOR = 10\n")
    assert run_program(other, "ci").outputs == {"size": 30}


def test_records_parents_auto_names_and_secret_outputs() -> None:
    class Box(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            super().__init__("demo:index:Box", name)
            self.cm = k8s.core.v1.ConfigMap(name, data={"a": "b"}, opts=pulumi.ResourceOptions(parent=self))
            self.register_outputs({})

    def program() -> None:
        import pulumi_random as random

        box = Box("box")
        password = random.RandomPassword("pw", length=16)
        pulumi.export("name", box.cm.metadata.name)
        pulumi.export("pw", password.result)

    run = run_function(program)
    by_type = {r.type: r for r in run.resources}
    component = by_type["demo:index:Box"]
    config_map = by_type["kubernetes:core/v1:ConfigMap"]
    password = by_type["random:index/randomPassword:RandomPassword"]
    assert config_map.parent == component.urn
    assert config_map.outputs["metadata"]["name"].startswith("box-")
    assert run.outputs["name"] == config_map.outputs["metadata"]["name"]
    assert is_secret(password.outputs["result"])
    assert is_secret(run.outputs["pw"])
    assert run_function(program).outputs["name"] == run.outputs["name"], "auto-names must be reproducible"


def test_errors_in_the_program_propagate() -> None:
    def program() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_function(program)


def test_a_failed_run_leaves_nothing_for_the_next() -> None:
    def boom(_: int) -> int:
        raise ValueError("first run's failure")

    def inner(_: int) -> pulumi.Output[int]:
        return pulumi.Output.from_input(2).apply(boom)

    def failing() -> None:
        # the failing output is created while the SDK waits at the end: it is still pending when the run fails
        pulumi.export("never", pulumi.Output.from_input(1).apply(inner))

    with pytest.raises(ValueError, match="first run's failure"):
        run_function(failing)
    run = run_function(lambda: pulumi.export("answer", 42))
    assert run.outputs == {"answer": 42}


def test_missing_project_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no Pulumi\.yaml"):
        run_program(tmp_path, "ci")


def test_secret_outputs_stay_with_their_own_registration_across_threads() -> None:
    """The SDK registers from several executor threads at once: two registrations in flight
    together must each get their own additionalSecretOutputs (a shared attribute gave both the
    last writer's)."""
    import threading

    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import resource_pb2

    from hastack_tools.dev.mockrun import RecordingMocks, RecordingMonitor

    both_in_flight = threading.Barrier(2, timeout=10)

    class InterleavingMocks(RecordingMocks):
        def _answer(self, args: Any) -> tuple[str | None, dict[str, Any]]:
            both_in_flight.wait()  # each thread has set its secret outputs before either reads them
            return super()._answer(args)

    monitor = RecordingMonitor(InterleavingMocks())
    answers: dict[str, Any] = {}

    def register(name: str) -> None:
        inputs = struct_pb2.Struct()
        inputs.update({"alpha": "a", "beta": "b"})
        request = resource_pb2.RegisterResourceRequest(
            type="demo:index:Thing", name=name, custom=True, object=inputs, additionalSecretOutputs=[name]
        )
        monitor.RegisterResource(request)
        answers[name] = monitor.resources[f"urn:pulumi:stack::project::demo:index:Thing::{name}"].state

    threads = [threading.Thread(target=register, args=(name,)) for name in ("alpha", "beta")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert is_secret(answers["alpha"]["alpha"]) and not is_secret(answers["alpha"]["beta"])
    assert is_secret(answers["beta"]["beta"]) and not is_secret(answers["beta"]["alpha"])


CORPUS = sorted(
    path.name
    for path in (REPO_ROOT / "tests" / "programs").iterdir()
    if (path / "__main__.py").exists() and not path.name.startswith("crash_") and path.name != "slow_app"
)


def _plain(value: Any) -> Any:
    """`value` with every object that compares by identity (the SDK's `Unknown`, resources) as its type."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return f"<{type(value).__name__}>"


def _records(run: MockRun) -> tuple[list[Any], Any]:
    """A run's records in URN order (registration threads may finish in any order), comparable."""
    resources = sorted(run.resources, key=lambda r: r.urn)
    return [_plain(dataclasses.asdict(r)) for r in resources], _plain(run.outputs)


def _both_answers(monkeypatch: pytest.MonkeyPatch, run: Callable[[], MockRun]) -> list[Any]:
    """`run` answered the SDK's way (the whole state encoded again), then by copying the request."""
    found = []
    for mode in ("stock", "copy"):
        monkeypatch.setenv(RESPONSES_SWITCH, mode)
        found.append(_records(run()))
    return found


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
@pytest.mark.parametrize("stack", ["dev", "prod", "staging"])
def test_copied_answers_record_exactly_what_the_sdk_monitor_answers_for_the_stacks(
    monkeypatch: pytest.MonkeyPatch, stack: str, preview: bool
) -> None:
    stock, copied = _both_answers(monkeypatch, lambda: run_program(REPO_ROOT, stack, preview=preview))
    assert len(stock[0]) > 20
    assert copied == stock


@pytest.mark.parametrize("program", CORPUS)
def test_copied_answers_record_exactly_what_the_sdk_monitor_answers_for_outside_programs(
    monkeypatch: pytest.MonkeyPatch, program: str
) -> None:
    folder = REPO_ROOT / "tests" / "programs" / program
    stack = "ci" if (folder / "Pulumi.ci.yaml").exists() else "dev"
    stock, copied = _both_answers(monkeypatch, lambda: run_program(folder, stack, preview=True))
    assert stock[0]
    assert copied == stock


def test_copied_answers_keep_what_the_mocks_add_or_replace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Auto-names, generated results, secret outputs, null inputs and a preview's unknown input (the
    SDK's monitor answers null for it) come back alike."""

    def program() -> None:
        import asyncio

        import pulumi_random as random

        loop = asyncio.get_event_loop()
        value, known = loop.create_future(), loop.create_future()
        value.set_result(None)
        known.set_result(False)
        unknown: pulumi.Output[str] = pulumi.Output(set(), value, known)
        password = random.RandomPassword("pw", length=20, special=None)
        secret = k8s.core.v1.Secret("s", string_data={"p": password.result}, type=None)
        config_map = k8s.core.v1.ConfigMap("cm", data={"unknown": unknown, "name": secret.metadata.name})
        pulumi.export("password", password.result)
        pulumi.export("config", config_map.data)

    stock, copied = _both_answers(monkeypatch, lambda: run_function(program, preview=True))
    assert copied == stock
    by_type = {record["type"]: record for record in copied[0]}
    assert by_type["kubernetes:core/v1:Secret"]["outputs"]["metadata"]["name"].startswith("s-")
    assert is_secret(by_type["random:index/randomPassword:RandomPassword"]["outputs"]["result"])
    assert by_type["kubernetes:core/v1:ConfigMap"]["inputs"]["data"]["unknown"] == "<Unknown>"
