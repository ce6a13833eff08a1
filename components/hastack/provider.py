"""hastack as a Pulumi component package: serves HighlyAvailableApp to programs in any language.

The schema is inferred from the components' argument TypedDicts (hastack.args) and typed outputs. The plugin
folder `provider/` (PulumiPlugin.yaml) runs this; `pulumi package add <repo>/provider` uses it.
"""

from importlib.metadata import version

import pulumi
from pulumi.provider.experimental import component_provider_host

from hastack import app, group, namespace
from hastack.args import AppGroupArgs, HighlyAvailableAppArgs, IsolatedNamespaceArgs
from hastack.wire import whole_numbers

PACKAGE = "hastack"


class HighlyAvailableApp(app.HighlyAvailableApp):
    """HighlyAvailableApp as other languages construct it (same type token, same resources)."""

    def __init__(
        self, name: str, args: HighlyAvailableAppArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, whole_numbers(args), opts)


class AppGroup(group.AppGroup):
    """AppGroup as other languages construct it: apps in one isolated namespace, each call declared once."""

    def __init__(self, name: str, args: AppGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, whole_numbers(args), opts)


class IsolatedNamespace(namespace.IsolatedNamespace):
    """IsolatedNamespace as other languages construct it, from its plain arguments."""

    def __init__(
        self, name: str, args: IsolatedNamespaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)


COMPONENTS: list[type[pulumi.ComponentResource]] = [HighlyAvailableApp, AppGroup, IsolatedNamespace]


def main() -> None:
    """Serves the provider protocol to the engine (which passes its address in argv)."""
    component_provider_host(components=COMPONENTS, name=PACKAGE, version=version(PACKAGE))


if __name__ == "__main__":
    main()
