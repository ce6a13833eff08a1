"""Everything from one manifest file through yaml.v2.ConfigFile: a remote component, whose objects
the kubernetes provider reads (relative to the program's folder) and registers as its children."""

import pulumi_kubernetes as k8s

k8s.yaml.v2.ConfigFile("shop", file="../../data/manifests/shop.yaml")
