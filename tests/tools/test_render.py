"""The renderer: integers, sorted keys, grouping per component, secrets redacted wherever they are."""

from __future__ import annotations

import base64

import pulumi
import pulumi_kubernetes as k8s

from hastack_tools.mockrun import RecordedResource, run_function
from hastack_tools.render import REDACTED, integral, manifest, render_groups


def test_integral_turns_whole_floats_into_ints_and_sorts_keys() -> None:
    assert integral({"b": 2.0, "a": [1.5, 3.0]}) == {"a": [1.5, 3], "b": 2}
    assert list(integral({"b": 1, "a": 2})) == ["a", "b"]


def test_secret_data_of_any_program_is_redacted_keys_kept() -> None:
    def program() -> None:
        k8s.core.v1.Secret("raw", data={"password": base64.b64encode(b"hunter2").decode()})
        k8s.core.v1.ConfigMap("cm", data={"token": pulumi.Output.secret("s3cr3t")})

    run = run_function(program)
    groups = render_groups(run)
    secret, config_map = sorted(groups["stack"], key=lambda m: m["kind"], reverse=True)
    assert secret["data"] == {"password": base64.b64encode(REDACTED.encode()).decode()}
    assert config_map["data"] == "[secret]", "a secret value makes the whole property secret"
    assert "hunter2" not in str(groups)
    assert "s3cr3t" not in str(groups)


def test_manifest_fills_auto_name_and_keeps_explicit_name() -> None:
    record = RecordedResource(
        urn="u",
        type="kubernetes:core/v1:ConfigMap",
        name="cm",
        custom=True,
        parent="",
        inputs={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}},
        outputs={"metadata": {"name": "cm-1234"}},
    )
    assert manifest(record)["metadata"]["name"] == "cm-1234"
    named = RecordedResource(
        **{**record.__dict__, "inputs": {"kind": "ConfigMap", "metadata": {"name": "fixed"}}}
    )
    assert manifest(named)["metadata"]["name"] == "fixed"
    assert list(manifest(record))[:3] == ["apiVersion", "kind", "metadata"]
