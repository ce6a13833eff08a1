"""The gate and render as installed commands, in a venv outside the repo with no checkout to lean on.

`pip install '<clone>[gate]'` into a fresh venv in tmp_path, then `hastack render` and `hastack-gate`
on programs there. Offline and fast on purpose: pip installs the clone with --no-deps
--no-build-isolation --no-index, and the venv then sees, through a .pth file, exactly the
distributions `hastack[gate]` requires (its Requires-Dist with the `gate` extra, followed
transitively), taken from this repo's venv, the versions constraints.txt pins. That is faithful to
`pip install '<clone>[gate]'` where it matters: the wheel pip builds from the clone is what lands in
the venv (packages, package data, console scripts), a dependency missing from the extra is missing
here too, every import of hastack, hastack_policy and hastack_tools resolves inside the venv
(asserted), and the commands run from a folder outside the repo.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from hastack_tools.common.checkout import REPO_ROOT

INSTALL_TIMEOUT_S = 300
BUILD_TOOLS = ("setuptools", "pip")
"""What pip needs to build the clone without isolation; seen by the venv during the install only."""


@dataclass(frozen=True)
class Installed:
    venv: Path
    home: Path
    """A working folder outside the repo (the commands' cwd)."""

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    def run(self, *argv: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        return subprocess.run(
            [str(a) for a in argv],
            cwd=cwd or self.home,
            env={**env, "PATH": f"{self.venv / 'bin'}:{env.get('PATH', '')}"},
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
        )


def _clone(target: Path) -> Path:
    """The working tree's files as a clone has them (tracked and new, never ignored ones)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=REPO_ROOT, capture_output=True, check=True
    )
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def closure(requirements: list[str], extras: set[str]) -> set[str]:
    """The distributions `requirements` need (markers evaluated, with `extras` for the first level),
    followed through the Requires-Dist of what this repo's venv has installed."""
    needed: set[str] = set()
    todo = [(r, extras) for r in requirements]
    while todo:
        text, active = todo.pop()
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is not None and not any(marker.evaluate({"extra": e}) for e in active or {""}):
            continue
        name = canonicalize_name(requirement.name)
        if name in needed:
            continue
        needed.add(name)
        found = metadata.distribution(name)
        todo.extend((r, set(requirement.extras)) for r in found.requires or [])
    return needed


def link_distributions(names: set[str], into: Path) -> None:
    """Links each distribution's top-level files (packages, modules, its .dist-info) into `into`."""
    for name in names:
        found = metadata.distribution(name)
        root = Path(str(found.locate_file("")))
        tops = {Path(str(f)).parts[0] for f in found.files or [] if not str(f).startswith("..")}
        for top in tops:
            if (root / top).exists() and not (into / top).exists():
                (into / top).symlink_to(root / top)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("installed")
    assert REPO_ROOT not in root.parents
    clone = _clone(root / "hastack-clone")
    tools, deps = root / "build-tools", root / "deps"
    tools.mkdir()
    deps.mkdir()
    link_distributions(set(BUILD_TOOLS), tools)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = Path(sysconfig.get_paths(vars={"base": str(venv)})["purelib"])
    (site / "repo-deps.pth").write_text(f"{tools}\n{deps}\n")
    home = root / "home"
    home.mkdir()
    result = Installed(venv, home)
    done = result.run(
        venv / "bin" / "python",
        *("-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--no-build-isolation"),
        f"{clone}[gate]",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (site / "repo-deps.pth").write_text(f"{deps}\n")  # the build tools were for the install only
    (wheel_metadata,) = site.glob("hastack-*.dist-info/METADATA")
    requires = [
        line.removeprefix("Requires-Dist: ")
        for line in wheel_metadata.read_text().splitlines()
        if line.startswith("Requires-Dist: ")
    ]
    link_distributions(closure(requires, {"gate"}), deps)
    return result


def test_the_commands_and_the_pack_come_from_the_installed_wheel(installed: Installed) -> None:
    assert installed.bin("hastack").exists() and installed.bin("hastack-gate").exists()
    where = installed.run(
        installed.bin("python"),
        "-c",
        "import json, hastack, hastack_policy, hastack_tools.dev.gate as g; "
        "print(json.dumps([hastack.__file__, hastack_policy.__file__, g.__file__, str(g.DEFAULT_PACK)]))",
    )
    assert where.returncode == 0, where.stderr
    site = Path(sysconfig.get_paths(vars={"base": str(installed.venv)})["purelib"]).resolve()
    for path in json.loads(where.stdout):
        assert Path(path).resolve().is_relative_to(site), path
    pack = Path(json.loads(where.stdout)[3])
    assert sorted(p.name for p in (pack / "config").glob("*.json")) == [
        "dev.json",
        "outside.json",
        "prod.json",
        "staging.json",
    ]
    usage = installed.run("hastack")
    assert usage.returncode == 2 and "render" in usage.stdout and "gate" in usage.stdout
    # the fleet drives a checkout's engine tooling, which the wheel leaves out: said, not a traceback
    fleet = installed.run("hastack", "fleet", "status")
    assert fleet.returncode == 2 and "install the checkout with `make venv`" in fleet.stderr, fleet.stderr


DIGEST = "@sha256:" + "e" * 64
GROUP_PROGRAM = f'''"""Two apps: web calls api, declared once (api's allowFrom)."""
import pulumi
from hastack import AppGroup

DROP_CALLER_EGRESS = False


def drop_caller_egress(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    """By hand: web's NetworkPolicy without its egress to api (what a program without calls has)."""
    spec = args.props.get("spec") or {{}}
    if args.type_ == "kubernetes:networking.k8s.io/v1:NetworkPolicy" and args.name == "web":
        egress = [rule for rule in spec["egress"] if "api" not in str(rule)]
        props = {{**args.props, "spec": {{**spec, "egress": egress}}}}
        return pulumi.ResourceTransformationResult(props, args.opts)
    return None


environment = {{
    "name": "prod",
    "ingress": {{"className": "nginx", "tls": {{"mode": "cert-manager", "issuer": "letsencrypt-prod"}}}},
}}
scaling = {{"minReplicas": 3, "maxReplicas": 6, "targetCPUUtilization": 70}}
shop = AppGroup(
    "shop",
    {{
        "environment": environment,
        "namespace": "shop",
        "apps": [
            {{"name": "web", "image": "ghcr.io/acme/web{DIGEST}", "port": 8080, "autoscaling": scaling,
              "ingress": {{"hosts": ["shop.example.com"]}}}},
            {{"name": "api", "image": "ghcr.io/acme/api{DIGEST}", "port": 9090, "autoscaling": scaling,
              "allowFrom": ["web"]}},
        ],
    }},
    pulumi.ResourceOptions(transformations=[drop_caller_egress] if DROP_CALLER_EGRESS else []),
)
pulumi.export("urls", shop.urls)
'''


def write_program(folder: Path, code: str) -> Path:
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text("name: shop\nruntime: python\n")
    (folder / "Pulumi.prod.yaml").write_text("config: {}\n")
    (folder / "__main__.py").write_text(code)
    return folder


def policy_of(manifests: list[dict[str, Any]], app: str) -> dict[str, Any]:
    (found,) = [
        m
        for m in manifests
        if m["kind"] == "NetworkPolicy"
        and m["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": app}}
    ]
    return found


def test_a_two_app_program_renders_a_path_from_caller_to_callee_and_passes_the_prod_gate(
    installed: Installed,
) -> None:
    program = write_program(installed.home / "shop", GROUP_PROGRAM)
    out = installed.home / "rendered"
    done = installed.run("hastack", "render", "--program", program, "--stack", "prod", "--out", out)
    assert done.returncode == 0, done.stderr
    assert "note: web, api: probed with GET /readyz" in done.stdout or "note: api, web: probed" in done.stdout
    manifests = [m for path in sorted(out.glob("*.yaml")) for m in yaml.safe_load_all(path.read_text())]
    web, api = policy_of(manifests, "web"), policy_of(manifests, "api")
    assert {
        "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}}}],
        "ports": [{"port": 9090, "protocol": "TCP"}],
    } in web["spec"]["egress"]
    assert api["spec"]["ingress"][0]["ports"] == [{"port": 9090, "protocol": "TCP"}]
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}} in api["spec"]["ingress"][0][
        "from"
    ]
    assert [
        m["spec"] for m in manifests if m["kind"] == "NetworkPolicy" and m["spec"]["podSelector"] == {}
    ] == [{"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}]
    gate = installed.run("hastack-gate", "--program", program, "--stack", "prod")
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "policy config config/prod.json of the installed hastack_policy (environment prod" in gate.stdout
    assert gate.stdout.splitlines()[-1].startswith("hastack-ha: no mandatory violation")


def test_removing_the_callers_egress_by_hand_fails_the_gate_naming_the_rule(installed: Installed) -> None:
    code = GROUP_PROGRAM.replace("DROP_CALLER_EGRESS = False", "DROP_CALLER_EGRESS = True")
    program = write_program(installed.home / "shop-dropped", code)
    out = installed.home / "rendered-dropped"
    assert (
        installed.run("hastack", "render", "--program", program, "--stack", "prod", "--out", out).returncode
        == 0
    )
    manifests = [m for path in sorted(out.glob("*.yaml")) for m in yaml.safe_load_all(path.read_text())]
    assert "api" not in json.dumps(policy_of(manifests, "web")["spec"]["egress"]), "the transform removed it"
    gate = installed.run("hastack-gate", "--program", program, "--stack", "prod", "-q")
    assert gate.returncode == 1, gate.stdout + gate.stderr
    assert "[mandatory] hastack-ha v1 caller-egress-reaches-callee: Deployment shop/web-" in gate.stdout
    assert "is admitted to Deployment shop/api-" in gate.stdout


def test_the_installed_gate_keeps_the_exit_codes_of_make_policy(installed: Installed) -> None:
    program = write_program(installed.home / "shop-codes", GROUP_PROGRAM)
    missing = installed.run("hastack-gate", "--program", program, "--stack", "nope")
    assert missing.returncode == 2
    assert missing.stderr.startswith("could not evaluate: no such stack: stack 'nope' was asked for")
    config = installed.run("hastack-gate", "--program", program, "--stack", "prod", "--print-config")
    assert config.returncode == 0, config.stderr
    printed = Path(config.stdout.strip())
    # the stack file declares no environment (the program does, in code): the outside profile's config
    assert printed.name == "outside.json" and printed.exists() and json.loads(printed.read_text())
    in_repo = subprocess.run(
        [sys.executable, "-m", "hastack_tools.dev.gate", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    installed_help = installed.run("hastack-gate", "--help")
    flags = {word for word in in_repo.stdout.split() if word.startswith("--")}
    assert flags == {word for word in installed_help.stdout.split() if word.startswith("--")}
