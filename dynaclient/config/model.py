"""The resolved client configuration: where the API server is, how to trust it, and how to authenticate."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from dynaclient.auth.base import AuthProvider, NoAuth
from dynaclient.auth.exec import ClusterInfo
from dynaclient.exceptions import ConfigError
from dynaclient.transport.compression import Compression

_PROXY_SCHEMES = ("http", "https", "socks5")


def _split(url: str, schemes: tuple[str, ...]) -> SplitResult:
    """Split ``url`` and check its scheme and host; messages never quote the URL (it may hold a password)."""
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        raise ValueError(f'scheme "{parts.scheme}" is not {", ".join(schemes[:-1])} or {schemes[-1]}')
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not contain credentials")
    if not parts.hostname:
        raise ValueError("has no host")
    host_port = parts.netloc.rpartition("@")[2]
    if host_port.count(":") > 1 and not host_port.startswith("["):
        raise ValueError("an IPv6 address must be in brackets, as in https://[::1]:6443")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise ValueError("has an invalid port") from None
    return parts


def normalize_server(server: str) -> str:
    """Check an API server URL and return it without a trailing slash.

    A server without a scheme is plain ``http://``, even next to a certificate authority or client certificate:
    clientcmd (client_config.go ``ClientConfig``) decides whether the transport is TLS from the server alone
    (rest/url_utils.go ``DefaultServerURL`` with no TLS settings read yet), and then reads no credentials. A path
    prefix (a proxy such as Rancher) is kept.

    Args:
        server: the kubeconfig ``server`` value.

    Returns:
        The URL.

    Raises:
        ValueError: the scheme is not http or https, there is no host, the port is invalid, an IPv6 address is
            not bracketed, or there are credentials, a query or a fragment. The message never quotes the URL.

    >>> normalize_server("https://[::1]:6443/")
    'https://[::1]:6443'
    >>> normalize_server("10.0.0.1:6443")
    'http://10.0.0.1:6443'
    >>> normalize_server("https://rancher.example/k8s/clusters/c-1")
    'https://rancher.example/k8s/clusters/c-1'
    """
    if "://" not in server:
        server = "http://" + server
    parts = _split(server, ("http", "https"))
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def check_proxy_url(proxy_url: str) -> str:
    """Check a ``proxy-url`` (client-go rest/transport.go ``parseProxyURL``) and return it unchanged.

    Credentials are allowed in a proxy URL; they are never shown.

    Raises:
        ValueError: the scheme is not http, https or socks5, or there is no host.

    >>> check_proxy_url("socks5://127.0.0.1:1080")
    'socks5://127.0.0.1:1080'
    """
    parts = urlsplit(proxy_url)
    _split(parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl(), _PROXY_SCHEMES)
    return proxy_url


def redact_url(url: str) -> str:
    """Hide the credentials of a URL.

    >>> redact_url("http://user:pw@proxy:3128"), redact_url("http://proxy:3128")
    ('http://***@proxy:3128', 'http://proxy:3128')
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


@dataclass(frozen=True, slots=True, repr=False)
class ClientConfig:
    """Everything a client needs to reach one API server, resolved from a kubeconfig or the pod environment.

    Attributes:
        server: the API server URL, for example ``https://[::1]:6443``; no trailing slash. An ``http://`` server
            takes no credentials (:class:`ConfigError` otherwise): they would cross the network in clear.
        auth: the credential source applied to each request.
        ca_data: the PEM CA bundle that signs the server certificate; ``None`` trusts the system store.
        insecure_skip_tls_verify: do not verify the server certificate.
        tls_server_name: the name to verify the server certificate against instead of the URL host.
        proxy_url: the proxy to reach the server through (http, https or socks5); may hold credentials.
        client_certificate_data: the PEM client certificate, or ``None``.
        client_key_data: the PEM client key, or ``None``.
        namespace: the default namespace (the context's, else ``default``).
        context: the kubeconfig context used, or ``None``.
        source: where this came from: the kubeconfig path(s) or ``in-cluster``.
        disable_compression: ask for uncompressed responses (kubeconfig ``disable-compression``); overrides
            ``compression``.
        compression: which response encoding to ask for: ``auto`` (gzip; ``DYNACLIENT_COMPRESSION`` overrides
            it), ``gzip`` or ``identity``. See
            :mod:`dynaclient.transport.compression` for the measurements behind the default.

    The repr shows no secret: no key, and the proxy URL without its credentials.

    Thread-safety: immutable (``auth`` is thread-safe).

    Example:
        >>> ClientConfig("http://127.0.0.1:8001")
        ClientConfig(server='http://127.0.0.1:8001', namespace='default', auth=NoAuth())
    """

    server: str
    auth: AuthProvider = field(default_factory=NoAuth)
    ca_data: bytes | None = None
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    proxy_url: str | None = None
    client_certificate_data: bytes | None = None
    client_key_data: bytes | None = None
    namespace: str = "default"
    context: str | None = None
    source: str | None = None
    disable_compression: bool = False
    compression: Compression = "auto"

    def __post_init__(self) -> None:
        try:
            _split(self.server, ("http", "https"))
        except ValueError as exc:
            raise ConfigError(f"server: {exc}") from None
        try:
            if self.proxy_url:
                check_proxy_url(self.proxy_url)
        except ValueError as exc:
            raise ConfigError(f"proxy_url: {exc}") from None
        if (self.client_certificate_data is None) != (self.client_key_data is None):
            raise ConfigError("client_certificate_data and client_key_data must be given together")
        if self.server.startswith("http://") and (self.client_certificate_data or not isinstance(self.auth, NoAuth)):
            raise ConfigError("server: credentials are never sent over plain HTTP; use an https:// server")

    @property
    def client_certificate(self) -> tuple[bytes, bytes] | None:
        """The static client certificate and key, when both are configured."""
        if self.client_certificate_data is None or self.client_key_data is None:
            return None
        return self.client_certificate_data, self.client_key_data

    def __repr__(self) -> str:
        parts = [f"server={self.server!r}"]
        if self.context is not None:
            parts.append(f"context={self.context!r}")
        parts.append(f"namespace={self.namespace!r}")
        parts.append(f"auth={self.auth!r}")
        if self.client_certificate_data is not None:
            parts.append("client_certificate=<set>")
        if self.insecure_skip_tls_verify:
            parts.append("insecure_skip_tls_verify=True")
        if self.proxy_url:
            parts.append(f"proxy_url={redact_url(self.proxy_url)!r}")
        if self.source is not None:
            parts.append(f"source={self.source!r}")
        return f"ClientConfig({', '.join(parts)})"


__all__ = ["ClientConfig", "ClusterInfo", "check_proxy_url", "normalize_server", "redact_url"]
