"""hastack's own tooling (not part of the installable `hastack` package).

`dev/`: mock runner, render, offline gate, analyzer, policy docs. `ops/`: the real engine,
state backup, `make doctor`. `standins/`: local provider plugins for random and tls.
"""
