"""The hastack-ha policy pack. Constructing PolicyPack starts the analyzer server and blocks, so
nothing imports this module: tests and tools import the rules package `hastack_policy` instead.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from hastack_policy import PACK_NAME, build_policies
from hastack_policy.fastpack import install

install()  # decode each resource once per request (HASTACK_POLICY_DECODE_ONCE=0: pulumi-policy's own path)
PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=build_policies(),
    description="High availability and safety rules for Kubernetes workloads deployed with Pulumi.",
)
