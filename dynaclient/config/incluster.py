"""The in-cluster configuration: the API server from the pod's environment, credentials from its service account.

Follows client-go rest/config.go ``InClusterConfig``: ``https://`` + ``KUBERNETES_SERVICE_HOST`` (bracketed when
it is an IPv6 address) + ``:`` + ``KUBERNETES_SERVICE_PORT``, the service-account CA, and the token file, which
is re-read as it rotates (bound tokens expire; the kubelet rewrites the file). The default namespace is
``POD_NAMESPACE``, else the service-account ``namespace`` file, else ``default`` (clientcmd
``inClusterClientConfig.Namespace``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

from dynaclient.auth.token_file import TokenFileAuth, read_token_file
from dynaclient.config.model import ClientConfig
from dynaclient.exceptions import AuthError, ConfigError, InClusterConfigError
from dynaclient.transport.tls import build_ssl_context

SERVICE_ACCOUNT_ROOT = "/var/run/secrets/kubernetes.io/serviceaccount"


def service_host_port(host: str, port: str) -> str:
    """Join a service host and port, bracketing an IPv6 address (Go ``net.JoinHostPort``).

    >>> service_host_port("10.96.0.1", "443"), service_host_port("fd00::1", "443")
    ('10.96.0.1:443', '[fd00::1]:443')
    """
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def load_incluster_config(
    env: Mapping[str, str] | None = None,
    root: str | os.PathLike[str] = SERVICE_ACCOUNT_ROOT,
    *,
    now: Callable[[], float] = time.time,
) -> ClientConfig:
    """Build the configuration of a pod's service account.

    Args:
        env: the environment; defaults to ``os.environ``.
        root: the service-account directory holding ``token``, ``ca.crt`` and ``namespace``.
        now: the clock of the token file's re-reads.

    Returns:
        The configuration, authenticating with the token file.

    Raises:
        InClusterConfigError: ``KUBERNETES_SERVICE_HOST`` or ``KUBERNETES_SERVICE_PORT`` is unset, the token or CA
            file is missing, unreadable or empty, the CA is not PEM, or the namespace file is not text; the message
            names the variable or the file.
    """
    environ = os.environ if env is None else env
    host, port = environ.get("KUBERNETES_SERVICE_HOST", ""), environ.get("KUBERNETES_SERVICE_PORT", "")
    for name, value in (("KUBERNETES_SERVICE_HOST", host), ("KUBERNETES_SERVICE_PORT", port)):
        if not value:
            raise InClusterConfigError(f"{name} is not set: not running in a pod")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise InClusterConfigError(f"KUBERNETES_SERVICE_PORT is not a port number: {port!r}")
    if any(character in host for character in "/?#@[] \t"):
        raise InClusterConfigError(f"KUBERNETES_SERVICE_HOST is not a host name or IP address: {host!r}")
    directory = os.fspath(root)
    token_path = os.path.join(directory, "token")
    try:
        read_token_file(token_path)
    except AuthError as exc:
        raise InClusterConfigError(str(exc)) from None
    ca_path = os.path.join(directory, "ca.crt")
    try:
        with open(ca_path, "rb") as file:
            ca_data = file.read()
    except OSError as exc:
        raise InClusterConfigError(f"cannot read the service-account CA {ca_path}: {exc.strerror}") from None
    try:  # an empty ca.crt would otherwise trust the system roots
        build_ssl_context(ca_data=ca_data)
    except ConfigError as exc:
        raise InClusterConfigError(f"the service-account CA {ca_path}: {exc}") from None
    try:
        server = "https://" + service_host_port(host, port)
        return ClientConfig(
            server=server,
            auth=TokenFileAuth(token_path, now=now),
            ca_data=ca_data,
            namespace=environ.get("POD_NAMESPACE") or _namespace(directory),
            source="in-cluster",
        )
    except ConfigError as exc:
        raise InClusterConfigError(f"KUBERNETES_SERVICE_HOST does not make a valid URL: {exc}") from None


def _namespace(directory: str) -> str:
    path = os.path.join(directory, "namespace")
    try:
        with open(path, encoding="utf-8") as file:
            return file.read().strip() or "default"
    except OSError:
        return "default"
    except UnicodeDecodeError:
        raise InClusterConfigError(f"the service-account namespace file {path} is not UTF-8 text") from None


__all__ = ["SERVICE_ACCOUNT_ROOT", "load_incluster_config", "service_host_port"]
