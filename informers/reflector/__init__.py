"""The reflector: list then watch, keeping a store in step; its state machine, transitions, status, errors, backoff.

Import the public names from the package root (``from informers import Reflector, ListWatch``).
"""
