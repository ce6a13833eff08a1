"""A program the offline tools (gate, render) run under mocks, and a failing one told as the program's
own error, so a crash never reads as a policy verdict (which stack it runs: hastack_tools.common.project).
"""

from __future__ import annotations

import traceback
from pathlib import Path

from pulumi.config import ConfigMissingError

from hastack.config import ConfigError
from hastack_tools.common.project import StackChoice, stacks_text
from hastack_tools.common.stack_secrets import StackSecretError
from hastack_tools.dev.kube_version import KubeVersion
from hastack_tools.dev.mockrun import MockRun, run_program
from hastack_tools.dev.offline_answers import failure_frames


class ProgramFailedError(Exception):
    """The program raised under mocks: its own exception message, where it was raised, and a hint."""

    def __init__(self, program: Path, stack: StackChoice, error: BaseException) -> None:
        self.error = error
        self.where = raised_at(error, program)
        if isinstance(error, ConfigError):
            # hastack's own report names file and key path, one problem a line: where it was raised
            # says nothing more (-v prints the traceback)
            super().__init__(str(error))
            return
        message = " ".join(str(error).split()) or "(no message)"
        text = f"{type(error).__name__}: {message}"
        if self.where:
            text += f" (raised {self.where})"
        for extra in getattr(error, "__notes__", ()):
            text += f"; {extra}"
        if isinstance(error, ConfigMissingError) and stack.file is None:
            text += (
                f"; stack {stack.name} has no Pulumi.{stack.name}.yaml; "
                f"stacks of this program: {stacks_text(program)}: name one with STACK=<stack>"
            )
        super().__init__(text)

    def traceback_text(self) -> str:
        """The full traceback, for `-v` only: the default message is the program's own error."""
        return "".join(traceback.format_exception(self.error))


def _chain(error: BaseException) -> list[BaseException]:
    """The error and what caused it, outermost first (the SDK wraps errors raised inside apply)."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return chain


def raised_at(error: BaseException, program: Path) -> str:
    """`at <file>:<line>` of the innermost frame in the program (through wrapped causes), plus the
    innermost frame overall when that lies outside it (a library the program called)."""
    root = str(program.resolve())
    for link in reversed(_chain(error)):
        frames = failure_frames(link) or traceback.extract_tb(link.__traceback__)
        own = [f for f in frames if f.filename.startswith(root + "/") and "site-packages" not in f.filename]
        if own:
            break
    else:
        frames = failure_frames(error) or traceback.extract_tb(error.__traceback__)
    parts = []
    if own:
        parts.append(f"at {Path(own[-1].filename).relative_to(root)}:{own[-1].lineno}")
    if frames and (not own or frames[-1] is not own[-1]):
        shown = frames[-1].filename.split("site-packages/", 1)[-1]
        parts.append(f"in {shown}:{frames[-1].lineno}")
    return ", ".join(parts)


def run_checked(
    program: Path, stack: StackChoice, *, preview: bool = False, kube_version: KubeVersion | None = None
) -> MockRun:
    """run_program, with any exception the program raises turned into ProgramFailedError (a stack
    secret that does not decrypt is the stack file's problem, not the program's: raised as it is)."""
    try:
        return run_program(program, stack.name, preview=preview, kube_version=kube_version)
    except StackSecretError:
        raise
    except (Exception, SystemExit) as error:
        raise ProgramFailedError(program, stack, error) from error


__all__ = ["ProgramFailedError", "raised_at", "run_checked"]
