"""What the local control plane writes and runs for etcd and kube-apiserver: certificates, flags, kubeconfig.

Flags follow controller-runtime's ``pkg/internal/testing/controlplane/{apiserver,etcd}.go`` plus
``--advertise-address=127.0.0.1`` (without it the apiserver needs a default route) and a static token file.
:class:`~dynaclient.testing.ControlPlane` starts the processes with them (:mod:`dynaclient.testing.controlplane`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from dynaclient.testing.binaries import ControlPlaneBinaries
from dynaclient.testing.certs import KeyPair, TinyCA, service_account_key_pair
from dynaclient.testing.kubeconfigs import certificate_user, kubeconfig, write_private

CERT_CONTEXT = "dynaclient"
"""Kubeconfig context of the admin user authenticated by client certificate (the current context)."""
TOKEN_CONTEXT = "dynaclient-token"
"""Kubeconfig context of the admin user authenticated by a static bearer token."""
ADMIN_USER = "admin"
TOKEN_USER = "token-admin"
ADMIN_GROUPS = ("system:masters",)


def write_pki(pki: Path, token: str) -> tuple[TinyCA, TinyCA]:
    """Write the plane's certificates, keys and token file into ``pki``; return the serving and the client CA.

    The serving certificate is for ``localhost``, ``127.0.0.1`` and ``::1``; the admin certificate is for
    :data:`ADMIN_USER` in :data:`ADMIN_GROUPS`; ``token`` authenticates :data:`TOKEN_USER` in the same groups.
    """
    serving_ca, client_ca = TinyCA("dynaclient-serving-ca"), TinyCA("dynaclient-client-ca")
    serving = serving_ca.issue("localhost", dns_names=["localhost"], ip_addresses=["127.0.0.1", "::1"], server=True)
    admin = client_ca.issue(ADMIN_USER, organizations=ADMIN_GROUPS)
    signer = service_account_key_pair()
    files = {
        "serving-ca.crt": serving_ca.cert_pem,
        "client-ca.crt": client_ca.cert_pem,
        "apiserver.crt": serving.cert_pem,
        "apiserver.key": serving.key_pem,
        "admin.crt": admin.cert_pem,
        "admin.key": admin.key_pem,
        "sa.pub": signer.cert_pem,
        "sa.key": signer.key_pem,
        # kube-apiserver --token-auth-file: token,user,uid,"group1,group2"
        "tokens.csv": f'{token},{TOKEN_USER},{TOKEN_USER}-uid,"{",".join(ADMIN_GROUPS)}"\n'.encode(),
    }
    for name, data in files.items():
        write_private(pki / name, data)
    return serving_ca, client_ca


def etcd_args(binaries: ControlPlaneBinaries, etcd_url: str, data_dir: Path, peer_port: int) -> list[str]:
    """Return etcd's command line: one member serving ``etcd_url``, data in ``data_dir``, no fsync."""
    return [
        str(binaries.etcd),
        f"--data-dir={data_dir}",
        f"--listen-client-urls={etcd_url}",
        f"--advertise-client-urls={etcd_url}",
        f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
        f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
        f"--initial-cluster=default=http://127.0.0.1:{peer_port}",
        "--unsafe-no-fsync=true",
        "--logger=zap",
        "--log-level=warn",
    ]


def apiserver_args(
    binaries: ControlPlaneBinaries,
    *,
    etcd_url: str,
    server_url: str,
    port: int,
    pki: Path,
    watch_cache: bool,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """Return kube-apiserver's command line: ``server_url`` on ``port``, the files of :func:`write_pki`, RBAC."""
    return [
        str(binaries.kube_apiserver),
        f"--etcd-servers={etcd_url}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={port}",
        f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--client-ca-file={pki / 'client-ca.crt'}",
        f"--token-auth-file={pki / 'tokens.csv'}",
        f"--service-account-issuer={server_url}/",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        "--service-cluster-ip-range=10.0.0.0/24",
        "--allow-privileged=true",
        # No controller-manager creates the default service account (envtest does the same).
        "--disable-admission-plugins=ServiceAccount",
        "--authorization-mode=RBAC",
        f"--watch-cache={'true' if watch_cache else 'false'}",
        "--profiling=false",
        *extra_args,
    ]


def build_kubeconfig(server_url: str, ca_pem: bytes, admin: KeyPair, token: str) -> dict[str, Any]:
    """Return the kubeconfig of a control plane: one cluster, a certificate user and a token user.

    >>> config = build_kubeconfig("https://127.0.0.1:6443", b"CA", KeyPair(b"C", b"K"), "t")
    >>> config["current-context"], [c["name"] for c in config["contexts"]]
    ('dynaclient', ['dynaclient', 'dynaclient-token'])
    """
    users = {CERT_CONTEXT: (ADMIN_USER, certificate_user(admin)), TOKEN_CONTEXT: (TOKEN_USER, {"token": token})}
    return kubeconfig(server_url, ca_pem, users, namespace="default")


def write_kubeconfig(path: Path, server_url: str, pki: Path, token: str) -> None:
    """Write :func:`build_kubeconfig` for the files of :func:`write_pki` in ``pki`` to ``path`` (owner-only)."""
    admin = KeyPair((pki / "admin.crt").read_bytes(), (pki / "admin.key").read_bytes())
    config = build_kubeconfig(server_url, (pki / "serving-ca.crt").read_bytes(), admin, token)
    write_private(path, yaml.safe_dump(config, sort_keys=False).encode())


__all__ = [
    "ADMIN_GROUPS",
    "ADMIN_USER",
    "CERT_CONTEXT",
    "TOKEN_CONTEXT",
    "TOKEN_USER",
    "apiserver_args",
    "build_kubeconfig",
    "etcd_args",
    "write_kubeconfig",
    "write_pki",
]
