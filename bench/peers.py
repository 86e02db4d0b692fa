"""The benchmarked peers and matplotlib, imported as untyped modules.

They come with the ``bench`` extra only, so the type checker must not need them: every import goes through
:func:`peer` and is handled as ``Any`` (the official client's generated API is only partly typed anyway).
"""

from __future__ import annotations

import importlib
from typing import Any

_OFFICIAL_SUBMODULES = ("client", "config", "dynamic", "informer")


def peer(module: str) -> Any:
    """Import ``module`` (``"kr8s"``, ``"lightkube.resources.core_v1"``, ...) and return it."""
    return importlib.import_module(module)


def official(kubeconfig: str) -> Any:
    """Import ``kubernetes`` and its submodules, load ``kubeconfig`` as the default configuration, return it."""
    package = peer("kubernetes")
    for name in _OFFICIAL_SUBMODULES:
        peer(f"kubernetes.{name}")
    package.config.load_kube_config(config_file=kubeconfig)
    return package
