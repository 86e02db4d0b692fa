"""Test kit: a real local control plane (kube-apiserver + etcd, no Docker), a pytest plugin, and a fake client.

``FakeDynamicClient`` is a :class:`~dynaclient.DynamicClient` over an in-memory API server
(:mod:`dynaclient.testing.fake`) for unit tests that need no cluster.
``from dynaclient.testing import ControlPlane`` needs the ``testing`` extra (``cryptography``). The names are
imported lazily so that the pytest plugin, which every installation registers, costs nothing until used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dynaclient.testing.binaries import ControlPlaneBinaries, resolve_binaries
    from dynaclient.testing.controlplane import CERT_CONTEXT, TOKEN_CONTEXT, ControlPlane, ControlPlaneError
    from dynaclient.testing.fake import FakeAPIServer, FakeDynamicClient

_LAZY = {
    "CERT_CONTEXT": "dynaclient.testing.controlplane",
    "TOKEN_CONTEXT": "dynaclient.testing.controlplane",
    "ControlPlane": "dynaclient.testing.controlplane",
    "ControlPlaneError": "dynaclient.testing.controlplane",
    "ControlPlaneBinaries": "dynaclient.testing.binaries",
    "resolve_binaries": "dynaclient.testing.binaries",
    "FakeAPIServer": "dynaclient.testing.fake",
    "FakeDynamicClient": "dynaclient.testing.fake",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dynaclient.testing' has no attribute {name!r}")


__all__ = [
    "CERT_CONTEXT",
    "TOKEN_CONTEXT",
    "ControlPlane",
    "ControlPlaneBinaries",
    "ControlPlaneError",
    "FakeAPIServer",
    "FakeDynamicClient",
    "resolve_binaries",
]
