"""The errors the API server answers with (an error ``Status``), and the mapping from a ``Status`` to its class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dynaclient._types import JSONObject
from dynaclient.exceptions._base import DynaclientError


class APIError(DynaclientError):
    """The API server answered with an error ``Status``.

    Attributes:
        status: the ``Status`` object as sent by the server (or synthesised from a non-JSON body).
        code: the HTTP status code.
        reason: the Status ``reason`` (``NotFound``, ``AlreadyExists``, ``Expired``...), possibly empty.
        details: the Status ``details`` dict (name, group, kind, causes), possibly empty.
        method: the HTTP method of the failed request, when known.
        path: the request path (no query string, so no secret), when known.
    """

    def __init__(self, status: JSONObject, *, code: int, method: str | None = None, path: str | None = None):
        self.status = status
        self.code = code
        self.reason: str = str(status.get("reason") or "")
        details = status.get("details")
        self.details: JSONObject = details if isinstance(details, dict) else {}
        self.method = method
        self.path = path
        message = str(status.get("message") or self.reason or f"HTTP {code}")
        request = f" ({method} {path})" if method and path else ""
        super().__init__(f"{code} {self.reason or 'Error'}: {message}{request}")

    @property
    def message(self) -> str:
        """The server's human-readable message."""
        return str(self.status.get("message") or "")


class BadRequestError(APIError):
    """HTTP 400: the request was malformed."""


class UnauthorizedError(APIError):
    """HTTP 401: the credentials were missing, expired or rejected."""


class ForbiddenError(APIError):
    """HTTP 403: the user is not allowed to do this."""


class KubectlProxyRefusedError(ForbiddenError):
    """``kubectl proxy`` refused the request itself (exec and attach, by its default ``--reject-paths``)."""


class NotFoundError(APIError, LookupError):
    """HTTP 404: the object or resource does not exist."""


class MethodNotAllowedError(APIError):
    """HTTP 405: the resource does not support this verb."""


class ConflictError(APIError):
    """HTTP 409: a stale resourceVersion, or a server-side apply field-manager conflict."""


class AlreadyExistsError(ConflictError):
    """HTTP 409 with reason ``AlreadyExists``: create of an object that exists."""


class GoneError(APIError):
    """HTTP 410 or reason ``Expired``/``Gone``: the resourceVersion or continue token is too old.

    Informers relist when they see it.
    """


class UnsupportedMediaTypeError(APIError):
    """HTTP 415: for example a strategic merge patch sent to a custom resource."""


class InvalidError(APIError):
    """HTTP 422: the object failed validation.

    Attributes:
        causes: the Status ``details.causes`` list (each with ``field``, ``reason``, ``message``).
    """

    @property
    def causes(self) -> list[JSONObject]:
        """The validation causes the server reported."""
        causes = self.details.get("causes")
        return [c for c in causes if isinstance(c, dict)] if isinstance(causes, list) else []


class TooManyRequestsError(APIError):
    """HTTP 429: the server asks the client to slow down.

    Attributes:
        retry_after: seconds the server asked to wait (``Retry-After`` header or ``details.retryAfterSeconds``).
    """

    def __init__(
        self,
        status: JSONObject,
        *,
        code: int,
        method: str | None = None,
        path: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, code=code, method=method, path=path)
        seconds = self.details.get("retryAfterSeconds")
        self.retry_after = retry_after if retry_after is not None else _as_float(seconds)


class ServerError(APIError):
    """HTTP 5xx: the server failed (includes timeouts reported by the server)."""


_BY_CODE: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    409: ConflictError,
    410: GoneError,
    415: UnsupportedMediaTypeError,
    422: InvalidError,
    429: TooManyRequestsError,
}

# Reasons that choose a class whatever the code. "Expired" arrives as 410 from current servers but as a
# watch ERROR frame with code 410 or (Kubernetes 1.17 and earlier) 500 "too old resource version"; client-go's
# apierrors.IsResourceExpired / IsGone test the reason, and so do we.
_BY_REASON: dict[str, type[APIError]] = {
    "AlreadyExists": AlreadyExistsError,
    "Expired": GoneError,
    "Gone": GoneError,
}


def error_class_for(code: int, reason: str = "") -> type[APIError]:
    """Return the error class for an HTTP status code and Status reason.

    >>> error_class_for(404).__name__
    'NotFoundError'
    >>> error_class_for(409, "AlreadyExists").__name__
    'AlreadyExistsError'
    >>> error_class_for(503).__name__
    'ServerError'
    """
    if reason in _BY_REASON:
        return _BY_REASON[reason]
    if code in _BY_CODE:
        return _BY_CODE[code]
    return ServerError if code >= 500 else APIError


def api_error_from_status(
    status: JSONObject,
    *,
    code: int | None = None,
    method: str | None = None,
    path: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> APIError:
    """Build the typed error for a ``Status`` object (an error response or a watch ``ERROR`` frame).

    Args:
        status: the decoded Status.
        code: the HTTP status code; defaults to the Status ``code`` field.
        method: the request method, for the message.
        path: the request path, for the message.
        headers: response headers, for ``Retry-After``.

    Returns:
        The most specific :class:`APIError` subclass, not raised.

    >>> err = api_error_from_status({"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"})
    >>> type(err).__name__, err.code
    ('GoneError', 410)
    """
    if code is None:
        code = _as_int(status.get("code")) or 500
    cls = error_class_for(code, str(status.get("reason") or ""))
    if cls is TooManyRequestsError:
        retry = _as_float((headers or {}).get("retry-after"))
        return TooManyRequestsError(status, code=code, method=method, path=path, retry_after=retry)
    return cls(status, code=code, method=method, path=path)


def _as_float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
