"""The fleet file: which stacks run on which clusters, in which waves, behind which gates.

Validated like a stack file (unknown keys are errors, every problem reported at once with its key
path, the value found and what is allowed), so a typo never deploys a wave without its gate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError

from hastack.config.messages import problems
from hastack.config.models import Model
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.project import read_project

DEFAULT_FLEET = REPO_ROOT / "Fleet.yaml"
NAME = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$", description="a name of 1-40 characters a-z, 0-9 and '-'")
CLUSTER = Field(
    pattern=r"^[a-z0-9][a-z0-9-]{0,30}$",
    description="a local control plane's name (HASTACK_CLUSTER): 1-31 characters a-z, 0-9 and '-'",
)


class FleetError(ValueError):
    """An unusable fleet file; the message lists every problem, one a line, with its key path."""


class ErrorRate(Model):
    """Requests through the stack's Ingress hosts during its soak, counted: the traffic-proven gate."""

    max_percent: Annotated[float, Field(ge=0, le=100)] = 1.0
    """More failed requests than this share of all sent (no answer, or a status outside 2xx-3xx) fails
    the gate; the statuses seen are named."""
    requests_per_second: Annotated[float, Field(gt=0, le=50)] = 5.0
    """Per Ingress host, for the whole soak, then the load stops by itself."""


class Gates(Model):
    """What a wave must pass before the next one starts; every stack of the wave is judged."""

    policy: bool = True
    """The hastack-ha pack judges a preview of each stack before its `up` (the environment's config)."""
    available_timeout_seconds: Annotated[int, Field(ge=1, le=3600)] = 300
    """After `up`, every Deployment of the stack reports Available (all replicas updated and
    available) within this many seconds."""
    no_change_preview: bool = True
    """After `up`, a `preview --expect-no-changes` of the stack: a program that does not converge fails."""
    soak_seconds: Annotated[int, Field(ge=0, le=86400)] = 0
    """After the other gates, the stack's Deployments stay Available this long (checked every 2 s)."""
    error_rate: ErrorRate | None = None
    """During the soak, requests through every Ingress (and IngressRoute) host of the stack, on loopback
    (a local control plane with real nodes: `cluster` with `nodes: real` or `auto`; traffic never goes
    to a kubeconfig's cluster); needs `soakSeconds` of at least 5."""


class FleetStack(Model):
    """A Pulumi stack (its stack file `Pulumi.<name>.yaml` in the program) and the cluster it runs on."""

    name: Annotated[str, NAME]
    """The Pulumi stack; its stack file is `Pulumi.<name>.yaml` in the program."""
    cluster: Annotated[str, CLUSTER] | None = None
    """A named local control plane (`HASTACK_CLUSTER=<cluster> bash cluster/up.sh`), started if needed."""
    nodes: Literal["kwok", "real", "auto"] = "kwok"
    """With `cluster`: the local control plane's nodes when it is first started (HASTACK_NODES). kwok by
    default: objects only, so stacks whose images no registry here serves still pass the Available gate;
    `real` or `auto` run the pods (cluster/README.md)."""
    kubeconfig: str | None = None
    """The cluster of this kubeconfig's current context (a path, relative to the fleet file)."""
    program: str | None = None
    """The Pulumi program (a folder, relative to the fleet file); default: the fleet's `program`."""


class Wave(Model):
    """Stacks deployed together; the next wave starts when every gate passed on every one of them."""

    name: Annotated[str, NAME]
    stacks: Annotated[list[str], Field(min_length=1)]
    """Names from `stacks`, each in exactly one wave."""
    parallelism: Annotated[int, Field(ge=1, le=32)] = 1
    """How many of the wave's stacks deploy at once."""
    gates: Gates = Gates()


