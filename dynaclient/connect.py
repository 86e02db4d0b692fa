"""Build an :class:`~dynaclient.client.APIClient` from a configuration, and find one that works.

:func:`detect_api_client` tries, in order, the pod's service account, the kubeconfig, a running
``kubectl proxy`` and ``kubectl --raw``, as the Deno ``kubernetes_client`` module's ``autoDetectClient`` does.
Each candidate must answer a live ``GET /api``; when none does, one error lists why each failed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import TypedDict

from dynaclient.auth.base import NoAuth
from dynaclient.client import APIClient
from dynaclient.config import SERVICE_ACCOUNT_ROOT, ClientConfig, load_incluster_config, load_kubeconfig
from dynaclient.exceptions import DynaclientError, NoClientError
from dynaclient.rate_limit import TokenBucketRateLimiter
from dynaclient.transport.compression import accept_encoding
from dynaclient.transport.http import HTTPTransport
from dynaclient.transport.kubectl import KubectlRawTransport

logger = logging.getLogger("dynaclient")

KUBECTL_PROXY_URL = "http://127.0.0.1:8001"
"""Where ``kubectl proxy`` listens by default."""

PROBE_TIMEOUT = 5.0
"""Seconds each auto-detection candidate has to answer ``GET /api``."""


def client_from_config(
    config: ClientConfig, *, name: str = "kubeconfig", rate_limiter: TokenBucketRateLimiter | None = None
) -> APIClient:
    """Return a client for ``config`` over the HTTP transport.

    ``rate_limiter`` limits the requests per second, as client-go's ``QPS`` and ``Burst`` do
    (``TokenBucketRateLimiter(qps=5, burst=10)`` are client-go's defaults); ``None`` sends without limit.

    The client certificate comes from the configuration or, when an exec plugin supplies one, from the auth
    provider at each connection (so a rotated certificate is used as soon as it is issued).

    Raises:
        ConfigError: the CA or client certificate data cannot be loaded, or the proxy scheme is unsupported.
    """
    transport = HTTPTransport(config.server, **transport_options(config), name=name)
    return APIClient(transport, auth=config.auth, namespace=config.namespace, rate_limiter=rate_limiter)


class TransportOptions(TypedDict):
    """The keyword arguments of the HTTP transports (sync and asyncio) that come from a configuration."""

    ca_data: bytes | None
    insecure_skip_tls_verify: bool
    tls_server_name: str | None
    client_certificate: Callable[[], tuple[bytes, bytes] | None]
    proxy_url: str | None
    disable_compression: bool


def transport_options(config: ClientConfig) -> TransportOptions:
    """Return the TLS, proxy and compression settings of ``config`` as HTTP transport keyword arguments.

    The client certificate comes from the configuration or, when an exec plugin supplies one, from the auth provider.
    """
    static = (
        (config.client_certificate_data, config.client_key_data)
        if config.client_certificate_data is not None and config.client_key_data is not None
        else None
    )
    auth = config.auth

    def certificate() -> tuple[bytes, bytes] | None:
        return static or auth.client_certificate()

    return {
        "ca_data": config.ca_data,
        "insecure_skip_tls_verify": config.insecure_skip_tls_verify,
        "tls_server_name": config.tls_server_name,
        "client_certificate": certificate,
        "proxy_url": config.proxy_url,
        "disable_compression": accept_encoding(config.compression, disabled=config.disable_compression) == "identity",
    }


def kubectl_proxy_client(url: str = KUBECTL_PROXY_URL) -> APIClient:
    """Return a client for a running ``kubectl proxy`` (it adds the credentials itself)."""
    return APIClient(HTTPTransport(url, name="kubectl-proxy"), auth=NoAuth())


def kubectl_raw_client(
    kubeconfig: str | os.PathLike[str] | None = None,
    context: str | None = None,
    *,
    kubectl: str | None = None,
    env: Mapping[str, str] | None = None,
) -> APIClient:
    """Return a client that runs ``kubectl get/create/replace/delete --raw`` for every request.

    ``env`` is kubectl's environment (``None``: this process's), so kubectl reads ``KUBECONFIG`` (every file of
    it) and ``HOME`` from it as it would from a shell.
    """
    transport = KubectlRawTransport(
        kubectl=kubectl, kubeconfig=os.fspath(kubeconfig) if kubeconfig else None, context=context, env=env
    )
    return APIClient(transport)


Candidate = tuple[str, Callable[[], APIClient]]


def default_candidates(
    env: Mapping[str, str] | None = None,
    *,
    serviceaccount_root: str | os.PathLike[str] = SERVICE_ACCOUNT_ROOT,
    proxy_url: str = KUBECTL_PROXY_URL,
    kubectl: str | None = None,
) -> list[Candidate]:
    """Return the auto-detection candidates in the order they are tried: in-cluster, kubeconfig, proxy, kubectl.

    Args:
        env: the environment to read (``KUBERNETES_SERVICE_*``, ``KUBECONFIG``, ``HOME``, ``KUBECTL``); kubectl runs
            with exactly this environment. ``None`` reads this process's.
        serviceaccount_root: the service-account directory of a pod.
        proxy_url: where to look for a running ``kubectl proxy``.
        kubectl: the kubectl executable (default ``KUBECTL``, else ``kubectl`` on PATH).
    """
    environ = os.environ if env is None else env
    return [
        (
            "in-cluster",
            lambda: client_from_config(load_incluster_config(environ, serviceaccount_root), name="in-cluster"),
        ),
        ("kubeconfig", lambda: client_from_config(load_kubeconfig(env=environ), name="kubeconfig")),
        ("kubectl-proxy", lambda: kubectl_proxy_client(proxy_url)),
        ("kubectl-raw", lambda: kubectl_raw_client(kubectl=kubectl, env=env)),
    ]


def detect_api_client(candidates: list[Candidate] | None = None) -> APIClient:
    """Return the first candidate client that answers ``GET /api``.

    Raises:
        NoClientError: no candidate works; ``reasons`` maps each candidate to why it failed.
    """
    reasons: dict[str, str] = {}
    for name, build in candidates if candidates is not None else default_candidates():
        client: APIClient | None = None
        try:
            client = build()
            client.request("GET", "/api", timeout=PROBE_TIMEOUT)
        except DynaclientError as exc:
            reasons[name] = f"{type(exc).__name__}: {exc}"
            logger.debug("auto-detect: %s unusable: %s", name, reasons[name])
            if client is not None:
                client.close()
            continue
        logger.debug("auto-detect: using %s", name)
        return client
    raise NoClientError(reasons)


__all__ = [
    "KUBECTL_PROXY_URL",
    "TransportOptions",
    "client_from_config",
    "default_candidates",
    "detect_api_client",
    "kubectl_proxy_client",
    "kubectl_raw_client",
    "transport_options",
]
