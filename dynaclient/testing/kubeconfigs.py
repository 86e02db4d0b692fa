"""Kubeconfig files of the local control plane: the administrators' and each component's.

Every file has one cluster (``dynaclient``) and one context per user; the first context is the current one.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dynaclient.testing.certs import KeyPair

CLUSTER_NAME = "dynaclient"


def base64_text(data: str | bytes) -> str:
    """Return ``data`` base64-encoded as text (kubeconfig ``*-data`` fields, etcd's JSON gateway).

    >>> base64_text("CA")
    'Q0E='
    """
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def certificate_user(key_pair: KeyPair) -> dict[str, str]:
    """Return a kubeconfig user entry that authenticates with the client certificate ``key_pair``."""
    return {"client-certificate-data": base64_text(key_pair.cert_pem), "client-key-data": base64_text(key_pair.key_pem)}


def kubeconfig(
    server_url: str, ca_pem: bytes, contexts: Mapping[str, tuple[str, dict[str, str]]], *, namespace: str | None = None
) -> dict[str, Any]:
    """Return a kubeconfig: context name -> (user name, user entry); the first context is current.

    >>> config = kubeconfig("https://127.0.0.1:6443", b"CA", {"c": ("u", {"token": "t"})}, namespace="default")
    >>> config["current-context"], config["contexts"][0]["context"]
    ('c', {'cluster': 'dynaclient', 'user': 'u', 'namespace': 'default'})
    """
    cluster = {"server": server_url, "certificate-authority-data": base64_text(ca_pem)}
    scope = {"namespace": namespace} if namespace else {}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CLUSTER_NAME, "cluster": cluster}],
        "users": [{"name": user, "user": entry} for user, entry in contexts.values()],
        "contexts": [
            {"name": name, "context": {"cluster": CLUSTER_NAME, "user": user, **scope}}
            for name, (user, _) in contexts.items()
        ],
        "current-context": next(iter(contexts)),
    }


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, readable by this user only (keys, kubeconfigs)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


__all__ = ["CLUSTER_NAME", "base64_text", "certificate_user", "kubeconfig", "write_private"]
