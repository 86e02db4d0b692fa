"""Fixtures of the informer tests: the ``harness`` informer, from informer_harness.py."""

from tests.unit.informers.informer_harness import harness

__all__ = ["harness"]
