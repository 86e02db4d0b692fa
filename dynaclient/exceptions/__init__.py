"""Every error dynaclient raises, and the mapping from a Kubernetes ``Status`` to its error class.

The tree::

    DynaclientError(Exception)
    ├── ConfigError                                   kubeconfig / in-cluster settings are unusable
    │   ├── KubeconfigError                           names the file and the key (``users[0].user.token``)
    │   └── InClusterConfigError                      names the environment variable or file
    │   └── NoClientError                             auto-detection found no usable client; ``reasons`` says why
    ├── AuthError                                     credentials could not be obtained (exec plugin, token file)
    ├── TransportError                                no HTTP response was obtained
    │   ├── ConnectError                              connection refused, DNS, proxy, subprocess could not start
    │   ├── ConnectionLostError                       the connection broke before the response was complete
    │   ├── TLSError                                  certificate verification or handshake failed
    │   ├── TransportTimeout(TransportError, TimeoutError)
    │   ├── RequestCancelled                          the request was cancelled from another thread
    │   └── UnsupportedRequestError(TransportError, ValueError)   the transport cannot carry this request
    ├── APIError                                      the server answered with an error Status
    │   ├── BadRequestError            400
    │   ├── UnauthorizedError          401
    │   ├── ForbiddenError             403
    │   │   └── KubectlProxyRefusedError   ``kubectl proxy`` refuses exec and attach unless told otherwise
    │   ├── NotFoundError              404  (also a LookupError)
    │   ├── MethodNotAllowedError      405
    │   ├── ConflictError              409
    │   │   └── AlreadyExistsError     409, reason AlreadyExists
    │   ├── GoneError                  410, or reason Expired / Gone (drives a relist)
    │   ├── UnsupportedMediaTypeError  415
    │   ├── InvalidError               422, with ``causes``
    │   ├── TooManyRequestsError       429, with ``retry_after``
    │   └── ServerError                5xx
    ├── StreamError                                   a pod stream (logs, exec, attach, port-forward) failed
    │   ├── StreamClosedError                         the stream was closed, or the server dropped it
    │   ├── ExecError                                 the command could not be run; ``status`` says why
    │   ├── PortForwardError                          the pod could not connect to, or lost, the forwarded port
    │   └── PodNotRunningError                        the pod has no running container to stream from yet
    ├── DecodeError(DynaclientError, ValueError)      a body or watch frame that is not the JSON expected
    │   ├── ContinueTokenLoopError                    a list whose continue tokens go round in a loop
    │   └── WatchFrameTooLargeError                   a watch frame longer than the 16 MiB cap
    ├── GroupVersionError(DynaclientError, ValueError)   a group/version or resource string that does not parse
    ├── SelectorError(DynaclientError, ValueError)    a label or field selector (or a key or value) is invalid
    ├── ResourceRequestError(DynaclientError, ValueError)   a request cannot be built (bad name, options)
    │   └── NamespaceScopeError                       namespace given for a cluster-scoped resource, or missing
    ├── FieldTypeError(DynaclientError, TypeError)    a typed nested accessor met the wrong JSON type
    ├── MissingExtraError(DynaclientError, ImportError)   an optional feature's extra is not installed
    ├── DiscoveryError                                discovery failed or a resource cannot be resolved
    │   └── ResourceNotFoundError(DiscoveryError, LookupError)
    │       └── AmbiguousResourceError                several resources match; ``candidates`` lists them
    ├── WaitTimeoutError(DynaclientError, TimeoutError)   a wait ended before its condition held; ``last`` state
    ├── ObjectFailedError                             kstatus says an awaited object failed (it will not get ready)
    └── ManifestError(DynaclientError, ValueError)    a manifest cannot be loaded, resolved or applied; names the
                                                      file and the document

Messages start in lower case, state facts, and never contain a credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dynaclient._types import JSONObject


class DynaclientError(Exception):
    r"""Base class of every error raised by dynaclient and informers.

    Text in a message may come from a server, a kubeconfig or an exec plugin; its terminal control characters are
    escaped as kubectl escapes them (cli-runtime ``printers.EscapeTerminal``: ESC as ``^[``, CR as ``\r``), so an
    ANSI sequence in a plugin's ``installHint`` or a server's message cannot rewrite the user's terminal.

    Thread-safety: immutable once raised.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(escape_terminal(arg) if isinstance(arg, str) else arg for arg in args))


