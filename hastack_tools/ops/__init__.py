"""Operator commands: drive the real Pulumi engine, back up and restore state, check the machine."""
