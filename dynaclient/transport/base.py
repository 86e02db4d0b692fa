"""The one-method transport contract shared by the HTTP, kubectl-proxy and kubectl-raw transports."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dynaclient.exceptions import UnsupportedRequestError
from dynaclient.request import Request, Response

if TYPE_CHECKING:
    from dynaclient.transport.websocket import WebSocketConnection


class BaseTransport(abc.ABC):
    """Sends a :class:`Request` and returns a :class:`Response` once the status and headers are known.

    Transports do I/O only: authentication, retries, JSON decoding and Status-to-error mapping happen in
    :class:`~dynaclient.client.APIClient`, so every transport gets them. A transport raises only
    :class:`~dynaclient.exceptions.TransportError` subclasses, never its backend's exception types, and
    returns non-2xx responses as responses. It honours ``request.cancellation`` promptly, including while a
    streamed body is being read.

    Thread-safety: implementations must be thread-safe; one transport serves all threads of a client.
    """

    #: A short name for logs and auto-detection reports ("kubeconfig", "in-cluster", "kubectl-proxy", ...).
    name: str = "transport"

    @abc.abstractmethod
    def send(self, request: Request) -> Response:
        """Send ``request``; the body of the returned response may still be streaming.

        Raises:
            TransportError: no response could be obtained (connection, TLS, timeout, cancellation).
        """

    def open_websocket(self, request: Request, subprotocols: Sequence[str]) -> WebSocketConnection | Response:
        """Open a WebSocket for ``request`` (a GET: exec, attach, port-forward); a refused upgrade is returned.

        Args:
            request: the request; its ``timeout`` bounds the connection and the opening handshake.
            subprotocols: the subprotocols to offer, in preference order.

        Returns:
            The open connection, or the server's answer when it did not switch protocols (a ``Status`` body).

        Raises:
            UnsupportedRequestError: this transport cannot carry WebSockets.
            TransportError: no answer was obtained.
        """
        raise UnsupportedRequestError(f"the {self.name} transport cannot open WebSockets ({request.path})")

    def close(self) -> None:  # noqa: B027 - optional hook with a default no-op
        """Release pooled connections; the transport must not be used afterwards."""

    def __enter__(self) -> BaseTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
