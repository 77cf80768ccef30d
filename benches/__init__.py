"""Benchmarks of negotiate against its peers: one module per question (see run.py)."""
