"""HTTP transport over ``requests``: TLS from the configuration, one pooled session per client.

The only module that imports ``requests`` for API traffic. Backend exceptions are translated to dynaclient's
:class:`~dynaclient.exceptions.TransportError` subclasses at this boundary and chained with ``from``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import platform
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib.metadata import version
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import requests
import requests.adapters
from requests.structures import CaseInsensitiveDict

from dynaclient.exceptions import (
    ConfigError,
)
from dynaclient.extras import missing_extra_message
from dynaclient.request import Request, Response
from dynaclient.transport._chunked import bulk_body, stream_body
from dynaclient.transport._deadlines import DEADLINES
from dynaclient.transport._http_errors import mapped_errors, translate
from dynaclient.transport._pools import CancellableAdapter, StaleConnection, sending, shut_down
from dynaclient.transport.base import BaseTransport
from dynaclient.transport.tls import build_ssl_context, certificate_authority_text
from dynaclient.transport.websocket import WebSocketConnection, open_websocket

if TYPE_CHECKING:
    from requests.adapters import _HostParams, _PoolKwargs

logger = logging.getLogger("dynaclient")

CertificateSource = Callable[[], "tuple[bytes, bytes] | None"]
"""Returns the current client certificate and key (PEM), or ``None``; called before each request."""

_CHUNK = 1024 * 1024
"""Bytes per read of a response body: 1 MiB reads of a gzipped 16 MB list took 30% less CPU than 64 KiB reads."""

_POOL_MAXSIZE = 32
"""Connections kept per server (requests' pools); also the bound on sending a request again after stale ones."""

STREAM_HEADER_TIMEOUT = 30.0
"""Seconds a streamed request without a timeout of its own (a watch) waits to connect and for its response
headers. The API server sends a watch's headers as soon as the watch starts; once they are in, body reads have no
time limit (a quiet watch is legitimate; informers close one that misses the server's minute bookmarks)."""

_PLAIN_URL = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]*")
"""Characters a URL may hold as they are; any other is escaped the way requests does (``requote_uri``)."""

USER_AGENT = f"dynaclient/{version('dynaclient')} (python {platform.python_version()})"
"""Sent with every request; the apiserver records it as the field manager of updates made without one."""


class _ContextAdapter(CancellableAdapter):
    """Uses our SSL context (not requests' defaults nor ``REQUESTS_CA_BUNDLE``) for every pool."""

    def __init__(self, context: Callable[[], ssl.SSLContext], verify: bool, server_name: str | None) -> None:
        self._context = context
        self._verify = verify
        self._server_name = server_name
        self._last_pool: tuple[str, ssl.SSLContext, Any] | None = None
        super().__init__(pool_connections=4, pool_maxsize=_POOL_MAXSIZE)

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: bool | str | None,
        proxies: Mapping[str, str] | None = None,
        cert: str | tuple[str, str] | None = None,
    ) -> Any:
        """Return the pool of the request's origin, remembering the last one while the SSL context is the same.

        requests looks the pool up on every request (pool key attributes, proxy selection, urllib3's key
        normalisation): about a tenth of a small request's client CPU. A transport talks to one server, so the
        last pool is kept; a new SSL context (a rotated client certificate), a pool closed meanwhile or the adapter
        closed looks it up again. Requests through a proxy always do.
        """
        if proxies:
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        url = str(request.url)
        origin = url[: url.find("/", url.find("//") + 2)]
        context, last = self._context(), self._last_pool
        if last is not None and last[0] == origin and last[1] is context and last[2].pool is not None:
            return last[2]
        pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
        self._last_pool = (origin, context, pool)
        return pool

    def close(self) -> None:
        """Forget the remembered pool, then close every pool."""
        self._last_pool = None
        super().close()

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: bool | str, cert: str | tuple[str, str] | None = None
    ) -> tuple[_HostParams, _PoolKwargs]:
        host_params, _ = super().build_connection_pool_key_attributes(request, verify, cert)
        pool_kwargs: _PoolKwargs = {
            "ssl_context": self._context(),
            "cert_reqs": "CERT_REQUIRED" if self._verify else "CERT_NONE",
        }
        extra = cast(dict[str, Any], pool_kwargs)  # urllib3 pool keys the stub does not list
        if self._server_name:
            extra["server_hostname"] = self._server_name
        if not self._verify:
            extra["assert_hostname"] = False
        return host_params, pool_kwargs

    def cert_verify(self, conn: Any, url: str, verify: bool | str, cert: str | tuple[str, str] | None) -> None:
        """Leave trust and client certificates to our SSL context.

        requests' own ``cert_verify`` points every new connection at its CA bundle (certifi), which urllib3 then
        loads into the shared context: the cluster connection would trust every public CA, and each new
        connection spent about 20 ms loading them.
        """
        conn.cert_reqs = "CERT_REQUIRED" if self._verify else "CERT_NONE"
        conn.ca_certs = conn.ca_cert_dir = conn.cert_file = conn.key_file = None


