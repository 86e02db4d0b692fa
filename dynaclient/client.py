"""APIClient: authentication, retries, JSON decoding and Status-to-error mapping over any transport."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from dynaclient._json_decoding import loads
from dynaclient._types import JSONObject
from dynaclient.auth.base import AuthProvider
from dynaclient.exceptions import (
    APIError,
    ConnectionLostError,
    DecodeError,
    RequestCancelled,
    TransportError,
    TransportTimeout,
    api_error_from_status,
)
from dynaclient.rate_limit import TokenBucketRateLimiter
from dynaclient.request import JSON_CONTENT_TYPE, Request, Response, json_request
from dynaclient.transport.base import BaseTransport

if TYPE_CHECKING:
    from dynaclient.transport.websocket import WebSocketConnection

logger = logging.getLogger("dynaclient")

DEFAULT_MAX_RETRIES = 10
"""client-go's ``maxRetries`` for 429/5xx answers that carry ``Retry-After`` (rest/with_retry.go)."""

DEFAULT_MAX_RETRY_WAIT = 60.0
"""The longest ``Retry-After`` obeyed; a longer one is not waited for: the error is raised with its ``retry_after``."""

_LOST_CONNECTION_WAIT = 1.0
"""client-go retries a GET whose connection was lost as a synthetic 500 with ``Retry-After: 1``."""

# The reason client-go synthesises for a non-Status error body, by code (apimachinery errors.NewGenericServerResponse).
_SYNTHESISED_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Gone",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    503: "ServiceUnavailable",
    504: "Timeout",
}

Waiter = Callable[[threading.Event, float], bool]
"""Waits up to the given seconds for the event; returns whether it was set (``threading.Event.wait``)."""


