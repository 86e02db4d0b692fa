"""The ``dynaclient`` command line (``python -m dynaclient.cli``): kubectl's habits over the dynamic client."""

from dynaclient.cli.app import build_parser, main, run

__all__ = ["build_parser", "main", "run"]
