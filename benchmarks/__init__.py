"""Benchmarks run by `make bench`: hastack against named peers, in the same script."""