class APIClient:
    """Sends requests through a transport, adding authentication, retries, rate limiting and typed errors.

    Every transport gets the same behaviour: the ``Authorization`` header from ``auth``; one retry after a 401
    when the credential could be refreshed (exec plugins, token files); up to ``max_retries`` retries of 429
    and 5xx answers that carry an integer ``Retry-After`` (client-go ``rest/with_retry.go``); retries of GETs
    whose connection was lost (:class:`~dynaclient.exceptions.ConnectionLostError`; nothing else that failed
    without an answer is retried: it would fail again); and a typed :class:`~dynaclient.exceptions.APIError`
    for every error Status.

    A request read whole (not a stream) with a ``timeout`` gets that long in total: rate-limiter waits,
    ``Retry-After`` waits and retries included. A wait that would end past that deadline, or a ``Retry-After``
    above ``max_retry_wait``, is not started: the error is raised at once. Every wait ends early, with
    :class:`~dynaclient.exceptions.RequestCancelled`, when the request's cancellation fires or :meth:`close` is
    called.

    Args:
        transport: how requests reach the server.
        auth: supplies credentials per request; ``None`` when the transport authenticates (kubectl).
        namespace: the default namespace (from the kubeconfig context or the service account).
        max_retries: retries for throttled or failed requests.
        max_retry_wait: the longest ``Retry-After`` (seconds) waited for.
        rate_limiter: a client-side limit on requests per second, such as
            :class:`~dynaclient.rate_limit.TokenBucketRateLimiter`; ``None`` sends without limit.
        clock: monotonic seconds, for deadlines.
        wait: blocks on an event for at most some seconds (injectable for tests).

    Thread-safety: thread-safe, if the transport and auth provider are (all of dynaclient's are).
    """

    def __init__(
        self,
        transport: BaseTransport,
        *,
        auth: AuthProvider | None = None,
        namespace: str = "default",
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        rate_limiter: TokenBucketRateLimiter | None = None,
        clock: Callable[[], float] = time.monotonic,
        wait: Waiter = threading.Event.wait,
    ) -> None:
        self.transport = transport
        self.auth = auth
        self.namespace = namespace
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.rate_limiter = rate_limiter
        self._clock = clock
        self._wait = wait
        self._closing = threading.Event()
        self._waiters_lock = threading.Lock()
        self._waiters: set[threading.Event] = set()

    def __repr__(self) -> str:
        return f"<APIClient transport={self.transport.name} namespace={self.namespace}>"

    def __enter__(self) -> APIClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Interrupt every wait between retries and close the transport."""
        self._closing.set()
        with self._waiters_lock:
            waiters = list(self._waiters)
        for woken in waiters:
            woken.set()
        self.transport.close()

    def send(self, request: Request) -> Response:
        """Send ``request`` and return the successful response (its body may still be streaming).

        Raises:
            APIError: the server answered with an error; the subclass follows the code and reason.
            TransportError: no response could be obtained; :class:`TransportTimeout` when the deadline passed,
                :class:`RequestCancelled` when cancelled or the client closed during a wait.
        """
        deadline = None
        if request.timeout is not None and request.expect != "stream":
            deadline = self._clock() + request.timeout
        reauthenticated = False
        attempt = 0
        while True:
            self._throttle(request, deadline)
            try:
                response = self.transport.send(self.authenticated(self._remaining(request, deadline), self.auth))
            except TransportError as exc:
                wait = transport_retry_wait(request, exc, attempt, self.max_retries)
                if wait is None or not self._fits(wait, deadline):
                    raise
                self._pause(wait, request)
                attempt += 1
                continue
            if response.ok:
                return response
            if response.status == 401 and not reauthenticated and self.auth is not None and self.auth.on_unauthorized():
                response.close()
                reauthenticated = True
                continue
            retry_wait = response_retry_wait(request, response, attempt, self.max_retries, self.max_retry_wait)
            if retry_wait is None or not self._fits(retry_wait, deadline):
                raise error_from_response(response, request)
            response.close()
            self._pause(retry_wait, request)
            attempt += 1

    def open_websocket(self, request: Request, subprotocols: Sequence[str]) -> WebSocketConnection:
        """Open a WebSocket for ``request`` with the client's credentials (exec, attach, port-forward).

        A 401 refreshes the credential and tries once more, as :meth:`send` does; nothing else is retried.

        Raises:
            APIError: the server refused the upgrade; the subclass follows the code and reason.
            UnsupportedRequestError: the transport cannot carry WebSockets.
            TransportError: no answer was obtained.
        """
        reauthenticated = False
        while True:
            answer = self.transport.open_websocket(self.authenticated(request, self.auth), subprotocols)
            if not isinstance(answer, Response):
                return answer
            if answer.status == 401 and not reauthenticated and self.auth is not None and self.auth.on_unauthorized():
                reauthenticated = True
                continue
            raise error_from_response(answer, request)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | tuple[tuple[str, str], ...] = (),
        body: object = None,
        content_type: str | None = None,
        accept: str = JSON_CONTENT_TYPE,
        timeout: float | None = None,
    ) -> JSONObject:
        """Send a request with an optional JSON body and return the decoded JSON answer.

        Raises:
            APIError: the server answered with an error.
            TransportError: no response could be obtained.
            DecodeError: the answer was not a JSON object.
        """
        request = json_request(
            method, path, query=query, body=body, content_type=content_type, accept=accept, timeout=timeout
        )
        return decode_json(self.send(request).read(), what=f"{method} {path}")

    @staticmethod
    def authenticated(request: Request, auth: AuthProvider | None, headers: dict[str, str] | None = None) -> Request:
        """Return ``request`` with the credential headers of ``auth`` (or the ``headers`` already obtained)."""
        if auth is None:
            return request
        if headers is None:
            headers = auth.headers()
        return request.with_headers(headers) if headers else request

    def _throttle(self, request: Request, deadline: float | None) -> None:
        if self.rate_limiter is None:
            return
        budget = None if deadline is None else max(0.0, deadline - self._clock())
        wait = self.rate_limiter.reserve(budget)
        if wait is None:
            raise TransportTimeout(
                f"{request.method} {request.path}: the client rate limit "
                f"({self.rate_limiter.qps:g}/s) leaves no time within {request.timeout}s"
            )
        if wait > 0:
            self._pause(wait, request)

    def _fits(self, seconds: float, deadline: float | None) -> bool:
        return deadline is None or self._clock() + seconds < deadline

    def _remaining(self, request: Request, deadline: float | None) -> Request:
        if deadline is None:
            return request
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise TransportTimeout(f"{request.method} {request.path}: timed out after {request.timeout}s")
        return replace(request, timeout=remaining)

    def _pause(self, seconds: float, request: Request) -> None:
        """Wait ``seconds``, ending early with RequestCancelled on the request's cancellation or :meth:`close`."""
        woken = threading.Event()
        cancellation = request.cancellation
        unregister = cancellation.on_cancel(woken.set) if cancellation is not None else None
        with self._waiters_lock:
            self._waiters.add(woken)
        try:
            if self._closing.is_set() or self._wait(woken, seconds):
                raise RequestCancelled(f"{request.method} {request.path}: cancelled while waiting to retry")
        finally:
            if unregister is not None:
                unregister()
            with self._waiters_lock:
                self._waiters.discard(woken)


