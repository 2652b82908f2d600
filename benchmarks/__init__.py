"""Benchmarks: scripts that print figures and ratios measured in one run (see README.md).

A regular package, so that `benchmarks` is this folder even where a dependency (pysbd)
installs a top-level package of the same name.
"""
