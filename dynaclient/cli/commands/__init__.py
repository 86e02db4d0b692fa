"""The commands of ``dynaclient``: each entry of :data:`COMMANDS` adds one subcommand and returns its parser.

Pod streams (``logs``, ``exec``, ``port-forward``) will be one module each here, added to :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from dynaclient.cli.commands import api_resources, get, manifests, wait

COMMANDS: list[Callable[[Any], argparse.ArgumentParser]] = [
    api_resources.register,
    get.register_get,
    get.register_watch,
    manifests.register_apply,
    manifests.register_delete,
    wait.register,
]
"""Registration functions, in the order ``dynaclient --help`` lists the commands."""

__all__ = ["COMMANDS"]
