"""APIClient: authentication, retries, JSON decoding and Status-to-error mapping over any transport."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from dynaclient._json_decoding import loads
from dynaclient._types import JSONObject
from dynaclient.auth.base import AuthProvider
from dynaclient.exceptions import (
    APIError,
    ConnectError,
    DecodeError,
    RequestCancelled,
    TLSError,
    TransportError,
    TransportTimeout,
    api_error_from_status,
)
from dynaclient.request import JSON_CONTENT_TYPE, Request, Response
from dynaclient.transport.base import BaseTransport

logger = logging.getLogger("dynaclient")

DEFAULT_MAX_RETRIES = 10
"""client-go's ``maxRetries`` for 429/5xx answers that carry ``Retry-After`` (rest/with_retry.go)."""

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


class APIClient:
    """Sends requests through a transport, adding authentication, retries and typed errors.

    Every transport gets the same behaviour: the ``Authorization`` header from ``auth``; one retry after a 401
    when the credential could be refreshed (exec plugins, token files); up to ``max_retries`` retries of 429
    and 5xx answers that carry an integer ``Retry-After`` (client-go ``rest/with_retry.go``); retries of GETs
    whose connection was lost; and a typed :class:`~dynaclient.exceptions.APIError` for every error Status.

    Args:
        transport: how requests reach the server.
        auth: supplies credentials per request; ``None`` when the transport authenticates (kubectl).
        namespace: the default namespace (from the kubeconfig context or the service account).
        max_retries: retries for throttled or failed requests.
        sleep: waits between retries (injectable for tests).

    Thread-safety: thread-safe, if the transport and auth provider are (all of dynaclient's are).
    """

    def __init__(
        self,
        transport: BaseTransport,
        *,
        auth: AuthProvider | None = None,
        namespace: str = "default",
        max_retries: int = DEFAULT_MAX_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.transport = transport
        self.auth = auth
        self.namespace = namespace
        self.max_retries = max_retries
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"<APIClient transport={self.transport.name} namespace={self.namespace}>"

    def __enter__(self) -> APIClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the transport."""
        self.transport.close()

    def send(self, request: Request) -> Response:
        """Send ``request`` and return the successful response (its body may still be streaming).

        Raises:
            APIError: the server answered with an error; the subclass follows the code and reason.
            TransportError: no response could be obtained.
        """
        reauthenticated = False
        attempt = 0
        while True:
            try:
                response = self.transport.send(self.authenticated(request, self.auth))
            except TransportError as exc:
                wait = transport_retry_wait(request, exc, attempt, self.max_retries)
                if wait is None:
                    raise
                self._sleep(wait)
                attempt += 1
                continue
            if response.ok:
                return response
            if response.status == 401 and not reauthenticated and self.auth is not None and self.auth.on_unauthorized():
                response.close()
                reauthenticated = True
                continue
            wait = response_retry_wait(request, response, attempt, self.max_retries)
            if wait is None:
                raise error_from_response(response, request)
            response.close()
            self._sleep(wait)
            attempt += 1

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
        pairs = tuple(query.items()) if isinstance(query, Mapping) else query
        data = None if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        request = Request(
            method, path, query=pairs, body=data, accept=accept, content_type=content_type, timeout=timeout
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


def transport_retry_wait(request: Request, exc: TransportError, attempt: int, max_retries: int) -> float | None:
    """Seconds to wait before retrying after ``exc``, or ``None`` when it is final (shared by sync and async clients).

    client-go retries a lost connection for GET only, as a synthetic 500 with Retry-After: 1; refused connections,
    TLS failures, timeouts and cancellations are final.

    >>> transport_retry_wait(Request("GET", "/api"), TransportError("lost"), 0, 10)
    1.0
    >>> transport_retry_wait(Request("POST", "/api"), TransportError("lost"), 0, 10) is None
    True
    """
    final = (ConnectError, TLSError, TransportTimeout, RequestCancelled)
    if request.method != "GET" or request.expect == "stream" or isinstance(exc, final):
        return None
    if attempt >= max_retries:
        return None
    logger.debug("%s %s: %s, retrying in 1s", request.method, request.path, exc)
    return 1.0


def response_retry_wait(request: Request, response: Response, attempt: int, max_retries: int) -> int | None:
    """Seconds to wait before retrying an error answer, or ``None`` when it is final.

    429 and 5xx answers with an integer ``Retry-After`` are retried up to ``max_retries`` times (client-go
    ``rest/with_retry.go``).

    >>> response_retry_wait(Request("GET", "/api"), Response.from_bytes(429, b"", {"Retry-After": "2"}), 0, 10)
    2
    """
    wait = _retry_after(response)
    if wait is None or attempt >= max_retries or not (response.status == 429 or response.status >= 500):
        return None
    logger.debug("%s %s: %d, retrying in %ss", request.method, request.path, response.status, wait)
    return wait


def _retry_after(response: Response) -> int | None:
    value = response.headers.get("retry-after", "")
    return int(value) if value.isdigit() else None


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
    "APIClient",
    "decode_json",
    "error_from_response",
    "response_retry_wait",
    "transport_retry_wait",
    "with_query",
]
