"""Apps of other stacks of this project, read through Pulumi stack references.

A caller reads its callee's stack (`egress[]` with `stack`): the namespace, Service DNS name and
ports that stack exports. A callee admits a caller by the labels every hastack namespace carries
(`stack_labels`, `allowFromStacks`), without reading the caller's stack, so no two stacks read each
other (a cycle no wave order could deploy).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from hastack.config import AppConfig, ConfigError
from hastack.config.types import is_label_value

PROJECT_LABEL = "hastack.dev/project"
STACK_LABEL = "hastack.dev/stack"

EXPORTED = ("serviceDnsName", "servicePort", "port")
"""What a caller needs of each app a stack exports (`__main__.py`'s `apps` output), besides the
stack's `namespace`."""


def stack_labels(project: str, stack: str) -> dict[str, str]:
    """The labels that name a stack's namespaces, each where its value may be a label value (a stack
    whose name may not is one `allowFromStacks` cannot name either)."""
    pairs = ((PROJECT_LABEL, project), (STACK_LABEL, stack))
    return {key: value for key, value in pairs if value and is_label_value(value)}


def reference_name(stack: str) -> str:
    """The fully qualified name every backend resolves: `organization/<project>/<stack>` on a file
    backend (its only organization), `<org>/<project>/<stack>` on Pulumi Cloud."""
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{stack}"


@dataclass(frozen=True)
class RemoteCallee:
    """An app of another stack as that stack exports it; each value resolves once the reference is
    read, or fails the program naming the caller's key path."""

    stack: str
    app: str
    variable: str
    """The caller's environment variable for the callee's URL (EgressConfig.url_variable)."""
    namespace: pulumi.Output[str]
    port: pulumi.Output[int]
    """The callee's container port: NetworkPolicies see pod ports, after the Service's translation."""
    url: pulumi.Output[str]


def exported_app(
    outputs: Mapping[str, Any] | None, stack: str, app: str, source: str, where: str
) -> dict[str, Any]:
    """The callee's namespace and exported keys from its stack's outputs; a ConfigError naming the
    caller's key path, the value and what the stack exports when it is not there."""
    apps = (outputs or {}).get("apps")
    exported = apps.get(app) if isinstance(apps, Mapping) else None
    namespace = (outputs or {}).get("namespace")
    if not isinstance(exported, Mapping) or not isinstance(namespace, str):
        there = ", ".join(sorted(apps)) if isinstance(apps, Mapping) and apps else "none"
        raise ConfigError(
            source,
            [
                f"{where}.app: stack {stack!r} exports no app {app!r} (apps it exports: {there}); name one "
                f"of them, or deploy {stack!r} with it first, got {app!r}"
            ],
        )
    missing = [key for key in EXPORTED if key not in exported]
    if missing:
        raise ConfigError(
            source,
            [
                f"{where}.app: stack {stack!r} exports app {app!r} without {', '.join(missing)} (deployed "
                f"by an older hastack); run up on {stack!r} first, got {app!r}"
            ],
        )
    return {"namespace": namespace, **{key: exported[key] for key in EXPORTED}}


READ_OUTPUTS = "pulumi:pulumi:readStackOutputs"
"""The engine's built-in function that reads a stack's outputs: what the reference resource reads,
but answered synchronously, so a bad reference stops the program before the app registers anything."""


def read_exports(app: AppConfig, source: str, where: str) -> dict[int, dict[str, Any]]:
    """What each other stack's app `app` calls exports, by its egress position; a ConfigError naming
    every bad entry (a stack the backend does not hold, an app it does not export)."""
    found: dict[int, dict[str, Any]] = {}
    problems: list[str] = []
    for position, egress in enumerate(app.egress):
        if egress.url_variable() is None or egress.stack is None or egress.app is None:
            continue
        at = f"{where}.egress[{position}]"
        try:
            read = pulumi.runtime.invoke(READ_OUTPUTS, {"name": reference_name(egress.stack)})
            outputs = (read.value or {}).get("outputs")
        except Exception as error:  # the engine's (or a mock's) reason goes in the message
            reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
            problems.append(
                f"{at}.stack: stack {egress.stack!r} could not be read ({reason}); name a deployed stack "
                f"of this project and backend (a fleet deploys it in an earlier wave), got {egress.stack!r}"
            )
            continue
        try:
            found[position] = exported_app(outputs, egress.stack, egress.app, source, at)
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(source, problems)
    return found


def remote_callees(
    app: AppConfig, exports: Mapping[int, Mapping[str, Any]], source: str, where: str, parent: pulumi.Resource
) -> list[RemoteCallee]:
    """The apps of other stacks that `app` calls (`exports`: read_exports, checked already), their
    values read through one stack reference per stack (a child of the app), which records in the
    state which stacks this one reads."""
    references: dict[str, pulumi.StackReference] = {}
    found: list[RemoteCallee] = []
    for position, egress in enumerate(app.egress):
        variable = egress.url_variable()
        if variable is None or egress.stack is None or egress.app is None or position not in exports:
            continue
        if egress.stack not in references:
            references[egress.stack] = pulumi.StackReference(
                f"{app.name}.{egress.stack}",  # an app name has no dot: unique per app and stack
                stack_name=reference_name(egress.stack),
                opts=pulumi.ResourceOptions(parent=parent),
            )
        stack, name, at = egress.stack, egress.app, f"{where}.egress[{position}]"
        read: pulumi.Output[dict[str, Any]] = references[stack].outputs.apply(
            functools.partial(exported_app, stack=stack, app=name, source=source, where=at)
        )
        found.append(
            RemoteCallee(
                stack=stack,
                app=name,
                variable=variable,
                namespace=read.apply(lambda e: str(e["namespace"])),
                port=read.apply(lambda e: int(e["port"])),
                url=read.apply(lambda e: f"http://{e['serviceDnsName']}:{int(e['servicePort'])}"),
            )
        )
    return found
