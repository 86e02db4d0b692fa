"""HTTP transport over ``aiohttp``: the asyncio counterpart of :class:`~dynaclient.transport.http.HTTPTransport`.

The only module that imports ``aiohttp``. It does I/O only, as the synchronous transports do: authentication,
retries and error mapping are :class:`~dynaclient.aio.client.AsyncAPIClient`'s. TLS comes from the same
:func:`~dynaclient.transport.tls.build_ssl_context`; ``aiohttp`` exceptions become dynaclient's
:class:`~dynaclient.exceptions.TransportError` subclasses here. aiohttp was chosen over httpx for its speed on large
list bodies (the README's "asyncio" section gives the measurements).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from dynaclient.extras import require_extra

require_extra("aiohttp", extra="async", feature="the asyncio client")
# The imports below come after the check, so a missing extra is one line naming it.
import aiohttp  # noqa: E402

from dynaclient.aio.response import AsyncResponse  # noqa: E402
from dynaclient.exceptions import (  # noqa: E402
    ConfigError,
    ConnectError,
    ConnectionLostError,
    TLSError,
    TransportError,
    TransportTimeout,
)
from dynaclient.request import Request, Response  # noqa: E402
from dynaclient.transport.http import USER_AGENT  # noqa: E402
from dynaclient.transport.tls import build_ssl_context  # noqa: E402

if TYPE_CHECKING:
    from dynaclient.aio.streams.websocket import AsyncWebSocketConnection

logger = logging.getLogger("dynaclient")

CertificateSource = Callable[[], "tuple[bytes, bytes] | None"]
"""Returns the current client certificate and key (PEM), or ``None``; may run an exec plugin (see ``ready``)."""


class AsyncHTTPTransport:
    """Sends requests to an API server over HTTP(S) with one pooled ``aiohttp`` session per event loop.

    The session is made on first use, in the running loop. A client certificate given as a callable is asked for
    before every request, as the synchronous transport does, so a certificate an exec plugin rotates is used from
    the next request on: a changed pair gets a new TLS context, hence new connections (open watches keep theirs).
    The callable runs on the loop only while ``certificate_ready()`` says it needs no I/O, else in a worker
    thread, as does building a TLS context. Connections are unlimited in number: each open watch holds one, as
    with HTTP/1.1 in client-go.

    Args:
        server: the server URL; a path prefix is kept.
        ca_data: PEM certificate authority to trust; the system roots when ``None``.
        insecure_skip_tls_verify: skip server certificate verification.
        tls_server_name: the name to verify the server certificate against (and send as SNI).
        client_certificate: a certificate/key pair, or a callable returning the current one.
        certificate_ready: whether calling ``client_certificate`` now needs no I/O (no exec plugin to run,
            :meth:`~dynaclient.auth.base.AuthProvider.client_certificate_ready`); without it, a callable
            ``client_certificate`` always runs in a worker thread.
        proxy_url: an HTTP(S) proxy.
        disable_compression: ask for uncompressed responses.
        name: the transport's name in logs.

    Thread-safety: confined to one event loop.
    """

    def __init__(
        self,
        server: str,
        *,
        ca_data: bytes | None = None,
        insecure_skip_tls_verify: bool = False,
        tls_server_name: str | None = None,
        client_certificate: tuple[bytes, bytes] | CertificateSource | None = None,
        certificate_ready: Callable[[], bool] | None = None,
        proxy_url: str | None = None,
        disable_compression: bool = False,
        name: str = "http",
    ) -> None:
        if proxy_url and urlsplit(proxy_url).scheme not in ("http", "https"):
            raise ConfigError(f"proxy-url {urlsplit(proxy_url).scheme!r} scheme is not supported (http, https)")
        self.name = name
        self.server = server.rstrip("/")
        self._ca_data = ca_data
        self._insecure = insecure_skip_tls_verify
        self._server_name = tls_server_name
        self._certificate = client_certificate
        self._certificate_ready = certificate_ready
        self._context: ssl.SSLContext | None = None
        self._context_key: tuple[bytes, bytes] | bool | None = False
        self._proxy = proxy_url or None
        self._headers = {"User-Agent": USER_AGENT}
        if disable_compression:
            self._headers["Accept-Encoding"] = "identity"
        self._session: aiohttp.ClientSession | None = None
        self._opening: asyncio.Lock | None = None
        # Responses handed out and perhaps not yet released: aclose closes them, so that no aiohttp Connection
        # outlives the session still acquired (its __del__ warns "Unclosed connection" when it is collected later).
        self._responses: weakref.WeakKeyDictionary[AsyncResponse, _Body] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"<AsyncHTTPTransport {self.name} {self.server}>"

    async def _open(self) -> aiohttp.ClientSession:
        if self._session is not None:
            return self._session
        if self.server.startswith("https://"):
            await self._current_context()  # unusable CA or certificate data fail before any connection
        if self._session is None:
            connector = aiohttp.TCPConnector(ssl=self._context or False, limit=0, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector, headers=self._headers, trust_env=False, timeout=aiohttp.ClientTimeout()
            )
        return self._session

    async def _current_context(self) -> ssl.SSLContext:
        """Return the TLS context of the current client certificate, building a new one when it changed."""
        source = self._certificate
        if callable(source):
            ready = self._certificate_ready
            certificate = source() if ready is not None and ready() else await asyncio.to_thread(source)
        else:
            certificate = source
        if self._context is None or certificate != self._context_key:
            if self._opening is None:
                self._opening = asyncio.Lock()
            async with self._opening:
                if self._context is None or certificate != self._context_key:
                    self._context = await asyncio.to_thread(
                        build_ssl_context,
                        ca_data=self._ca_data,
                        insecure_skip_tls_verify=self._insecure,
                        client_certificate=certificate,
                    )
                    self._context_key = certificate
        assert self._context is not None
        return self._context

    async def send(self, request: Request) -> AsyncResponse:
        """Send ``request`` and return once the status and headers are known; the body may still be streaming.

        Cancelling the awaiting task aborts the request (``CancelledError`` propagates).

        Raises:
            TransportError: no response could be obtained (connection, TLS, timeout).
        """
        session = await self._open()
        context: ssl.SSLContext | bool = False
        if self.server.startswith("https://"):
            context = await self._current_context() if callable(self._certificate) else self._context or False
        headers = {**request.headers, "Accept": request.accept}
        if request.effective_content_type:
            headers["Content-Type"] = request.effective_content_type
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=request.timeout, sock_read=request.timeout)
        extra: dict[str, Any] = {"server_hostname": self._server_name} if self._server_name else {}
        started = time.monotonic()
        try:
            answer = await session.request(
                request.method,
                self.server + request.path,
                params=list(request.query),
                data=request.body,
                headers=headers,
                timeout=timeout,
                proxy=self._proxy,
                allow_redirects=False,
                ssl=context,
                **extra,
            )
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise _translate(exc, request) from exc
        elapsed = (time.monotonic() - started) * 1e3
        logger.debug("%s %s%s %d %.1fms", request.method, self.server, request.url_path, answer.status, elapsed)
        body = _Body(answer, request)
        response = AsyncResponse(answer.status, dict(answer.headers), body.chunks(), close=body.close)
        self._responses[response] = body
        return response

    async def open_websocket(
        self, request: Request, subprotocols: Sequence[str]
    ) -> AsyncWebSocketConnection | Response:
        """Open a WebSocket (exec, attach, port-forward) with this transport's TLS context, server name and proxy.

        A refused upgrade is returned as its response; see :func:`~dynaclient.transport.websocket.open_websocket`.
        """
        from dynaclient.aio.streams.websocket import open_async_websocket

        secure = self.server.startswith("https://")
        url = ("wss://" if secure else "ws://") + self.server.split("://", 1)[1] + request.url_path
        context = await self._current_context() if secure else None
        return await open_async_websocket(
            url, what=f"{request.method} {request.path}", headers=request.headers, subprotocols=subprotocols,
            ssl_context=context, server_hostname=self._server_name, proxy=self._proxy, user_agent=USER_AGENT,
            timeout=request.timeout,
        )  # fmt: skip

    async def aclose(self) -> None:
        """Close every connection: the pooled ones and those of responses still open (a watch, a body left unread).

        A task still reading such a response sees its body end (a watch ends its iteration). The session closes
        their connections and waits until they are closed; each response is then released.
        """
        still_open = [(response, body) for response, body in self._responses.items() if not response.closed]
        for _, body in still_open:
            body.ending = True
        self._responses.clear()
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
        for response, _ in still_open:
            response.close()


class _Body:
    """The body of one aiohttp response, read and released for its :class:`AsyncResponse`.

    Once :attr:`ending` is set (by the response's owner closing it, or the transport closing under it), a read
    that fails ends the body quietly instead of raising: the closer, not the reader, decided that it ends.

    Thread-safety: confined to the response's event loop.
    """

    __slots__ = ("answer", "ending", "loop", "request")

    def __init__(self, answer: aiohttp.ClientResponse, request: Request) -> None:
        self.answer = answer
        self.request = request
        self.loop = asyncio.get_running_loop()
        self.ending = False

    async def chunks(self) -> AsyncIterator[bytes]:
        """Yield the body as it arrives; each read takes every chunk already buffered (``readany``).

        With the request's ``read_pause`` (a followed log), the connection is not read for that long after each
        read, so the server's small writes gather in the socket instead of each waking the event loop.
        """
        read = self.answer.content.readany
        pause = self.request.read_pause
        connection = self.answer.connection
        protocol = connection.protocol if pause > 0 and connection is not None else None
        # asyncio's TLS transport reads its socket on until a paused reader leaves 256 KiB undecrypted; with a
        # limit of one byte a pause stops the socket reads too (asyncio sslproto ``_control_ssl_reading``).
        limits = getattr(protocol.transport, "set_read_buffer_limits", None) if protocol is not None else None
        if limits is not None:
            limits(high=1, low=0)
        try:
            while chunk := await read():
                yield chunk
                if protocol is not None and protocol.transport is not None:  # None once the connection is lost
                    protocol.pause_reading()
                    try:
                        await asyncio.sleep(pause)
                    finally:
                        if protocol.transport is not None:  # lost meanwhile: nothing to resume, the read says so
                            protocol.resume_reading()
        except Exception as exc:
            if self.ending:
                return  # closed under the reader: aiohttp raises "Connection closed" or the like
            if isinstance(exc, TimeoutError | aiohttp.ClientError | OSError):
                raise _translate(exc, self.request) from exc
            raise
        finally:
            if limits is not None:
                limits()  # the defaults again, for the connection's next request

    def close(self) -> None:
        """Release the connection, or close it when the body was not read to its end."""
        self.ending = True
        answer = self.answer
        if answer.content.at_eof():
            answer.release()
            return
        answer.close()  # a body left unread (a closed watch) would stall a reused connection
        if not self.loop.is_closed():
            answer.content.feed_eof()  # wakes a task waiting for the next chunk: its iteration ends


def _translate(exc: BaseException, request: Request) -> TransportError:
    where = f"{request.method} {request.path}"
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return TLSError(f"{where}: TLS failed: {exc}")
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return TransportTimeout(f"{where}: timed out after {request.timeout}s")
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return ConnectionLostError(f"{where}: the connection was lost in the middle of the response")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectError(f"{where}: cannot connect: {exc.os_error}")
    text = str(exc)
    return TransportError(f"{where}: {text[:300] if text else type(exc).__name__}")


__all__ = ["AsyncHTTPTransport", "CertificateSource"]
