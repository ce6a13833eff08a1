"""AppGroup: apps that share one isolated namespace and call each other, wired from their allowFrom.

A stack file's apps already get both sides of every call (the callee's ingress, the caller's egress)
from one `allowFrom`; standalone HighlyAvailableApps know their peers only through `calls`. The group
gives a program the stack file's way: one declaration per call, the namespace and default deny with it.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from hastack.app import HighlyAvailableApp
from hastack.args import AppGroupArgs, ArgumentError, ResolvedArgs, check_namespace, resolve
from hastack.config import app_calls
from hastack.namespace import IsolatedNamespace

_GROUP_KEYS = ("environment", "namespace", "apps")


def _names(apps: Sequence[Any]) -> list[str | None]:
    return [
        app.get("name") if isinstance(app, Mapping) and isinstance(app.get("name"), str) else None
        for app in apps
    ]


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _egress_apps(app: Mapping[str, Any]) -> list[str]:
    egress = app.get("egress")
    entries = egress if isinstance(egress, list) else []
    return [e["app"] for e in entries if isinstance(e, Mapping) and isinstance(e.get("app"), str)]


def wiring(apps: Sequence[Any]) -> list[tuple[list[str], list[dict[str, Any]]]]:
    """Per app, in order: who may call it (its allowFrom plus the apps naming it in their egress) and
    whom it calls (name and port), by the stack's rule (hastack.config.app_calls)."""
    names = _names(apps)
    wired: list[tuple[list[str], list[dict[str, Any]]]] = []
    for app, name in zip(apps, names, strict=True):
        if name is None:
            wired.append(([], []))
            continue
        callers = [
            other
            for other, peer in zip(names, apps, strict=True)
            if other is not None
            and app_calls(other, _egress_apps(peer), name, _strings(app.get("allowFrom")))
        ]
        callees = [
            {"name": other, "port": peer.get("port")}
            for other, peer in zip(names, apps, strict=True)
            if other is not None
            and app_calls(name, _egress_apps(app), other, _strings(peer.get("allowFrom")))
        ]
        wired.append((callers, callees))
    return wired


def _another_app(others: str) -> str:
    return f"must name another app of this group ({others})"


def _group_problems(apps: Sequence[Any]) -> list[str]:
    """What only the group can tell: names present and unique, peers named among its apps."""
    found: list[str] = []
    names = _names(apps)
    for index, (app, name) in enumerate(zip(apps, names, strict=True)):
        where = f"args.apps[{index}]"
        if not isinstance(app, Mapping):
            found.append(f"{where}: must be an object with name, image and port, got {app!r}")
            continue
        if name is None:
            found.append(
                f"{where}.name: required: the app's name (a DNS-1035 label), got {app.get('name')!r}"
            )
        elif names.index(name) != index:
            found.append(
                f"{where}.name: must be unique in the group (also apps[{names.index(name)}]), got {name!r}"
            )
        others = ", ".join(n for n in names if n is not None and n != name) or "none"
        for position, peer in enumerate(_strings(app.get("allowFrom"))):
            if peer == name or peer not in names:
                found.append(f"{where}.allowFrom[{position}]: {_another_app(others)}, got {peer!r}")
        for position, entry in enumerate(app.get("egress") or []):
            callee = entry.get("app") if isinstance(entry, Mapping) else None
            if isinstance(callee, str) and (callee == name or callee not in names):
                found.append(f"{where}.egress[{position}].app: {_another_app(others)}, got {callee!r}")
    return found


def _app_problems(index: int, error: ArgumentError) -> list[str]:
    """An app's problems under the group's paths: its environment and namespace are the group's, and
    its `calls` are the group's wiring (a bad callee port is reported where the callee sets it)."""
    found = []
    for problem in error.problems:
        if problem.startswith(("args.environment", "args.namespace")):
            found.append(problem)
        elif not problem.startswith("args.calls["):
            found.append(problem.replace("args", f"args.apps[{index}]", 1))
    return found


class AppGroup(pulumi.ComponentResource):
    """An IsolatedNamespace (PSA restricted, default deny) and one HighlyAvailableApp per app, each
    call declared once: an app that another admits in `allowFrom` (or that names it in `egress[].app`)
    gets the egress to it, and the callee the ingress from it, as a stack file's apps do.
    """

    namespace: pulumi.Output[str]
    """The namespace's name."""
    service_dns_names: pulumi.Output[dict[str, str]]
    """Per app, the cluster-internal DNS name of its Service."""
    urls: pulumi.Output[dict[str, list[str]]]
    """Per app, its public URLs (empty without an ingress)."""
    resource_names: pulumi.Output[dict[str, dict[str, str]]]
    """Per app, the names of its Kubernetes objects by role (deployment, service, ...)."""

    def __init__(self, name: str, args: AppGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        source = f"AppGroup({name})"
        given = dict(args)
        problems = [
            f"args.{key}: unknown argument; allowed: {', '.join(_GROUP_KEYS)}"
            for key in given
            if key not in _GROUP_KEYS
        ]
        apps = given.get("apps")
        if not isinstance(apps, list) or not apps:
            problems.append(
                f"args.apps: must be a non-empty list of apps (name, image, port, ...), got {apps!r}"
            )
            apps = []
        try:
            environment = check_namespace(
                source, {k: given[k] for k in ("environment", "namespace") if k in given}
            )
        except ArgumentError as error:
            problems.extend(error.problems)
            environment = None
        problems.extend(_group_problems(apps))
        resolved: list[ResolvedArgs] = []
        for index, (app, (callers, callees)) in enumerate(zip(apps, wiring(apps), strict=True)):
            if isinstance(app, Mapping) and isinstance(app.get("name"), str):
                own = {k: v for k, v in app.items() if k != "name"}
                app_args = {
                    **own,
                    "allowFrom": list(dict.fromkeys([*_strings(app.get("allowFrom")), *callers])),
                    "calls": callees,
                    **{k: given[k] for k in ("environment", "namespace") if k in given},
                }
                try:
                    resolved.append(resolve(app["name"], app_args))
                except ArgumentError as error:
                    problems.extend(_app_problems(index, error))
        if problems:
            raise ArgumentError(source, list(dict.fromkeys(problems)))
        assert environment is not None
        super().__init__("hastack:index:AppGroup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        isolated = IsolatedNamespace(name, environment, child)
        self.namespace = isolated.name
        self.apps: dict[str, HighlyAvailableApp] = {
            checked.app.name: HighlyAvailableApp(
                checked.app.name, dataclasses.replace(checked, namespace=isolated.name), child
            )
            for checked in resolved
        }
        self.service_dns_names = pulumi.Output.all(
            **{app_name: app.service_dns_name for app_name, app in self.apps.items()}
        )
        self.urls = pulumi.Output.all(**{app_name: app.urls for app_name, app in self.apps.items()})
        self.resource_names = pulumi.Output.all(
            **{app_name: app.resource_names for app_name, app in self.apps.items()}
        )
        self.register_outputs(
            {
                "namespace": self.namespace,
                "serviceDnsNames": self.service_dns_names,
                "urls": self.urls,
                "resourceNames": self.resource_names,
            }
        )