class HTTPTransport(BaseTransport):
    """Sends requests to an API server over HTTP(S) with a pooled, thread-safe ``requests`` session.

    Args:
        server: the server URL, for example ``https://127.0.0.1:6443``; a path prefix is kept.
        ca_data: PEM certificate authority to trust; the system roots when ``None``.
        insecure_skip_tls_verify: skip server certificate verification.
        tls_server_name: the name to verify the server certificate against (and send as SNI).
        client_certificate: a certificate/key pair, or a callable returning the current one (exec plugins rotate
            them); a changed pair gets fresh connections.
        proxy_url: an HTTP(S) or SOCKS5 proxy (SOCKS5 needs the ``socks`` extra); when ``None`` the
            ``HTTPS_PROXY``/``NO_PROXY`` environment applies.
        disable_compression: ask for uncompressed responses (kubeconfig ``disable-compression``, client-go
            ``DisableCompression``); otherwise large responses come gzipped, which costs the server and the client
            CPU but crosses slow links much faster. Clients built from a configuration decide it by its
            ``compression`` policy (:func:`~dynaclient.transport.compression.accept_encoding`: identity on
            loopback).
        name: the transport's name in logs and auto-detection reports.

    Thread-safety: thread-safe; connection pools are shared by all threads.
    """

    def __init__(
        self,
        server: str,
        *,
        ca_data: bytes | None = None,
        insecure_skip_tls_verify: bool = False,
        tls_server_name: str | None = None,
        client_certificate: tuple[bytes, bytes] | CertificateSource | None = None,
        proxy_url: str | None = None,
        disable_compression: bool = False,
        name: str = "http",
    ) -> None:
        self.name = name
        self.server = server.rstrip("/")
        self._ca_data = ca_data
        self._insecure = insecure_skip_tls_verify
        self._tls_server_name = tls_server_name
        self._certificate = _certificate_source(client_certificate)
        self._lock = threading.Lock()
        self._context_key: tuple[bytes, bytes] | bool | None = False
        self._context: ssl.SSLContext | None = None
        self._session = requests.Session()
        self._session.trust_env = False  # no REQUESTS_CA_BUNDLE or .netrc; proxies are resolved below
        self._session.headers["User-Agent"] = USER_AGENT
        if disable_compression:
            self._session.headers["Accept-Encoding"] = "identity"
        adapter = _ContextAdapter(self._current_context, not insecure_skip_tls_verify, tls_server_name)
        self._session.mount("https://", adapter)
        self._session.mount("http://", CancellableAdapter(pool_connections=4, pool_maxsize=_POOL_MAXSIZE))
        self._adapter = self._session.get_adapter(self.server)
        self._proxies = self._resolve_proxies(proxy_url)
        if self.server.startswith("https://"):
            self._current_context()  # fail fast on unusable CA or certificate data

    def __repr__(self) -> str:
        return f"<HTTPTransport {self.name} {self.server}>"

    def _resolve_proxies(self, proxy_url: str | None) -> dict[str, str]:
        if not proxy_url:
            return dict(requests.utils.get_environ_proxies(self.server))
        scheme = urlsplit(proxy_url).scheme
        if scheme == "socks5":
            if importlib.util.find_spec("socks") is None:
                raise ConfigError(f"proxy-url: {missing_extra_message('a socks5 proxy', 'socks', 'PySocks')}")
            # Go's SOCKS5 dialer (golang.org/x/net/proxy) sends the host name to the proxy: socks5h in requests.
            proxy_url = "socks5h" + proxy_url[len(scheme) :]
        elif scheme not in ("http", "https"):
            raise ConfigError(f"proxy-url {scheme!r} scheme is not supported (http, https, socks5)")
        return {"http": proxy_url, "https": proxy_url}

    def _current_context(self) -> ssl.SSLContext:
        certificate = self._certificate()
        with self._lock:
            if self._context is None or certificate != self._context_key:
                self._context = build_ssl_context(
                    ca_data=self._ca_data, insecure_skip_tls_verify=self._insecure, client_certificate=certificate
                )
                self._context_key = certificate
            return self._context

    def send(self, request: Request) -> Response:
        """Send ``request``; see :meth:`BaseTransport.send`."""
        cancellation = request.cancellation
        if cancellation is not None:
            cancellation.raise_if_cancelled()
        prepared = self._prepare(request)
        url = prepared.url
        started = time.monotonic()
        unbounded_stream = request.expect == "stream" and request.timeout is None
        header_timeout = STREAM_HEADER_TIMEOUT if unbounded_stream else request.timeout
        for attempt in range(_POOL_MAXSIZE + 1):  # each stale attempt used up one pooled connection
            try:
                with sending(cancellation), mapped_errors(request, timeout=header_timeout):
                    answer = self._adapter.send(prepared, stream=True, timeout=header_timeout, proxies=self._proxies)
                break
            except StaleConnection as stale:
                if attempt == _POOL_MAXSIZE:
                    raise translate(stale.__cause__ or stale, request, header_timeout) from stale.__cause__
                logger.debug("%s %s: %s; sending it again on another connection", request.method, url, stale)
        if unbounded_stream:
            _set_read_timeout(answer, None)  # the headers are in: the stream's body may be quiet for long
        elapsed = (time.monotonic() - started) * 1e3
        logger.debug("%s %s%s %d %.1fms", request.method, self.server, request.url_path, answer.status_code, elapsed)
        return _wrap(answer, request, started)

    def _prepare(self, request: Request) -> requests.PreparedRequest:
        """Return ``request`` as requests prepares it for the adapter, without a session's per-call work.

        ``Session.request`` merges settings, hooks, cookies and the environment on every call: a fifth to a third
        of the client CPU of a small request on loopback. None of it applies here: no redirects are followed, no
        hooks nor environment settings are used, and no cookies are kept (client-go's ``http.Client`` has no cookie
        jar either).
        """
        prepared = requests.PreparedRequest()
        prepared.method = request.method
        url = self.server + request.url_path
        prepared.url = url if _PLAIN_URL.fullmatch(url) else requests.utils.requote_uri(url)
        prepared.headers = CaseInsensitiveDict(cast("Mapping[str, str]", self._session.headers))
        prepared.headers.update(request.headers)
        prepared.headers["Accept"] = request.accept
        if request.effective_content_type:
            prepared.headers["Content-Type"] = request.effective_content_type
        prepared.body = request.body
        if request.body is not None:
            prepared.headers["Content-Length"] = str(len(request.body))
        elif request.method not in ("GET", "HEAD"):
            prepared.headers["Content-Length"] = "0"
        return prepared

    def open_websocket(self, request: Request, subprotocols: Sequence[str]) -> WebSocketConnection | Response:
        """Open a WebSocket with this transport's TLS settings, proxy and user agent; see the base class."""
        if request.cancellation is not None:
            request.cancellation.raise_if_cancelled()
        secure = self.server.startswith("https://")
        url = ("wss://" if secure else "ws://") + self.server.split("://", 1)[1] + request.url_path
        started = time.monotonic()
        answer = open_websocket(
            url,
            what=f"{request.method} {request.path}",
            headers=request.headers,
            subprotocols=subprotocols,
            ssl_context=self._current_context() if secure else None,
            server_hostname=self._tls_server_name,
            proxy=self._proxies.get("https" if secure else "http"),
            user_agent=USER_AGENT,
            timeout=request.timeout,
        )
        status = answer.status if isinstance(answer, Response) else 101
        elapsed = (time.monotonic() - started) * 1e3
        logger.debug("%s %s%s (WebSocket) %d %.1fms", request.method, self.server, request.path, status, elapsed)
        return answer

    def close(self) -> None:
        """Close every pooled connection."""
        self._session.close()


