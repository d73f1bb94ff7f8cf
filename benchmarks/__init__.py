"""Measurements of the kit (run as modules: python -m benchmarks.<name>); not tests."""