class Fleet(Model):
    """The whole fleet: `hastack fleet plan|up|status|drift|destroy` read it."""

    name: Annotated[str, NAME]
    """Names the fleet's progress record (`<workdir>/fleet/<name>/state.json`)."""
    program: str = "."
    """The default Pulumi program of the stacks (a folder, relative to the fleet file)."""
    stacks: Annotated[list[FleetStack], Field(min_length=1)]
    waves: Annotated[list[Wave], Field(min_length=1)]
    correct_drift: bool = True
    """`up` refreshes first and takes back the fields someone edited out of band (server-side apply
    with force, PULUMI_K8S_ENABLE_PATCH_FORCE): the fleet's programs are the truth. false: `up` leaves
    drift alone (an update of such a field fails at the conflict, naming it); `drift` reports it."""
    on_failure: Literal["halt", "rollback"] = "halt"
    """A failed gate halts the rollout: later stacks and waves are not touched. `rollback` also returns
    every stack the failed wave deployed to the git commit at which it last passed every gate (an `up`
    of that commit's program, then the Available gate); a stack with no such commit stays as it is."""


@dataclass(frozen=True)
class Reference:
    """A stack another one reads (`apps[i].egress[j].stack` of its stack file), and where it says so."""

    stack: str
    key: str
    """The key path in the stack file, `hastack:apps[0].egress[1].stack`."""


def stack_references(program: Path, name: str) -> tuple[Reference, ...]:
    """The stacks `Pulumi.<name>.yaml` references (`<project>:apps[].egress[].stack`), derived from the
    file so the fleet never disagrees with what the program reads; none for an unreadable file or a
    program of another shape (the program's own load reports those)."""
    try:
        project = str(read_project(program)["name"])
        document = yaml.safe_load((program / f"Pulumi.{name}.yaml").read_text())
    except (OSError, ValueError, yaml.YAMLError):
        return ()
    config = document.get("config") if isinstance(document, dict) else None
    apps = config.get(f"{project}:apps") if isinstance(config, dict) else None
    found: list[Reference] = []
    for i, app in enumerate(apps if isinstance(apps, list) else []):
        egress = app.get("egress") if isinstance(app, dict) else None
        for j, entry in enumerate(egress if isinstance(egress, list) else []):
            if isinstance(entry, dict) and isinstance(entry.get("stack"), str):
                found.append(Reference(entry["stack"], f"{project}:apps[{i}].egress[{j}].stack"))
    return tuple(found)


@dataclass(frozen=True)
class Target:
    """Where one stack deploys, resolved: its program folder and cluster."""

    stack: FleetStack
    program: Path
    wave: int
    base: Path

    @property
    def kubeconfig(self) -> Path | None:
        """The stack's kubeconfig: `~` expanded, a relative path taken from the fleet file's folder."""
        if self.stack.kubeconfig is None:
            return None
        return self.base / Path(self.stack.kubeconfig).expanduser()

    uses: tuple[Reference, ...] = ()
    """The stacks this one's program reads through stack references (from its stack file)."""

    @property
    def name(self) -> str:
        return self.stack.name

    @property
    def where(self) -> str:
        return (
            f"cluster {self.stack.cluster}" if self.stack.cluster else f"kubeconfig {self.stack.kubeconfig}"
        )


@dataclass(frozen=True)
class LoadedFleet:
    """A validated fleet file and its stacks resolved, wave by wave."""

    path: Path
    spec: Fleet
    targets: dict[str, Target]

    def wave_targets(self, index: int) -> list[Target]:
        return [self.targets[name] for name in self.spec.waves[index].stacks]

    def destroy_waves(self) -> list[int]:
        """Last wave first: a stack is destroyed before the stacks it references (earlier waves, as
        the fleet file's check demands), so none reads a stack already gone."""
        return list(reversed(range(len(self.spec.waves))))

    def references(self, name: str) -> str:
        """The stacks `name` references, with their waves, for plan and status ('' for none)."""
        used = dict.fromkeys(r.stack for r in self.targets[name].uses)
        return ", ".join(
            f"{u} (wave {self.spec.waves[self.targets[u].wave].name})" for u in used if u in self.targets
        )


