"""Registers one ConfigMap after sleeping `slow-app:sleepSeconds`, so a test can race a second update."""

import time

import pulumi
import pulumi_kubernetes as k8s

time.sleep(pulumi.Config().get_int("sleepSeconds") or 0)
k8s.core.v1.ConfigMap("settings", metadata={"namespace": "slow"}, data={"mode": "test"})
