"""`hastack`, the installed command: `hastack render` (the manifests a program would send) and
`hastack gate` (the same as `hastack-gate`), for a Pulumi program anywhere, no checkout needed; and
`hastack fleet` (waves of stacks on many clusters), which drives this checkout's engine tooling."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from hastack_tools.dev import gate, render


def fleet(argv: list[str]) -> int:
    """The engine tooling (hastack_tools.ops) is not in the wheel: a checkout's editable install has it."""
    try:
        from hastack_tools.ops import fleet as fleet_module
    except ImportError as error:
        print(
            f"hastack fleet drives a checkout's engine tooling (hastack_tools.ops), not found here: {error}; "
            "install the checkout with `make venv`",
            file=sys.stderr,
        )
        return 2
    return fleet_module.main(argv, prog="hastack fleet")


COMMANDS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "render": (
        lambda argv: render.main(argv, prog="hastack render"),
        "write the manifests, secrets redacted",
    ),
    "gate": (
        gate.main,
        "the offline policy gate (hastack-gate): exit 0 clean, 1 violations, 2 not evaluated",
    ),
    "fleet": (fleet, "plan|up|status|drift|destroy: stacks on many clusters in gated waves (docs/fleet.md)"),
}


def usage() -> str:
    lines = ["usage: hastack <command> [options]   (hastack <command> -h for its options)", "commands:"]
    lines += [f"  {name:<8}{what}" for name, (_, what) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else 2
    command = COMMANDS.get(args[0])
    if command is None:
        print(f"hastack: unknown command {args[0]!r}\n{usage()}", file=sys.stderr)
        return 2
    return command[0](args[1:])


if __name__ == "__main__":
    sys.exit(main())
