"""Framework integrations against each framework's own JSON path (see bench_frameworks.py)."""
