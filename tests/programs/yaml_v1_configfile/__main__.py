"""Everything from one manifest file through yaml.ConfigFile (v1): the SDK reads the file and asks
the provider to decode it (`kubernetes:yaml:decode`), then registers each object as a child."""

import pulumi_kubernetes as k8s

k8s.yaml.ConfigFile("shop", file="../../data/manifests/shop.yaml")
