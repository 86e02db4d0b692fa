"""Fixtures of the discovery tests: the scripted API server and the clocks, from scripted_server.py."""

from tests.unit.dynaclient.discovery.scripted_server import clock, on_disk, transport, wall_clock

__all__ = ["clock", "on_disk", "transport", "wall_clock"]
