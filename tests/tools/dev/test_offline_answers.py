"""What the offline run answers where only a deploy or another provider knows, run as a preview (the
gate's default) and as an update, and the one line a program that still fails is told."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.output import Unknown

from hastack.pulumi_internals import private
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.dev.gate import main
from hastack_tools.dev.kube_version import (
    INSTALLED_DEFAULT,
    KubeVersionError,
    control_plane_version,
    discovery_stand_in,
    parse,
)
from hastack_tools.dev.mockrun import run_function

PROGRAMS = REPO_ROOT / "tests" / "programs"
VERSIONS = "digitalocean:index/getKubernetesVersions:getKubernetesVersions"


def _service_status_program() -> None:
    service = k8s.core.v1.Service("web", spec={"type": "LoadBalancer", "ports": [{"port": 80}]})
    pulumi.export("ip", service.status.apply(lambda status: status.load_balancer.ingress[0].ip))


def test_a_preview_leaves_a_computed_output_unknown_and_never_runs_its_callback() -> None:
    run = run_function(_service_status_program, preview=True)
    assert [r.type for r in run.resources] == ["kubernetes:core/v1:Service"]
    assert isinstance(run.outputs["ip"], Unknown)


def test_an_update_run_names_what_the_failing_line_read() -> None:
    with pytest.raises(AttributeError) as failed:
        run_function(_service_status_program, preview=False)
    assert failed.value.__notes__ == [
        "cause: that line reads `status` of Service web, which is only known after deploy (a field the "
        "provider computes, such as a Service's status or a cluster's kubeconfig): an update run answers it "
        "with nothing (None); the default preview run leaves it unknown"
    ]


def test_the_gate_points_at_the_users_line_and_runs_as_a_preview_by_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    program = PROGRAMS / "lb_status_export"
    assert main(["--program", str(program), "-q"]) == 1
    assert main(["--program", str(program), "-q", "--no-preview"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "could not evaluate: the program failed: AttributeError: 'NoneType' object has no attribute "
        "'load_balancer' (raised at __main__.py:42); cause: that line reads `status` of Service nginx, "
        "which is only known after deploy"
    )
    assert "pulumi/runtime/stack.py" not in err


def _versions_output_program() -> None:
    versions = pulumi.runtime.invoke_output(VERSIONS, {"versionPrefix": "1.34."})
    pulumi.export("latest", versions.apply(lambda v: v["latestVersion"].split(".")))


def test_a_function_of_another_provider_answers_unknown_in_a_preview() -> None:
    run = run_function(_versions_output_program, preview=True)
    assert isinstance(run.outputs["latest"], Unknown)  # the callback never ran
    assert run.notes == [
        f"{VERSIONS}: answered unknown (provider digitalocean is not started offline), as a preview "
        "answers a function whose answer is pending"
    ]
    with pytest.raises(KeyError):  # an update answers an empty object, on which the callback fails
        run_function(_versions_output_program, preview=False)


def _versions_plain_program() -> None:
    versions = pulumi.runtime.invoke(VERSIONS, {"versionPrefix": "1.34."}).value
    pulumi.export("newest", sorted(versions.get("validVersions"))[-1])


def test_a_plain_function_of_another_provider_is_named_with_its_call_site_when_it_fails() -> None:
    with pytest.raises(TypeError) as failed:
        run_function(_versions_plain_program, preview=True)
    (text,) = failed.value.__notes__
    assert text.startswith(f"cause: the program read the answer of {VERSIONS} (called at ")
    assert "tests/tools/dev/test_offline_answers.py:" in text
    assert "a function of provider digitalocean, which the offline run does not start" in text


def test_the_sdk_is_itself_again_after_a_run() -> None:
    runtime = private.runtime_module()
    stock = (runtime.invoke, runtime.invoke_output, private.output_type().apply)
    run_function(_versions_output_program, preview=True)
    with pytest.raises(AttributeError):
        run_function(_service_status_program, preview=False)
    assert (runtime.invoke, runtime.invoke_output, private.output_type().apply) == stock


def test_a_kubernetes_function_is_still_asked_of_the_kubernetes_provider() -> None:
    """Only other providers' functions are answered unknown: kubernetes ones reach its provider."""
    seen: list[str] = []

    def program() -> None:
        pulumi.runtime.invoke_output("kubernetes:yaml:decode", {"text": "{}"}).apply(seen.append)

    run_function(program, preview=True)
    assert seen, "the kubernetes provider's answer reached the callback"


# ---- the Kubernetes version charts are rendered for --------------------------------------------


def test_the_default_is_the_local_control_planes_version() -> None:
    line = next(
        line
        for line in (REPO_ROOT / "cluster" / "versions.sh").read_text().splitlines()
        if line.startswith("K8S_VERSION=")
    )
    version = control_plane_version()
    assert version.git_version == line.split("=", 1)[1].split()[0]
    assert version.describe().startswith(f"charts rendered for Kubernetes {version.git_version} (")


def test_an_installed_gate_without_a_checkout_pins_the_same_version(tmp_path: Path) -> None:
    installed = control_plane_version(tmp_path / "no-checkout" / "versions.sh")
    assert installed.git_version == control_plane_version().git_version == INSTALLED_DEFAULT


@pytest.mark.parametrize(
    ("text", "shown"), [("1.31", "v1.31.0"), ("v1.29.7", "v1.29.7"), (" 1.30.2 ", "v1.30.2")]
)
def test_versions_are_read_in_the_forms_helm_takes(text: str, shown: str) -> None:
    assert parse(text, "--kube-version").git_version == shown


@pytest.mark.parametrize("text", ["1", "latest", "1.x", "v1.2.3.4", ""])
def test_a_bad_version_names_the_value_and_the_form(text: str) -> None:
    with pytest.raises(
        KubeVersionError, match=r"--kube-version: .* is not a Kubernetes version; use \[v\]MAJOR"
    ):
        parse(text, "--kube-version")


def test_the_gate_refuses_a_bad_version_as_not_evaluated(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--program", str(PROGRAMS / "good_app"), "--kube-version", "one.two"]) == 2
    assert capsys.readouterr().err.startswith(
        "could not evaluate: bad Kubernetes version: --kube-version: 'one.two' is not a Kubernetes version"
    )


def _get(url: str, method: str = "GET") -> tuple[int, Any]:
    request = urllib.request.Request(url, method=method, data=b"{}" if method != "GET" else None)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            body = answer.read()
            return answer.status, json.loads(body) if body and answer.headers[
                "Content-Type"
            ] == "application/json" else body
    except urllib.error.HTTPError as error:
        return error.code, None


def test_the_discovery_stand_in_answers_discovery_on_loopback_and_refuses_writes(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    with discovery_stand_in(parse("1.33.1", "test"), kubeconfig) as address:
        assert address.startswith("127.0.0.1:")
        assert f"server: http://{address}" in kubeconfig.read_text()
        code, version = _get(f"http://{address}/version")
        assert (code, version["gitVersion"], version["major"], version["minor"]) == (
            200,
            "v1.33.1",
            "1",
            "33",
        )
        assert _get(f"http://{address}/apis")[1]["groups"] == []
        assert _get(f"http://{address}/api/v1/namespaces/default/secrets")[0] == 404
        assert _get(f"http://{address}/api/v1/namespaces", "POST")[0] == 405
