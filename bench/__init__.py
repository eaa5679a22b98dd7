"""Kizuna benchmarks: run them all with `make bench` (python -m bench.run_all)."""
