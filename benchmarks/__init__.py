"""Speed, measured and never asserted (see README.md here).

A regular package, not a namespace one: pysbd 0.3.4's wheel also installs a top-level
`benchmarks` package, which would otherwise shadow this folder.
"""