def _cross_problems(fleet: Fleet, base: Path) -> list[str]:
    found: list[str] = []
    names = [s.name for s in fleet.stacks]
    default = (base / fleet.program).resolve()
    if not (default / "Pulumi.yaml").is_file() and any(s.program is None for s in fleet.stacks):
        found.append(f"program: {str(default)!r} holds no Pulumi.yaml; a Pulumi program folder is allowed")
    for i, stack in enumerate(fleet.stacks):
        where = f"stacks[{i}]"
        if names.index(stack.name) != i:
            found.append(f"{where}.name: {stack.name!r} is listed twice; a stack deploys once per rollout")
        if (stack.cluster is None) == (stack.kubeconfig is None):
            found.append(
                f"{where}: set exactly one of cluster (a named local control plane) or kubeconfig "
                f"(a path), got cluster={stack.cluster!r} kubeconfig={stack.kubeconfig!r}"
            )
        program = (base / (stack.program or fleet.program)).resolve()
        if not (program / "Pulumi.yaml").is_file():
            if stack.program is not None:
                found.append(
                    f"{where}.program: {str(program)!r} holds no Pulumi.yaml; "
                    "a Pulumi program folder is allowed"
                )
        elif not (program / f"Pulumi.{stack.name}.yaml").is_file():
            there = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in program.glob("Pulumi.*.yaml"))
            found.append(
                f"{where}.name: {stack.name!r} has no stack file {program / f'Pulumi.{stack.name}.yaml'}; "
                f"stacks there: {', '.join(there) or 'none'}"
            )
    placed: dict[str, str] = {}
    waves = [w.name for w in fleet.waves]
    for w, wave in enumerate(fleet.waves):
        found.extend(_error_rate_problems(fleet, w, wave))
        if waves.index(wave.name) != w:
            found.append(f"waves[{w}].name: {wave.name!r} is used by an earlier wave; wave names are unique")
        for s, name in enumerate(wave.stacks):
            where = f"waves[{w}].stacks[{s}]"
            if name not in names:
                found.append(f"{where}: {name!r} names no stack; stacks are: {', '.join(names)}")
            elif name in placed:
                found.append(f"{where}: {name!r} is already in {placed[name]}; a stack belongs to one wave")
            else:
                placed[name] = f"wave {wave.name!r}"
    missing = [n for n in names if n not in placed]
    if missing:
        found.append(f"waves: stack(s) {', '.join(map(repr, missing))} are in no wave; put each in one")
    found.extend(_reference_problems(fleet, base))
    return found


def _reference_problems(fleet: Fleet, base: Path) -> list[str]:
    """A stack reads the stacks it references when it deploys: each must be of the fleet, deploy in
    an earlier wave (its outputs exist then, and destroy, last wave first, removes it after its
    readers), on the same cluster (the caller reaches it by a cluster-internal name) and project."""
    found: list[str] = []
    stacks = {s.name: s for s in fleet.stacks}
    wave_of = {name: (w, wave.name) for w, wave in enumerate(fleet.waves) for name in wave.stacks}
    for i, stack in enumerate(fleet.stacks):
        program = (base / (stack.program or fleet.program)).resolve()
        for reference in stack_references(program, stack.name):
            used, said = reference.stack, f"{reference.key} in Pulumi.{stack.name}.yaml"
            other = stacks.get(used)
            if other is None or used == stack.name:
                what = "itself" if used == stack.name else "no stack of the fleet"
                others = ", ".join(s for s in stacks if s != stack.name) or "none"
                found.append(
                    f"stacks[{i}]: {stack.name!r} references stack {used!r} ({said}), {what}; a stack "
                    f"references another stack of the fleet: {others}"
                )
                continue
            if stack.name in wave_of and used in wave_of and wave_of[used][0] >= wave_of[stack.name][0]:
                (w, wave), (_, used_wave) = wave_of[stack.name], wave_of[used]
                s = fleet.waves[w].stacks.index(stack.name)
                found.append(
                    f"waves[{w}].stacks[{s}]: {stack.name!r} (wave {wave!r}) references stack {used!r} "
                    f"({said}), which deploys in wave {used_wave!r}; a referenced stack deploys in an "
                    f"earlier wave, so its outputs exist when {stack.name!r} reads them"
                )
            if (other.cluster, other.kubeconfig) != (stack.cluster, stack.kubeconfig):
                found.append(
                    f"stacks[{i}]: {stack.name!r} references stack {used!r} ({said}), which runs on "
                    f"{_where(other)}, not {_where(stack)}; a referenced stack runs on the same cluster "
                    "(its apps are reached by cluster-internal names)"
                )
            other_program = (base / (other.program or fleet.program)).resolve()
            if other_program != program and _project(other_program) != _project(program):
                found.append(
                    f"stacks[{i}]: {stack.name!r} references stack {used!r} ({said}) of project "
                    f"{_project(other_program)!r}; a stack references stacks of its own project "
                    f"({_project(program)!r})"
                )
    return found