def escape_terminal(text: str) -> str:
    r"""Escape the terminal control characters kubectl escapes in what it prints (cli-runtime terminal.go).

    >>> escape_terminal("hint\x1b[2J\x1b[31mred\rover")
    'hint^[[2J^[[31mred\\rover'
    """
    return text.translate(_TERMINAL_ESCAPES)


_TERMINAL_ESCAPES = str.maketrans({"\x1b": "^[", "\r": "\\r"})


class ConfigError(DynaclientError):
    """The client configuration is missing, malformed or inconsistent."""


class KubeconfigError(ConfigError):
    """A kubeconfig file is malformed or inconsistent.

    Attributes:
        path: the file at fault, or ``None`` when the configuration did not come from a file.
        key: the key path inside the file, for example ``users[0].user.client-key-data``.
    """

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        self.path = path
        self.key = key
        where = ": ".join(part for part in (path, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class InClusterConfigError(ConfigError):
    """The pod's service-account environment or files are missing or unreadable."""


class NoClientError(ConfigError):
    """No auto-detection candidate could reach the API server.

    Attributes:
        reasons: why each candidate failed, by candidate name (``in-cluster``, ``kubeconfig``, ...).
    """

    def __init__(self, reasons: dict[str, str]) -> None:
        self.reasons = reasons
        lines = "\n".join(f"- {name}: {reason}" for name, reason in reasons.items())
        super().__init__(f"failed to load any Kubernetes client:\n{lines}")


class AuthError(DynaclientError):
    """Credentials could not be obtained (exec plugin failed, token file unreadable, OIDC refresh failed)."""


class TransportError(DynaclientError):
    """No HTTP response was obtained from the server."""


class ConnectError(TransportError):
    """The server could not be reached (refused, unresolvable, proxy failure, kubectl missing)."""


class ConnectionLostError(TransportError):
    """The connection was lost before the whole response arrived; a GET is retried, as client-go does."""


class TLSError(TransportError):
    """The TLS handshake or certificate verification failed."""


class TransportTimeout(TransportError, TimeoutError):
    """The request did not complete within its timeout."""


class RequestCancelled(TransportError):
    """The request was cancelled through its :class:`~dynaclient.request.Cancellation`."""


class UnsupportedRequestError(TransportError, ValueError):
    """The transport cannot carry this request (for example an apply patch through ``kubectl --raw``)."""


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


class StreamError(DynaclientError):
    """A pod stream (logs, exec, attach or port-forward) failed after the server accepted it."""


class StreamClosedError(StreamError):
    """The stream was closed by :meth:`close`, or the server or network dropped its connection."""


class ExecError(StreamError):
    """The command of an exec (or an attach) could not be run; a non-zero exit is a result, not this error.

    Attributes:
        status: the ``Status`` the server sent on the error channel (``reason`` ``InternalError`` when the
            command could not start), or ``{}`` when the server sent none.
    """

    def __init__(self, message: str, *, status: JSONObject | None = None) -> None:
        self.status: JSONObject = status or {}
        super().__init__(message)


class PortForwardError(StreamError):
    """The pod side of a forwarded port failed: nothing listens on it, or the connection to it broke."""


class PodNotRunningError(StreamError):
    """The pod has no running container to stream from yet (not scheduled, or its container is waiting)."""


class DecodeError(DynaclientError, ValueError):
    """A response body or watch frame was not the JSON that was expected."""


class ContinueTokenLoopError(DecodeError):
    """A paginated list got a continue token it had already followed: the server's pages go round in a loop."""


class WatchFrameTooLargeError(DecodeError):
    """A watch frame grew past the size cap without ending (client-go's framer refuses frames over 16 MiB).

    Attributes:
        limit: the cap in bytes.
    """

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class GroupVersionError(DynaclientError, ValueError):
    """A string could not be parsed as a group/version or a fully qualified resource."""


class SelectorError(DynaclientError, ValueError):
    """A label or field selector, or one of its keys or values, is invalid."""


class ResourceRequestError(DynaclientError, ValueError):
    """A request cannot be built: a bad name, namespace or subresource, a missing name, or conflicting options."""


class NamespaceScopeError(ResourceRequestError):
    """A namespace was given for a cluster-scoped resource, or is missing for one object of a namespaced one."""


class MissingExtraError(DynaclientError, ImportError):
    """An optional feature was used without the extra that installs its dependency.

    The message is one line naming the feature, the extra and the ``pip install`` command. It is an
    ``ImportError`` too, so code that already catches a failed import catches it.

    Attributes:
        extra: the extra to install, for example ``"testing"``.
        module: the missing top-level module, for example ``"cryptography"``.
    """

    def __init__(self, message: str, *, extra: str, module: str) -> None:
        super().__init__(message)
        self.extra = extra
        self.module = module


class FieldTypeError(DynaclientError, TypeError):
    """A typed nested accessor found a value of the wrong JSON type.

    Attributes:
        path: the JSON path that was read, for example ``.spec.replicas``.
    """

    def __init__(self, message: str, *, path: str) -> None:
        self.path = path
        super().__init__(message)


class OwnerReferenceError(DynaclientError, ValueError):
    """An owner reference cannot be set or removed: the owner is in another scope, incomplete, or not referenced."""


class AlreadyOwnedError(OwnerReferenceError):
    """The object already has another controller (controller-runtime ``AlreadyOwnedError``).

    Attributes:
        owner: the controller reference the object already has.
    """

    def __init__(self, message: str, *, owner: JSONObject) -> None:
        self.owner = owner
        super().__init__(message)


class DiscoveryError(DynaclientError):
    """Discovery failed, or a resource name could not be resolved."""


class ResourceNotFoundError(DiscoveryError, LookupError):
    """No resource served by the server matches the given kind, plural, singular or short name."""


class AmbiguousResourceError(ResourceNotFoundError):
    """Several resources match; ``candidates`` lists them so the caller can qualify the name.

    Attributes:
        candidates: the matching resources, as ``resource.version.group`` strings.
    """

    def __init__(self, message: str, *, candidates: list[str]) -> None:
        self.candidates = candidates
        super().__init__(f"{message}: candidates are {', '.join(candidates)}")


class WaitTimeoutError(DynaclientError, TimeoutError):
    """A wait ended before its condition held.

    Attributes:
        last: the last state seen of the object (``None``: it did not exist).
    """

    def __init__(self, message: str, *, last: JSONObject | None) -> None:
        self.last = last
        super().__init__(message)


class ObjectFailedError(DynaclientError):
    """An awaited object reached a state kstatus calls Failed (a Job failed, a rollout exceeded its deadline).

    Attributes:
        object: the object in that state.
    """

    def __init__(self, message: str, *, obj: JSONObject) -> None:
        self.object = obj
        super().__init__(message)


class ManifestError(DynaclientError, ValueError):
    """A manifest cannot be loaded, resolved or applied; the message names the file and the document.

    When the server refused the object, ``__cause__`` is its :class:`APIError`.

    Attributes:
        source: the file (or ``<string>``, ``<stdin>``) the object came from.
        document: the 1-based index of the YAML document in that source (0 when the whole source is at fault).
        line: the 1-based line where the document (or the syntax error) is, when known, else 0.
    """

    def __init__(self, message: str, *, source: str, document: int = 0, line: int = 0) -> None:
        self.source = source
        self.document = document
        self.line = line
        where = f"{source} document {document}" if document else source
        at = f" (line {line})" if line else ""
        super().__init__(f"{where}{at}: {message}")


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


__all__ = [
    "APIError",
    "AlreadyExistsError",
    "AlreadyOwnedError",
    "AmbiguousResourceError",
    "AuthError",
    "BadRequestError",
    "ConfigError",
    "ConflictError",
    "ConnectError",
    "DecodeError",
    "DiscoveryError",
    "DynaclientError",
    "ExecError",
    "FieldTypeError",
    "ForbiddenError",
    "GoneError",
    "GroupVersionError",
    "InClusterConfigError",
    "InvalidError",
    "KubeconfigError",
    "KubectlProxyRefusedError",
    "ManifestError",
    "MethodNotAllowedError",
    "NamespaceScopeError",
    "NoClientError",
    "NotFoundError",
    "ObjectFailedError",
    "OwnerReferenceError",
    "PodNotRunningError",
    "PortForwardError",
    "RequestCancelled",
    "ResourceNotFoundError",
    "ResourceRequestError",
    "SelectorError",
    "ServerError",
    "StreamClosedError",
    "StreamError",
    "TLSError",
    "TooManyRequestsError",
    "TransportError",
    "TransportTimeout",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
    "UnsupportedRequestError",
    "WaitTimeoutError",
    "WatchFrameTooLargeError",
    "api_error_from_status",
    "error_class_for",
]