def _certificate_source(value: tuple[bytes, bytes] | CertificateSource | None) -> CertificateSource:
    if callable(value):
        return value
    return lambda: value


def _wrap(answer: requests.Response, request: Request, started: float) -> Response:
    cancellation = request.cancellation
    unregister = cancellation.on_cancel(lambda: _abort(answer)) if cancellation is not None else None
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _abort(answer)

    unschedule = None
    if request.timeout is not None and request.expect != "stream":
        # The whole response within the timeout: a server dripping bytes never lets a single read time out.
        unschedule = DEADLINES.schedule(started + request.timeout, expire)

    def chunks() -> Iterator[bytes]:
        with mapped_errors(request, expired=expired):
            if request.expect != "stream" and (bulk := bulk_body(answer, _CHUNK)) is not None:
                yield from bulk
            elif request.read_pause > 0 and (batched := stream_body(answer, request.read_pause)) is not None:
                yield from batched
            else:
                yield from answer.iter_content(chunk_size=None if request.expect == "stream" else _CHUNK)

    def close() -> None:
        if unregister is not None:
            unregister()
        if unschedule is not None:
            unschedule()
        answer.close()

    return Response(answer.status_code, dict(answer.headers), chunks(), close=close)


def _abort(answer: requests.Response) -> None:
    """Wake a thread blocked reading ``answer`` by shutting its socket down, then close it."""
    shut_down(getattr(getattr(answer.raw, "connection", None), "sock", None))
    with contextlib.suppress(Exception):
        answer.close()


def _set_read_timeout(answer: requests.Response, timeout: float | None) -> None:
    sock = getattr(getattr(answer.raw, "connection", None), "sock", None)
    if isinstance(sock, socket.socket):
        sock.settimeout(timeout)


__all__ = [
    "STREAM_HEADER_TIMEOUT",
    "CertificateSource",
    "HTTPTransport",
    "build_ssl_context",
    "certificate_authority_text",
]
