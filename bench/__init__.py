"""Benchmarks: ``bench.generate`` fills PostgreSQL quickly; one script per measured capability.

See docs/benchmarks.md for the commands and the measured figures.
"""
