"""Which policy config judges a stack: `--policy-config` if given, else `config/<environment>.json` of
the pack for the environment the stack config or the program's own code declares (the strictest when
they disagree), else `outside.json`, the profile of programs that are not hastack's own. The gate,
the engine commands and CI's `--print-config` all choose here, never by stack name."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from hastack.config.profiles import ENVIRONMENTS, OUTSIDE
from hastack.resources.labels import ENVIRONMENT_LABEL  # a program declares its environment in code by it
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.project import StackChoice, engine_config


class PolicyConfigError(ValueError):
    """No policy config can be chosen, or the chosen file names an unknown policy or breaks a
    policy's config schema."""


class RegisteredResource(Protocol):
    """What the choice reads of a resource a program registered (a mock run's record)."""

    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def inputs(self) -> dict[str, Any]: ...


class ProgramRun(Protocol):
    """What the choice reads of a program run: its outputs and what it registered."""

    @property
    def outputs(self) -> dict[str, Any]: ...
    @property
    def resources(self) -> Sequence[RegisteredResource]: ...


def _installed_pack() -> Path:
    """Where the rules package `hastack_policy` is installed (found without importing the rules)."""
    spec = importlib.util.find_spec("hastack_policy")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return Path(locations[0]).resolve() if locations else REPO_ROOT / "policy"


INSTALLED_PACK = _installed_pack()
"""The installed rules (`pip install "hastack[gate]"`): their config/ holds the per-environment configs."""
DEFAULT_PACK = (
    REPO_ROOT / "policy" if (REPO_ROOT / "policy" / "PulumiPolicy.yaml").exists() else INSTALLED_PACK
)
"""This checkout's pack, else the installed one (the gate as an installed command, no checkout)."""
ENVIRONMENT_KEY = "hastack:environment"
ENVIRONMENT_OUTPUT = "environment"
STRICTNESS = tuple(ENVIRONMENTS)
"""dev < staging < prod: the profile table's order."""


@dataclass(frozen=True)
class PolicyConfigChoice:
    """The policy config file of a run, the environment it stands for, and why it was chosen."""

    path: Path
    environment: str | None
    reason: str

    def describe(self) -> str:
        if self.path.is_relative_to(INSTALLED_PACK):
            shown: Path | str = f"{self.path.relative_to(INSTALLED_PACK)} of the installed hastack_policy"
        else:
            shown = self.path.relative_to(REPO_ROOT) if self.path.is_relative_to(REPO_ROOT) else self.path
        return f"policy config {shown} ({self.reason})"


def declared_environments(
    program_config: Mapping[str, str], stack: StackChoice, run: ProgramRun | None
) -> dict[str, list[str]]:
    """Every environment the stack config or the program's code (when run) declares, and where."""
    found: dict[str, list[str]] = {}
    configured = program_config.get(ENVIRONMENT_KEY, "").strip()
    if configured:
        stack_keys = (yaml.safe_load(stack.file.read_text()) or {}).get("config") or {} if stack.file else {}
        source = stack.file.name if stack.file and ENVIRONMENT_KEY in stack_keys else "Pulumi.yaml"
        found.setdefault(configured, []).append(f"{ENVIRONMENT_KEY} in {source}")
    if run is None:
        return found
    exported = run.outputs.get(ENVIRONMENT_OUTPUT)
    if isinstance(exported, str) and exported:
        found.setdefault(exported, []).append(f"the program exports {ENVIRONMENT_OUTPUT}")
    for resource in run.resources:
        metadata = resource.inputs.get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, dict) else None
        value = labels.get(ENVIRONMENT_LABEL) if isinstance(labels, dict) else None
        if isinstance(value, str) and value:
            kind = resource.inputs.get("kind") or resource.type.rsplit(":", 1)[-1]
            name = metadata.get("name") if isinstance(metadata, dict) else None
            found.setdefault(value, []).append(
                f"label {ENVIRONMENT_LABEL} on {kind} {name or resource.name} in the program"
            )
    return found


def choose_policy_config(
    declared: Mapping[str, list[str]], explicit: Path | None, pack_dir: Path
) -> PolicyConfigChoice:
    """The policy config for this run (see the module docstring for the order)."""
    if explicit is not None:
        return PolicyConfigChoice(explicit, None, "given with --policy-config")
    if not declared:
        return PolicyConfigChoice(
            pack_dir / "config" / f"{OUTSIDE}.json",
            OUTSIDE,
            f"no environment declared by {ENVIRONMENT_KEY} in the stack config, a {ENVIRONMENT_LABEL} "
            f"label or an exported {ENVIRONMENT_OUTPUT}: the profile of programs that are not hastack's own",
        )
    unknown = sorted(env for env in declared if env not in STRICTNESS)
    if unknown:
        where = "; ".join(f"{env!r} from {', '.join(declared[env])}" for env in unknown)
        raise PolicyConfigError(f"unknown environment {where}; allowed: {', '.join(STRICTNESS)}")
    environment = max(declared, key=STRICTNESS.index)
    reason = f"environment {environment} from {', '.join(declared[environment])}"
    if len(declared) > 1:
        others = "; ".join(f"{env} from {', '.join(declared[env])}" for env in declared if env != environment)
        reason += f"; the strictest, over {others}"
    path = pack_dir / "config" / f"{environment}.json"
    if not path.exists():
        raise PolicyConfigError(f"{reason}, but {path} does not exist")
    return PolicyConfigChoice(path, environment, reason)


def stack_policy_config(program: Path, stack: str, explicit: Path | None, pack_dir: Path) -> Path:
    """The policy config the stack config alone declares, for the real engine (which runs the
    program itself, so its code is not seen here)."""
    file = program / f"Pulumi.{stack}.yaml"  # chosen already: an outside program's `ci` may have no file
    choice = StackChoice(stack, file if file.exists() else None, "asked for")
    config, _ = engine_config(program, choice.name)
    return choose_policy_config(declared_environments(config, choice, None), explicit, pack_dir).path
