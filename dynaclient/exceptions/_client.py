"""Errors of configuring, authenticating, connecting and streaming: no usable answer came from the server."""

from __future__ import annotations

from dynaclient._types import JSONObject
from dynaclient.exceptions._base import DynaclientError


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
