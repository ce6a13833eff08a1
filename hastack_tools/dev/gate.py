"""The offline policy gate: `python -m hastack_tools.dev.gate --program <dir> [--stack <s>]`.

Runs a Pulumi Python program under Pulumi's mocks with `Pulumi.<stack>.yaml`, then evaluates the
hastack-ha pack through the analyzer protocol the engine uses (see hastack_tools.dev.analyzer) and
prints violations like the CLI. Exit 1 on any mandatory violation, 2 when it cannot run.

Policy config: `--policy-config FILE` wins; else the program's `hastack:environment` config
(dev|staging|prod) picks policy/config/<env>.json; else prod.json, the strict one.
Stack: `--stack` wins; else `dev` for this project and `ci` for any other program.
`--print-config` prints that choice and exits, so CI and the engine never pick a config by stack name.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hastack_tools.dev.analyzer import (
    AnalyzerError,
    Diagnostic,
    PolicyConfigError,
    PolicyPackProcess,
    load_config_file,
    resolve_config,
    views_from_records,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PACK = REPO_ROOT / "policy"
ENVIRONMENT_KEY = "hastack:environment"
OUTSIDE_STACK = "ci"
STRICT_ENVIRONMENT = "prod"


@dataclass
class GateResult:
    """What one gate run found; `exit_code` is what the CLI exits with."""

    pack: str
    version: str
    stack: str
    config_path: Path
    resources: int
    diagnostics: list[Diagnostic]
    remediation: dict[str, str]
    evaluation_seconds: float

    @property
    def mandatory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "mandatory"]

    @property
    def exit_code(self) -> int:
        return 1 if self.mandatory else 0

    @property
    def policy_ids(self) -> set[str]:
        return {d.policy for d in self.diagnostics}


def default_stack(program: Path) -> str:
    """`dev` for this repository's project, `ci` for any other program."""
    from hastack_tools.dev.mockrun import read_project

    return "dev" if str(read_project(program).get("name")) == "hastack" else OUTSIDE_STACK


def choose_config(program: Path, stack: str, explicit: Path | None, pack_dir: Path) -> Path:
    """The policy config file for this run (see the module docstring for the order)."""
    from hastack_tools.dev.mockrun import engine_config

    if explicit is not None:
        return explicit
    config, _ = engine_config(program, stack)
    environment = config.get(ENVIRONMENT_KEY, "").strip()
    if environment:
        candidate = pack_dir / "config" / f"{environment}.json"
        if not candidate.exists():
            raise PolicyConfigError(
                f"Pulumi.{stack}.yaml: {ENVIRONMENT_KEY} is {environment!r} but {candidate} does not exist"
            )
        return candidate
    return pack_dir / "config" / f"{STRICT_ENVIRONMENT}.json"


def run_gate(
    program: Path,
    stack: str | None = None,
    *,
    policy_config: Path | None = None,
    pack_dir: Path = DEFAULT_PACK,
    preview: bool = False,
) -> GateResult:
    """Runs the program under mocks and the pack over what it registered."""
    from hastack_tools.dev.mockrun import engine_config, run_program

    program = program.resolve()
    stack = stack or default_stack(program)
    config_path = choose_config(program, stack, policy_config, pack_dir)
    run = run_program(program, stack, preview=preview)
    views = views_from_records(run.resources)
    config, secret_keys = engine_config(program, stack)
    with PolicyPackProcess(
        pack_dir, project=run.project, stack=stack, dry_run=preview, config=config, secret_keys=secret_keys
    ) as pack:
        info = pack.info()
        pack.configure_stack()
        pack.configure(resolve_config(info, load_config_file(config_path), str(config_path)))
        started = time.perf_counter()
        diagnostics = pack.analyze(views)
        elapsed = time.perf_counter() - started
    return GateResult(
        pack=info.name,
        version=info.version,
        stack=stack,
        config_path=config_path,
        resources=len(views),
        diagnostics=diagnostics,
        remediation={p.name: p.remediation for p in info.policies},
        evaluation_seconds=elapsed,
    )


def render(result: GateResult, *, show_remediation: bool = True) -> str:
    """CLI-like text: violations grouped per resource (mandatory first), then a summary line."""
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
    advisory = sum(1 for d in result.diagnostics if d.level == "advisory")
    verdict = "FAILED" if result.exit_code else "passed"
    lines.append(
        f"Policy gate {verdict}: {len(result.mandatory)} mandatory and {advisory} advisory violation(s) "
        f"from {result.pack} v{result.version} over {result.resources} resources of stack {result.stack} "
        f"(config {result.config_path.name}, evaluated in {result.evaluation_seconds:.2f}s)"
    )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m hastack_tools.dev.gate",
        description=(
            "Offline policy gate: the program under mocks, the hastack-ha pack over the analyzer protocol."
        ),
    )
    parser.add_argument(
        "--program", type=Path, default=Path("."), help="Pulumi Python program dir (default: .)"
    )
    parser.add_argument(
        "--stack", help="stack whose Pulumi.<stack>.yaml to use (default: dev here, ci elsewhere)"
    )
    parser.add_argument(
        "--policy-config",
        type=Path,
        help="policy config JSON (default: policy/config/<hastack:environment>.json, else prod.json)",
    )
    parser.add_argument(
        "--policy-pack", type=Path, default=DEFAULT_PACK, help="policy pack dir (default: policy/)"
    )
    parser.add_argument(
        "--preview", action="store_true", help="run as a preview (dry run; unknowns possible)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no remediation lines")
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
        stack = args.stack or default_stack(program)
        path = choose_config(program, stack, args.policy_config, args.policy_pack)
    except (PolicyConfigError, FileNotFoundError, ValueError) as error:
        print(f"policy gate: {error}", file=sys.stderr)
        return 2
    path = path.resolve()
    print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.print_config:
        return print_config(args)
    try:
        result = run_gate(
            args.program,
            args.stack,
            policy_config=args.policy_config,
            pack_dir=args.policy_pack,
            preview=args.preview,
        )
    except (AnalyzerError, PolicyConfigError, FileNotFoundError, ValueError) as error:
        print(f"policy gate: {error}", file=sys.stderr)
        return 2
    print(render(result, show_remediation=not args.quiet))
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
