"""The sans-IO request and response values that every transport speaks.

A :class:`Request` is a plain value: method, API path, query, headers, body and what the caller expects back.
Building one does no I/O. A transport turns it into a :class:`Response`, whose body is read whole
(:meth:`Response.read`) or iterated (:meth:`Response.iter_lines`, for watch streams).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal
from urllib.parse import urlencode

from dynaclient.exceptions import RequestCancelled

Expect = Literal["json", "bytes", "stream"]
"""What the caller wants from a response body: decoded JSON, the raw bytes, or an open stream."""

JSON_CONTENT_TYPE = "application/json"


class Cancellation:
    """A flag another thread can raise to abort a request, with callbacks that transports register.

    Transports call :meth:`on_cancel` with a function that closes their socket or kills their subprocess, so a
    blocked read returns promptly when :meth:`cancel` is called.

    Thread-safety: thread-safe. Callbacks run on the thread that calls :meth:`cancel` (or immediately on the
    registering thread when already cancelled), outside the internal lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` has been called."""
        return self._event.is_set()

    def cancel(self) -> None:
        """Cancel, running every registered callback once."""
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Register ``callback`` to run on cancellation; returns a function that unregisters it."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._discard(callback)
        callback()
        return lambda: None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled or ``timeout`` seconds pass; returns whether it was cancelled."""
        return self._event.wait(timeout)

    def raise_if_cancelled(self) -> None:
        """Raise :class:`~dynaclient.exceptions.RequestCancelled` if cancelled."""
        if self._event.is_set():
            raise RequestCancelled("request cancelled")

    def _discard(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request to the API server, as a value.

    Attributes:
        method: the HTTP verb, upper case.
        path: the absolute API path, for example ``/api/v1/namespaces/default/pods``; no query string.
        query: query parameters in order, with wire names (``labelSelector``, ``continue``).
        headers: extra headers. Transports add ``Accept`` and ``Content-Type`` from the fields below; the client
            adds ``Authorization``.
        body: the request body, or ``None``.
        accept: the ``Accept`` header.
        content_type: the ``Content-Type`` of ``body``; defaults to JSON when a body is present.
        timeout: for a response read whole, the seconds the whole exchange may take (body, retries and waits
            included); for a stream, the seconds to wait for the headers and between reads. ``None``: no limit.
        expect: how the caller will consume the body; ``"stream"`` keeps the connection open for a watch.
        read_pause: for a stream, the seconds its reader rests after taking everything that has arrived, so that
            a server writing many small pieces is read in batches (a followed log: a line may arrive this much
            later). ``0`` reads each piece as it comes (watches). Transports that cannot batch ignore it.
        cancellation: raised from another thread to abort the request promptly.

    Thread-safety: immutable.

    Example:
        >>> r = Request("GET", "/api/v1/namespaces/default/pods", query=(("limit", "5"),))
        >>> r.url_path
        '/api/v1/namespaces/default/pods?limit=5'
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    accept: str = JSON_CONTENT_TYPE
    content_type: str | None = None
    timeout: float | None = None
    expect: Expect = "json"
    read_pause: float = 0.0
    cancellation: Cancellation | None = field(default=None, compare=False)

    @classmethod
    def with_json(cls, method: str, path: str, obj: object, **kwargs: object) -> Request:
        """Build a request whose body is ``obj`` encoded as JSON.

        >>> Request.with_json("POST", "/api/v1/namespaces", {"metadata": {"name": "a"}}).body
        b'{"metadata":{"name":"a"}}'
        """
        body = json.dumps(obj, separators=(",", ":")).encode()
        return cls(method, path, body=body, **kwargs)  # type: ignore[arg-type]

    @property
    def url_path(self) -> str:
        """The path with its encoded query string."""
        return f"{self.path}?{urlencode(self.query)}" if self.query else self.path

    @property
    def effective_content_type(self) -> str | None:
        """The content type to send: ``content_type``, else JSON when there is a body."""
        if self.content_type:
            return self.content_type
        return JSON_CONTENT_TYPE if self.body is not None else None

    def with_headers(self, headers: Mapping[str, str]) -> Request:
        """Return a copy with ``headers`` merged over the existing ones."""
        return replace(self, headers={**self.headers, **headers})


class Response:
    """A response whose body is read once, whole or line by line.

    Thread-safety: confined to the thread that consumes the body; :meth:`close` may be called from any thread.
    """

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        chunks: Iterable[bytes],
        *,
        close: Callable[[], None] | None = None,
    ) -> None:
        self.status = status
        self.headers: dict[str, str] = {k.lower(): v for k, v in headers.items()}
        self._chunks = iter(chunks)
        self._close = close
        self._closed = False

    @classmethod
    def from_bytes(cls, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> Response:
        """Build a complete response from bytes (scripted tests, the kubectl transport).

        >>> Response.from_bytes(200, b'{"a": 1}').read()
        b'{"a": 1}'
        """
        return cls(status, headers or {}, [body] if body else [])

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300

    def iter_chunks(self) -> Iterator[bytes]:
        """Yield the body's byte chunks as they arrive; closes the response at the end."""
        try:
            yield from self._chunks
        finally:
            self.close()

    def read(self) -> bytes:
        """Read the whole body and close the response."""
        return b"".join(self.iter_chunks())

    def iter_lines(self) -> Iterator[bytes]:
        r"""Yield complete newline-terminated lines (without the newline), joining chunks as needed.

        A final line without a newline is yielded too; empty lines are skipped.

        >>> list(Response(200, {}, [b'{"a"', b':1}\n{"b":2}\n\n{"c"', b":3}"]).iter_lines())
        [b'{"a":1}', b'{"b":2}', b'{"c":3}']
        """
        pending = b""
        for chunk in self.iter_chunks():
            pending += chunk
            if b"\n" not in chunk:
                continue
            *lines, pending = pending.split(b"\n")
            yield from (line for line in lines if line.strip())
        if pending.strip():
            yield pending

    def close(self) -> None:
        """Release the connection or subprocess; safe to call twice and from another thread."""
        if self._closed:
            return
        self._closed = True
        if self._close is not None:
            self._close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Response [{self.status}]>"


def json_request(
    method: str,
    path: str,
    *,
    query: Mapping[str, str] | tuple[tuple[str, str], ...] = (),
    body: object = None,
    content_type: str | None = None,
    accept: str = JSON_CONTENT_TYPE,
    timeout: float | None = None,
) -> Request:
    """Build the request behind ``APIClient.request`` (sync and async): ``body`` as bytes or encoded as JSON.

    >>> json_request("POST", "/api/v1/namespaces", body={"a": 1}).body
    b'{"a": 1}'
    """
    pairs = tuple(query.items()) if isinstance(query, Mapping) else query
    data = None if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    return Request(method, path, query=pairs, body=data, accept=accept, content_type=content_type, timeout=timeout)


__all__ = ["JSON_CONTENT_TYPE", "Cancellation", "Expect", "Request", "Response", "json_request"]
