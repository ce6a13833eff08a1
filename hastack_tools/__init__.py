"""hastack's own tooling, in layers: `common/` (a program's project and stack files, their secrets,
the policy config a stack is judged by, the built toolchain) under `dev/` (mock runner, render,
offline gate and its pack client, generated docs; shipped in the wheel with `cli.py`) and `ops/`
(the real engine, state backup, `make doctor`), which never import each other. `standins/`: local
provider plugins for random and tls. tests/tools/test_layers.py holds the layers to that.
"""