def transport_retry_wait(request: Request, exc: TransportError, attempt: int, max_retries: int) -> float | None:
    """Seconds to wait before retrying after ``exc``, or ``None`` when it is final (the sync and asyncio clients').

    client-go retries a lost connection for GET only (rest/request.go IsRetryableError); a refused connection, a
    TLS failure, a timeout, a cancellation or a kubectl failure would only fail again.

    >>> transport_retry_wait(Request("GET", "/api"), ConnectionLostError("lost"), 0, 10)
    1.0
    >>> transport_retry_wait(Request("POST", "/api"), ConnectionLostError("lost"), 0, 10) is None
    True
    """
    if request.method != "GET" or request.expect == "stream" or not isinstance(exc, ConnectionLostError):
        return None
    if attempt >= max_retries:
        return None
    logger.debug("%s %s: %s, retrying in 1s", request.method, request.path, exc)
    return _LOST_CONNECTION_WAIT


def response_retry_wait(
    request: Request, response: Response, attempt: int, max_retries: int, max_retry_wait: float
) -> float | None:
    """Seconds to wait before retrying an error answer, or ``None`` when it is final (the sync and asyncio clients').

    429 and 5xx answers with an integer ``Retry-After`` of at most ``max_retry_wait`` are retried up to
    ``max_retries`` times (client-go ``rest/with_retry.go``).

    >>> response_retry_wait(Request("GET", "/api"), Response.from_bytes(429, b"", {"Retry-After": "2"}), 0, 10, 60)
    2.0
    """
    wait = _retry_after(response)
    if wait is None or attempt >= max_retries or wait > max_retry_wait:
        return None
    if not (response.status == 429 or response.status >= 500):
        return None
    logger.debug("%s %s: %d, retrying in %ss", request.method, request.path, response.status, wait)
    return wait


def _retry_after(response: Response) -> float | None:
    """The integer seconds of ``Retry-After`` (client-go ``checkWait``); ``inf`` for absurdly many digits."""
    value = response.headers.get("retry-after", "").strip()
    if not value.isascii() or not value.isdigit():
        return None
    return float(value) if len(value) <= 12 else float("inf")


def decode_json(data: bytes, *, what: str, pieces: bool = True) -> JSONObject:
    """Decode a JSON object; raise :class:`DecodeError` naming ``what`` otherwise.

    ``pieces=False`` decodes a large list whole (its piecewise decoding already failed).

    >>> decode_json(b'{"kind": "Pod"}', what="GET /x")
    {'kind': 'Pod'}
    """
    try:
        value: Any = loads(data, pieces=pieces)
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"{what}: response is not JSON: {data[:80]!r}") from exc
    if not isinstance(value, dict):
        raise DecodeError(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value


def error_from_response(response: Response, request: Request) -> APIError:
    """Read an error response and build its typed error (client-go ``transformResponse``)."""
    body = response.read()
    status = _status_from_body(body)
    if status is None:
        code = response.status
        reason = "AlreadyExists" if code == 409 and request.method == "POST" else _SYNTHESISED_REASONS.get(code, "")
        reason = reason or ("InternalError" if code >= 500 else "Unknown")
        text = body[:2048].decode("utf-8", errors="replace").strip()
        status = {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "code": code,
            "reason": reason,
            "message": text or f"the server responded with HTTP {code}",
            "details": {"causes": [{"reason": "UnexpectedServerResponse", "message": text}]} if text else {},
        }
    return api_error_from_status(
        status, code=response.status, method=request.method, path=request.path, headers=response.headers
    )


def _status_from_body(body: bytes) -> JSONObject | None:
    try:
        value = loads(body)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict) and value.get("kind") == "Status":
        return value
    return None


def with_query(request: Request, **params: str) -> Request:
    """Return ``request`` with extra query parameters appended.

    >>> with_query(Request("GET", "/api"), watch="1").url_path
    '/api?watch=1'
    """
    return replace(request, query=request.query + tuple(params.items()))


__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_WAIT",
    "APIClient",
    "decode_json",
    "error_from_response",
    "response_retry_wait",
    "transport_retry_wait",
    "with_query",
]
