"""The offline policy gate: `python -m hastack_tools.dev.gate --program <dir> [--stack <s>]`.

Runs a Pulumi Python program under Pulumi's mocks with `Pulumi.<stack>.yaml`, as `pulumi preview`
runs it (outputs only a deploy computes, such as a Service's status, are unknown; `--no-preview` runs it
as an update), then evaluates the hastack-ha pack through the analyzer protocol the engine uses (see
hastack_tools.dev.pack_client) and prints violations like the CLI, then one verdict line.

Exit codes: 0 no mandatory violation; 1 mandatory violations; 2 could not evaluate (the program
failed, a named stack has no stack file, the pack or its config failed, or resources the gate could
not see inside in an enforcing run). Mandatory violations found in what was seen win over 2.

Policy config: `--policy-config FILE` wins; else the environment (dev|staging|prod) the stack config
(`hastack:environment`) or the program's own code (a `hastack.dev/environment` label on an object,
or an exported `environment`) declares picks policy/config/<env>.json, the strictest when they
disagree; else outside.json (programs that are not hastack's own). Stack: `--stack` (its file must
exist); else `dev` here, `ci` elsewhere.
`--print-config` prints that choice and exits, so CI and the engine never pick a config by stack name.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hastack_tools.common.policy_config import (
    DEFAULT_PACK,
    INSTALLED_PACK,
    PolicyConfigChoice,
    PolicyConfigError,
    choose_policy_config,
    declared_environments,
    stack_policy_config,
)
from hastack_tools.common.project import (
    NotAProgramError,
    StackChoice,
    StackFileMissingError,
    choose_stack,
    engine_config,
)
from hastack_tools.common.stack_secrets import StackSecretError
from hastack_tools.dev.kube_version import KubeVersion, KubeVersionError
from hastack_tools.dev.kube_version import parse as parse_kube_version
from hastack_tools.dev.pack_client import (
    AnalyzerError,
    Diagnostic,
    PolicyPackProcess,
    load_config_file,
    resolve_config,
    views_from_records,
)
from hastack_tools.dev.program import ProgramFailedError, run_checked

EXIT_CLEAN, EXIT_VIOLATIONS, EXIT_NOT_EVALUATED = 0, 1, 2
PROG = "hastack-gate"
"""The installed command (`pip install "hastack[gate]"`); `python -m hastack_tools.dev.gate` here."""


@dataclass
class GateResult:
    """What one gate run found; `exit_code` is what the CLI exits with."""

    pack: str
    version: str
    stack: StackChoice
    policy_config: PolicyConfigChoice
    resources: int
    diagnostics: list[Diagnostic]
    remediation: dict[str, str]
    evaluation_seconds: float
    not_evaluated: list[str] = field(default_factory=list)
    not_evaluated_reasons: dict[str, str] = field(default_factory=dict)
    enforcing: bool = True
    kube_version: KubeVersion | None = None
    """The Kubernetes version charts were rendered for (recorded in the report)."""
    notes: list[str] = field(default_factory=list)
    """Where the run departed from the engine, and why."""

    @property
    def config_path(self) -> Path:
        return self.policy_config.path

    @property
    def mandatory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "mandatory"]

    @property
    def exit_code(self) -> int:
        if self.mandatory:
            return EXIT_VIOLATIONS
        return EXIT_NOT_EVALUATED if self.not_evaluated and self.enforcing else EXIT_CLEAN

    @property
    def policy_ids(self) -> set[str]:
        return {d.policy for d in self.diagnostics}


@contextmanager
def serving_folder(pack_dir: Path) -> Iterator[Path]:
    """A folder the analyzer can start the pack from: `pack_dir` when it is one (PulumiPolicy.yaml),
    else, for the installed rules, a pack folder written for this run (hastack_policy.pack)."""
    if (pack_dir / "PulumiPolicy.yaml").exists() or pack_dir.resolve() != INSTALLED_PACK:
        yield pack_dir
        return
    from hastack_policy.pack import write_pack

    with tempfile.TemporaryDirectory(prefix="hastack-pack-") as folder:
        write_pack(Path(folder), Path(sys.prefix))
        yield Path(folder)


def run_gate(
    program: Path,
    stack: str | None = None,
    *,
    policy_config: Path | None = None,
    pack_dir: Path = DEFAULT_PACK,
    preview: bool = True,
    enforcing: bool = True,
    kube_version: KubeVersion | None = None,
) -> GateResult:
    """Runs the program under mocks and the pack over what it registered.

    Raises NotAProgramError, StackFileMissingError, ProgramFailedError, PolicyConfigError or
    AnalyzerError when it cannot evaluate (the CLI exits 2 on each, naming the case).
    """
    program = program.resolve()
    choice = choose_stack(program, stack)
    run = run_checked(program, choice, preview=preview, kube_version=kube_version)
    config, secret_keys = engine_config(program, choice.name)
    chosen = choose_policy_config(declared_environments(config, choice, run), policy_config, pack_dir)
    views = views_from_records(run.resources)
    with (
        serving_folder(pack_dir) as serving,
        PolicyPackProcess(
            serving,
            project=run.project,
            stack=choice.name,
            dry_run=preview,
            config=config,
            secret_keys=secret_keys,
        ) as pack,
    ):
        info = pack.info()
        pack.configure_stack()
        pack.configure(resolve_config(info, load_config_file(chosen.path), str(chosen.path)))
        started = time.perf_counter()
        diagnostics = pack.analyze(views)
        elapsed = time.perf_counter() - started
    return GateResult(
        pack=info.name,
        version=info.version,
        stack=choice,
        policy_config=chosen,
        resources=len(views),
        diagnostics=diagnostics,
        remediation={p.name: p.remediation for p in info.policies},
        evaluation_seconds=elapsed,
        not_evaluated=list(run.not_evaluated),
        not_evaluated_reasons=dict(run.not_evaluated_reasons),
        enforcing=enforcing,
        kube_version=run.kube_version,
        notes=list(run.notes),
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def verdict(result: GateResult) -> str:
    """The last line: what the gate concluded, worded as a verdict, never as pass/fail."""
    advisory = sum(1 for d in result.diagnostics if d.level == "advisory")
    seen = f"{_count(result.resources, 'resource')} of stack {result.stack.name}"
    found = (
        f"{_count(len(result.mandatory), 'mandatory violation')}"
        if result.mandatory
        else "no mandatory violation"
    )
    text = (
        f"{result.pack}: {found}, {advisory} advisory, over {seen} "
        f"(v{result.version}, evaluated in {result.evaluation_seconds:.2f}s)"
    )
    if result.exit_code == EXIT_NOT_EVALUATED:
        text = (
            f"could not evaluate: {_count(len(result.not_evaluated), 'resource')} not evaluated "
            f"(their contents were not visible to the gate); {text}"
        )
    return text


def render(result: GateResult, *, show_remediation: bool = True) -> str:
    """CLI-like text: violations grouped per resource (mandatory first), the choices made, a verdict."""
    lines: list[str] = []
    by_urn: dict[str, list[Diagnostic]] = {}
    for diagnostic in result.diagnostics:
        by_urn.setdefault(diagnostic.urn, []).append(diagnostic)
    order = {"mandatory": 0, "remediate": 1, "advisory": 2}
    for urn in sorted(by_urn, key=lambda u: (min(order.get(d.level, 3) for d in by_urn[u]), u)):
        header = urn.rsplit("::", 1)[-1] if urn else "(stack)"
        type_token = urn.split("::")[-2].rsplit("$", 1)[-1] if urn.count("::") >= 3 else ""
        lines.append(f"{type_token} {header}".strip() + ":")
        for d in sorted(by_urn[urn], key=lambda d: (order.get(d.level, 3), d.policy, d.detail)):
            lines.append(
                f"    [{d.level}] {d.pack} v{result.version} {d.policy}: {d.detail} ({urn or 'stack'})"
            )
            if show_remediation and result.remediation.get(d.policy):
                severity = f"severity {d.severity}; " if d.severity else ""
                lines.append(f"        {severity}fix: {result.remediation[d.policy]}")
    if result.not_evaluated:
        consequence = "fails this enforcing run" if result.enforcing else "allowed by --allow-not-evaluated"
        lines.append(f"not evaluated ({consequence}):")
        for name in result.not_evaluated:
            reason = result.not_evaluated_reasons.get(name)
            lines.append(f"    {name}: {reason}" if reason else f"    {name}")
    lines.extend(f"note: {text}" for text in result.notes)
    if result.kube_version is not None:
        lines.append(result.kube_version.describe())
    lines.append(f"{result.stack.describe()}; {result.policy_config.describe()}")
    lines.append(verdict(result))
    return "\n".join(lines)


CASES: tuple[tuple[type[BaseException], str], ...] = (
    (NotAProgramError, "not a Pulumi program"),
    (StackFileMissingError, "no such stack"),
    (ProgramFailedError, "the program failed"),
    (PolicyConfigError, "bad policy config"),
    (AnalyzerError, "the policy pack failed"),
    (KubeVersionError, "bad Kubernetes version"),
    (StackSecretError, "a stack secret does not decrypt"),
)
"""The ways a run cannot be evaluated, as the message names them."""


def failure_message(error: BaseException) -> str:
    """`could not evaluate: <case>: <error>` for each case; an error of the gate itself says so."""
    for kind, case in CASES:
        if isinstance(error, kind):
            return f"could not evaluate: {case}: {error}"
    return f"could not evaluate: internal error of the gate: {type(error).__name__}: {error} (-v: traceback)"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Offline policy gate: the program under mocks, the hastack-ha pack over the analyzer protocol. "
            "Exit 0: no mandatory violation; 1: mandatory violations; 2: could not evaluate."
        ),
    )
    parser.add_argument(
        "--program", type=Path, default=Path("."), help="Pulumi Python program dir (default: .)"
    )
    parser.add_argument(
        "--stack", help="stack whose Pulumi.<stack>.yaml to use; must exist (default: dev here, ci elsewhere)"
    )
    parser.add_argument(
        "--policy-config",
        type=Path,
        help="policy config JSON (default: the pack's config/<declared environment>.json, else outside.json)",
    )
    parser.add_argument(
        "--policy-pack",
        type=Path,
        default=DEFAULT_PACK,
        help="policy pack dir (default: this checkout's policy/, else the installed rules)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--preview",
        dest="preview",
        action="store_true",
        default=True,
        help="run as `pulumi preview` does (the default): outputs only a deploy computes are unknown",
    )
    mode.add_argument(
        "--no-preview",
        dest="preview",
        action="store_false",
        help="run as an update: every output is known, those only a deploy computes as nothing (None)",
    )
    parser.add_argument(
        "--kube-version",
        help="Kubernetes version charts are rendered for, [v]MAJOR.MINOR[.PATCH] (default: the local "
        "control plane's, K8S_VERSION in cluster/versions.sh)",
    )
    parser.add_argument(
        "--allow-not-evaluated",
        action="store_true",
        help="list resources the gate could not see inside without exiting 2 for them (not enforcing)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no remediation lines")
    parser.add_argument("-v", "--verbose", action="store_true", help="tracebacks of failures")
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the policy config file this stack is judged by (chosen by environment) and exit",
    )
    return parser.parse_args(argv)


def print_config(args: argparse.Namespace) -> int:
    """Prints the chosen config (relative to the working directory when inside it), for CI steps that
    hand it to `pulumi preview|up --policy-pack-config`: the same choice as the gate and the engine."""
    program = args.program.resolve()
    try:
        stack = choose_stack(program, args.stack).name  # a named stack must have its file
        path = stack_policy_config(program, stack, args.policy_config, args.policy_pack)
    except (PolicyConfigError, NotAProgramError, StackFileMissingError, ValueError) as error:
        print(f"could not evaluate: {error}", file=sys.stderr)
        return 2
    path = path.resolve()
    print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.print_config:
        return print_config(args)
    try:
        kube_version = parse_kube_version(args.kube_version, "--kube-version") if args.kube_version else None
        result = run_gate(
            args.program,
            args.stack,
            policy_config=args.policy_config,
            pack_dir=args.policy_pack,
            preview=args.preview,
            enforcing=not args.allow_not_evaluated,
            kube_version=kube_version,
        )
    except Exception as error:  # every failure is a "could not evaluate" (2), never a verdict (1)
        if args.verbose:
            _print_traceback(error)
        print(failure_message(error), file=sys.stderr)
        return EXIT_NOT_EVALUATED
    print(render(result, show_remediation=not args.quiet))
    return result.exit_code


def _print_traceback(error: BaseException) -> None:
    import traceback

    text: Any = error.traceback_text() if isinstance(error, ProgramFailedError) else traceback.format_exc()
    print(text, file=sys.stderr, end="")


if __name__ == "__main__":
    sys.exit(main())
