"""Benchmarks of Atelier's task core: ``python -m bench.run_all`` (see docs/benchmarks.md)."""
