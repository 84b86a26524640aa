"""Benchmarks: each prints its time as a ratio to a bare baseline measured in the same run."""
