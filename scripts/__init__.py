"""Instructor and developer helpers (the Python ones run as python -m scripts.<name>)."""
