"""Entry point for `python -m kit`."""

from .cli import run

run()
