"""The hastack-ha per-environment configs, installed as package data `hastack_policy.config` so that
`python -m hastack_policy.pack` can copy them into a pack folder for another repository."""
