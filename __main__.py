"""hastack: read and validate the stack config, build one HighlyAvailableApp per app, export outputs."""

import pulumi

from hastack import HighlyAvailableApp, IsolatedNamespace
from hastack.config import load
from hastack.pulumi_internals.gc_tuning import tune_gc
from hastack.pulumi_internals.sdk_patches import install as patch_sdk

tune_gc()  # fewer full GC passes over the Output graph (HASTACK_GC_TUNING=0: off)
patch_sdk()  # cheaper stack traces and end-of-program wait, pinned SDK only (HASTACK_SDK_PATCHES=0: off)
stack = load()
namespace = IsolatedNamespace(stack.namespace, stack)
apps = [HighlyAvailableApp.from_config(app, stack, namespace.name) for app in stack.apps]

pulumi.export("environment", stack.environment)
pulumi.export("namespace", namespace.name)
pulumi.export(
    "apps",
    {
        app.name: {
            "serviceDnsName": component.service_dns_name,
            "servicePort": component.service_port,
            "port": app.port,  # the pod port another stack's caller opens its egress to (hastack.references)
            "urls": component.urls,
            "resourceNames": component.resource_names,
        }
        for app, component in zip(stack.apps, apps, strict=True)
    },
)
