"""What a reflector makes of a failure: relist, resume the watch, fall back from streaming lists, or wait.

Predicates over the typed errors of :mod:`dynaclient.exceptions`, after client-go tools/cache/reflector.go
(``isExpiredError``, ``isTooLargeResourceVersionError``, ``isWatchErrorRetriable``), plus the
:class:`ReflectorError` a reflector records for failures that are neither API nor transport errors.
"""

from __future__ import annotations

from dynaclient import (
    APIError,
    BadRequestError,
    ForbiddenError,
    GoneError,
    InvalidError,
    MethodNotAllowedError,
    TooManyRequestsError,
    TransportError,
    UnsupportedRequestError,
)
from informers.exceptions import InformerError

_GONE = 410
_TOO_LARGE_MESSAGE = "Too large resource version"


class ReflectorError(InformerError):
    """A reflector failure that is not an API or transport error.

    A stalled or very short watch, a list without a resourceVersion, a streaming list cut short. The reflector
    records it in its status and log, then recovers; it is never raised to callers.

    Thread-safety: immutable once raised.
    """


def resource_version_unavailable(error: Exception) -> bool:
    """Return whether ``error`` says the requested resourceVersion is expired or too large, so a list must restart.

    Expired: reason ``Expired`` or ``Gone``, or code 410 (``isExpiredError``; servers up to 1.17 used ``Gone``).
    Too large: a cause of type ``ResourceVersionTooLarge``, or from servers before 1.18.6 a ``Timeout`` whose
    cause or message says "Too large resource version" (``isTooLargeResourceVersionError``).

    >>> from dynaclient import ServerError
    >>> resource_version_unavailable(GoneError({"reason": "Expired"}, code=410))
    True
    >>> too_large = {"reason": "Timeout", "details": {"causes": [{"type": "ResourceVersionTooLarge"}]}}
    >>> resource_version_unavailable(ServerError(too_large, code=504))
    True
    >>> resource_version_unavailable(ServerError({"reason": "Timeout", "message": "slow"}, code=504))
    False
    """
    if not isinstance(error, APIError):
        return False
    if isinstance(error, GoneError) or error.code == _GONE:
        return True
    causes = error.details.get("causes")
    causes = [cause for cause in causes if isinstance(cause, dict)] if isinstance(causes, list) else []
    if any(cause.get("type") == "ResourceVersionTooLarge" for cause in causes):
        return True
    if error.reason != "Timeout":
        return False
    return any(cause.get("message") == _TOO_LARGE_MESSAGE for cause in causes) or _TOO_LARGE_MESSAGE in error.message


def watch_retriable(error: Exception) -> bool:
    """Return whether a watch that failed with ``error`` should be resumed after a backoff, without a relist.

    client-go ``isWatchErrorRetriable`` names connection refused and 429: "it doesn't make sense to re-list all
    objects because most likely we will be able to restart watch where we ended". Every
    :class:`~dynaclient.TransportError` qualifies here: without a response nothing was learnt about the
    resourceVersion, and if it has expired meanwhile the resumed watch says so with a 410.

    >>> from dynaclient import ConnectError, ServerError
    >>> watch_retriable(ConnectError("connection refused")), watch_retriable(ServerError({}, code=500))
    (True, False)
    """
    return isinstance(error, TransportError | TooManyRequestsError)


def streaming_list_unsupported(error: Exception) -> bool:
    """Return whether ``error`` says the server (or the transport) cannot serve a streaming list.

    A server that predates ``sendInitialEvents`` or ``resourceVersionMatch`` on watches rejects them with 400 or
    422; 403 and 405 come from proxies and aggregated servers that refuse the request; a transport may not carry it.

    >>> streaming_list_unsupported(InvalidError({"reason": "Invalid"}, code=422))
    True
    """
    unsupported = BadRequestError | InvalidError | ForbiddenError | MethodNotAllowedError | UnsupportedRequestError
    return isinstance(error, unsupported)


def minimum_delay(error: Exception) -> float:
    """Return the shortest backoff the server asked for with ``error`` (a 429's ``Retry-After``), else ``0``.

    >>> minimum_delay(TooManyRequestsError({}, code=429, retry_after=5.0))
    5.0
    """
    if isinstance(error, TooManyRequestsError) and error.retry_after is not None:
        return max(error.retry_after, 0.0)
    return 0.0


def describe_error(error: BaseException) -> str:
    """Return ``error`` as ``"Type: message"`` for status and logs.

    dynaclient's messages carry no credentials and no query strings, so they are shown whole.

    >>> describe_error(ReflectorError("the list came without a resourceVersion"))
    'ReflectorError: the list came without a resourceVersion'
    """
    return f"{type(error).__name__}: {error}"


__all__ = [
    "ReflectorError",
    "describe_error",
    "minimum_delay",
    "resource_version_unavailable",
    "streaming_list_unsupported",
    "watch_retriable",
]
