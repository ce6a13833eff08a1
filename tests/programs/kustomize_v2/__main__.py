"""kustomize's hello-world through kustomize.v2.Directory: the provider runs the kustomization and
registers its objects as the component's children. The installed SDK mis-declares the component's
`resources` output (pulumi-kubernetes#3389), which made every such program fail before the gate saw
it; the objects are judged, and the note says what was left out."""

import pulumi_kubernetes as k8s

k8s.kustomize.v2.Directory("hello", directory="./hello")
