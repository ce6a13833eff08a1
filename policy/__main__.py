"""The hastack-ha policy pack. Constructing PolicyPack starts the analyzer server and blocks, so
nothing imports this module: tests and tools import the rules package `hastack_policy` instead.
A pack folder for another repository serves the same way (`python -m hastack_policy.pack <dir>`).
"""

from hastack_policy.pack import serve

serve()
