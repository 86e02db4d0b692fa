"""How the HTTP transport reports what ``requests`` and ``urllib3`` raise: the most specific :class:`TransportError`."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator

import requests
from urllib3.exceptions import HTTPError as URLLib3Error
from urllib3.exceptions import ProtocolError as URLLib3ProtocolError
from urllib3.exceptions import ReadTimeoutError

from dynaclient.exceptions import (
    ConnectError,
    ConnectionLostError,
    RequestCancelled,
    TLSError,
    TransportError,
    TransportTimeout,
)
from dynaclient.request import Request


@contextlib.contextmanager
def mapped_errors(
    request: Request, *, timeout: float | None = None, expired: threading.Event | None = None
) -> Iterator[None]:
    """Translate ``requests``/``urllib3`` exceptions to the most specific :class:`TransportError`.

    Once the request is cancelled, any failure is :class:`RequestCancelled`; once its deadline aborted it,
    :class:`TransportTimeout`.
    """
    try:
        yield
    except Exception as exc:
        # Cancelled: whatever reading the response closed under us raised. With a read racing _abort that is not
        # always an OSError: http.client finds its file gone (AttributeError: 'NoneType' object has no attribute
        # 'read') or closed (ValueError).
        if request.cancellation is not None and request.cancellation.cancelled:
            raise RequestCancelled(f"{request.method} {request.path} cancelled") from exc
        if expired is not None and expired.is_set():
            message = f"{request.method} {request.path}: the response did not complete within {request.timeout}s"
            raise TransportTimeout(message) from None
        if isinstance(exc, requests.RequestException | URLLib3Error | OSError):
            raise translate(exc, request, timeout) from exc
        raise


def translate(exc: BaseException, request: Request, timeout: float | None = None) -> TransportError:
    """Translate ``exc``; ``timeout`` is the limit that applied when it is not the request's own."""
    where = f"{request.method} {request.path}"
    timeout = request.timeout if timeout is None else timeout
    if isinstance(exc, requests.exceptions.SSLError | ssl.SSLError):
        return TLSError(f"{where}: TLS failed: {_reason(exc)}")
    if isinstance(exc, requests.exceptions.Timeout | TimeoutError | socket.timeout) or _read_timed_out(exc):
        # requests reports a read timeout in the middle of a body as a ConnectionError wrapping urllib3's
        # ReadTimeoutError (models.py iter_content): the server stalled, it did not refuse.
        return TransportTimeout(f"{where}: timed out after {timeout}s")
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | URLLib3ProtocolError) or _lost(exc):
        # The server went away inside a response (an apiserver restart mid-watch); urllib3's own words for it
        # ("invalid literal for int() with base 16: b''") say nothing useful.
        return ConnectionLostError(f"{where}: the connection was lost in the middle of the response")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return ConnectError(f"{where}: cannot connect: {_reason(exc)}")
    return TransportError(f"{where}: {_reason(exc)}")


def _read_timed_out(exc: BaseException) -> bool:
    return isinstance(exc, requests.exceptions.ConnectionError) and any(
        isinstance(arg, ReadTimeoutError) for arg in exc.args
    )


def _lost(exc: BaseException) -> bool:
    """Whether a requests ConnectionError is a connection that broke after it was made (reset, closed early)."""
    return isinstance(exc, requests.exceptions.ConnectionError) and any(
        isinstance(arg, URLLib3ProtocolError) for arg in exc.args
    )


def _reason(exc: BaseException) -> str:
    """The innermost useful message; URLs in urllib3 messages carry no credentials (they are in headers)."""
    while exc.__context__ is not None and str(exc.__context__) and exc.__cause__ is None:
        exc = exc.__context__
    text = str(exc)
    return text[:300] if text else type(exc).__name__


__all__ = ["mapped_errors", "translate"]