def _where(stack: FleetStack) -> str:
    return f"cluster {stack.cluster!r}" if stack.cluster else f"kubeconfig {stack.kubeconfig!r}"


def _project(program: Path) -> str | None:
    try:
        return str(read_project(program)["name"])
    except (OSError, ValueError):
        return None


MIN_ERROR_RATE_SOAK_S = 5
"""Below this, too few requests are sent for a share to mean anything."""


def _error_rate_problems(fleet: Fleet, w: int, wave: Wave) -> list[str]:
    """The error-rate gate sends requests only to loopback: local control planes with real nodes."""
    if wave.gates.error_rate is None:
        return []
    where = f"waves[{w}].gates.errorRate"
    found = []
    if wave.gates.soak_seconds < MIN_ERROR_RATE_SOAK_S:
        found.append(
            f"{where}: needs soakSeconds of at least {MIN_ERROR_RATE_SOAK_S} (the window its requests "
            f"are sent in), got {wave.gates.soak_seconds}"
        )
    stacks = {s.name: s for s in fleet.stacks}
    for name in wave.stacks:
        stack = stacks.get(name)
        if stack is None:
            continue
        if stack.cluster is None:
            found.append(
                f"{where}: stack {name!r} runs on kubeconfig {stack.kubeconfig!r}; requests go only to "
                "loopback, so the gate is allowed on a local control plane (cluster:) with real nodes"
            )
        elif stack.nodes == "kwok":
            found.append(
                f"{where}: stack {name!r} runs on kwok nodes (nodes: kwok), where no request is answered; "
                "allowed: nodes: real or auto"
            )
    return found


def parse(raw: Any, path: Path) -> LoadedFleet:
    """`raw` (the fleet file's YAML) validated; FleetError lists every problem."""
    try:
        fleet = Fleet.model_validate(raw)
    except ValidationError as error:
        lines = [re.sub(r"^hastack:", "", line) for line in problems(error.errors(), root=Fleet)]
        raise FleetError(_message(path, lines)) from None
    base = path.parent
    lines = _cross_problems(fleet, base)
    if lines:
        raise FleetError(_message(path, lines))
    position = {name: w for w, wave in enumerate(fleet.waves) for name in wave.stacks}
    programs = {s.name: (base / (s.program or fleet.program)).resolve() for s in fleet.stacks}
    targets = {
        s.name: Target(
            s, programs[s.name], position[s.name], base, stack_references(programs[s.name], s.name)
        )
        for s in fleet.stacks
    }
    return LoadedFleet(path, fleet, targets)


def load(path: Path = DEFAULT_FLEET) -> LoadedFleet:
    """Reads and validates a fleet file."""
    path = path.resolve()
    if not path.is_file():
        raise FleetError(f"{path}: no such fleet file (default: {DEFAULT_FLEET.name} at the repo root)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        raise FleetError(f"{path}{where}: not valid YAML: {getattr(error, 'problem', error)}") from None
    if not isinstance(raw, dict):
        raise FleetError(
            f"{path}: a fleet file is a mapping (name:, stacks:, waves:), got {type(raw).__name__}"
        )
    return parse(raw, path)


def _message(path: Path, lines: list[str]) -> str:
    body = "\n".join(f"  {path}: {line}" for line in lines)
    return f"invalid fleet file ({len(lines)} problem{'' if len(lines) == 1 else 's'}):\n{body}"
