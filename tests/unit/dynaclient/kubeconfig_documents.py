"""Kubeconfig documents for the config tests: built from dicts, written as YAML, with a real CA and client pair."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from dynaclient.testing.certs import TinyCA

AUTHORITY = TinyCA("kubeconfig-test-ca")
ALICE = AUTHORITY.issue("alice")
CA, CERT, KEY = AUTHORITY.cert_pem, ALICE.cert_pem, ALICE.key_pem  # loaded at resolve time: must be real


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubeconfig(
    *,
    clusters: dict[str, dict[str, Any]] | None = None,
    users: dict[str, dict[str, Any]] | None = None,
    contexts: dict[str, dict[str, Any]] | None = None,
    current: str | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": c} for n, c in (clusters or {}).items()],
        "users": [{"name": n, "user": u} for n, u in (users or {}).items()],
        "contexts": [{"name": n, "context": c} for n, c in (contexts or {}).items()],
    }
    if current is not None:
        document["current-context"] = current
    return document


def write(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document))
    return path


def simple(server: str = "https://dev.example:6443", namespace: str | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {"cluster": "dev", "user": "alice"}
    if namespace:
        context["namespace"] = namespace
    return kubeconfig(
        clusters={"dev": {"server": server, "certificate-authority-data": b64(CA)}},
        users={"alice": {"token": "alice-token"}},
        contexts={"dev": context},
        current="dev",
    )


__all__ = ["ALICE", "AUTHORITY", "CA", "CERT", "KEY", "b64", "kubeconfig", "simple", "write"]
