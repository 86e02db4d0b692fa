"""``python -m dynaclient.cli``."""

from dynaclient.cli.app import run

run()
