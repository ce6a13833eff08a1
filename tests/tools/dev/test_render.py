"""The renderer: integers, sorted keys, grouping per component, secrets redacted wherever they are."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hastack.args import EnvironmentArgs
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.dev.mockrun import MockRun, RecordedResource, run_function
from hastack_tools.dev.render import REDACTED, dump_manifests, manifest, render_groups
from hastack_tools.dev.render import main as render_main


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


manifest_keys = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9./_-]{0,30}", fullmatch=True)
"""Kubernetes field, label and annotation keys are never empty (the emitters differ on `''`)."""
printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120)
"""Printable ASCII (names, labels, images, hosts): a long string that needs escapes (non-ASCII,
control characters) is wrapped at different points by the two emitters; the data is the same
(the next test checks that)."""
manifest_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | printable,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(manifest_keys, children, max_size=4),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(manifest_keys, manifest_values, max_size=6), min_size=1, max_size=3))
def test_libyaml_dump_writes_the_bytes_the_python_dumper_writes(documents: list[dict[str, Any]]) -> None:
    expected = yaml.safe_dump_all(documents, sort_keys=False, default_flow_style=False)
    assert dump_manifests(documents) == expected


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=20), st.text(max_size=120), max_size=6))
def test_libyaml_dump_of_any_text_loads_back_the_same(document: dict[str, str]) -> None:
    assert yaml.safe_load(dump_manifests([document])) == document


def test_rendered_stacks_dump_to_the_same_bytes(program_run: MockRun) -> None:
    for items in render_groups(program_run).values():
        expected = yaml.safe_dump_all(items, sort_keys=False, default_flow_style=False)
        assert dump_manifests(items) == expected


def test_make_render_renders_the_program_it_is_given(tmp_path: Path) -> None:
    """PROGRAM= reaches the renderer: the outside program's objects, not this repository's stack."""
    out = tmp_path / "out"
    done = subprocess.run(
        ["make", "--no-print-directory", "render", "PROGRAM=tests/programs/good_app", f"OUT={out}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (
        "rendered 8 manifests of good_app, stack ci (the default; no Pulumi.ci.yaml, project config only)"
        in (done.stdout)
    )
    kinds = sorted(m["kind"] for m in yaml.safe_load_all((out / "stack.yaml").read_text()))
    assert kinds == [
        "Deployment",
        "HorizontalPodAutoscaler",
        "Ingress",
        "Namespace",
        "NetworkPolicy",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Service",
    ]


def test_render_of_a_stack_without_its_file_names_the_file_and_the_stacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = REPO_ROOT / "tests" / "programs" / "bad_cross"
    assert render_main(["--program", str(program), "--stack", "prod", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"render: stack 'prod' was asked for, but {program}/Pulumi.prod.yaml does not exist; "
        f"stacks of {program}: ci\n"
    )
    assert not any(tmp_path.iterdir())


def test_a_non_empty_out_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert render_main(["--stack", "dev", "--out", str(tmp_path), "--program", str(REPO_ROOT)]) == 2
    assert capsys.readouterr().err == (
        f"render: {tmp_path}: not empty and not written by render; choose an empty or new folder\n"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_render_notes_the_defaults_that_change_how_an_app_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """prod's apps read secrets from files (prod's default; they set their own probe paths); dev's
    get them as variables; an app without probes is probed on /readyz and /livez."""
    assert render_main(["--stack", "prod", "--out", str(tmp_path / "prod"), "--program", str(REPO_ROOT)]) == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note: ")]
    assert notes == [
        "note: api, web: secrets are files in /var/run/secrets/hastack/ (e.g. "
        "/var/run/secrets/hastack/DB_PASSWORD), not environment variables (secretsAs: files, the default "
        "in prod): an app that reads DB_PASSWORD from its environment starts without it; read the file, or "
        "set secretsAs: env"
    ]
    assert render_main(["--stack", "dev", "--out", str(tmp_path / "dev"), "--program", str(REPO_ROOT)]) == 0
    dev_notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note: ")]
    assert dev_notes == [  # dev runs hastack's test app, which answers the default probe paths
        "note: api, web: probed with GET /readyz (readiness, startup) and GET /livez (liveness) on port "
        "http, hastack's defaults: the app must answer them, or set probes.readiness.path and "
        "probes.liveness.path"
    ]

    def program() -> None:
        from hastack import HighlyAvailableApp

        environment: EnvironmentArgs = {
            "name": "dev",
            "ingress": {"className": "nginx", "tls": {"mode": "self-signed"}},
        }
        HighlyAvailableApp(
            "web",
            {"environment": environment, "namespace": "shop", "image": "web:1", "port": 8080, "replicas": 2},
        )

    from hastack_tools.dev.render import default_notes

    assert default_notes(render_groups(run_function(program))) == [
        "web: probed with GET /readyz (readiness, startup) and GET /livez (liveness) on port http, hastack's "
        "defaults: the app must answer them, or set probes.readiness.path and probes.liveness.path"
    ]
