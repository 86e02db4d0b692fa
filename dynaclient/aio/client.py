"""AsyncAPIClient: the asyncio counterpart of :class:`~dynaclient.client.APIClient`, with the same policies.

Retries, re-authentication and error mapping are the synchronous client's own functions
(:func:`~dynaclient.client.transport_retry_wait`, :func:`~dynaclient.client.response_retry_wait`,
:func:`~dynaclient.client.error_from_response`); only the waiting and the I/O are asynchronous. Credentials come
from :meth:`~dynaclient.auth.base.AuthProvider.cached_headers` on the loop; when a plugin must run or a token
file be read, that happens in a worker thread, so the loop never blocks on them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, cast

from dynaclient._types import JSONObject
from dynaclient.aio.response import AsyncResponse
from dynaclient.auth.base import AuthProvider
from dynaclient.client import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_WAIT,
    APIClient,
    decode_json,
    error_from_response,
    response_retry_wait,
    transport_retry_wait,
)
from dynaclient.exceptions import TransportError, UnsupportedRequestError
from dynaclient.request import JSON_CONTENT_TYPE, Request, Response, json_request

if TYPE_CHECKING:
    from dynaclient.aio.streams.websocket import AsyncWebSocketConnection


class AsyncTransport(Protocol):
    """What :class:`AsyncAPIClient` sends through: :class:`~dynaclient.aio.transport.AsyncHTTPTransport`."""

    name: str

    async def send(self, request: Request) -> AsyncResponse:
        """Send ``request``; the body of the returned response may still be streaming."""
        ...

    async def aclose(self) -> None:
        """Release pooled connections."""
        ...


class AsyncAPIClient:
    """Sends requests through an async transport, adding authentication, retries and typed errors.

    Behaves as :class:`~dynaclient.client.APIClient` does (one retry after a 401 the credential could recover from,
    retries of 429/5xx with ``Retry-After`` and of lost GET connections, typed
    :class:`~dynaclient.exceptions.APIError` for every error Status), awaiting instead of blocking.

    Args:
        transport: how requests reach the server.
        auth: supplies credentials per request; ``None`` when the transport authenticates.
        namespace: the default namespace (from the kubeconfig context or the service account).
        max_retries: retries for throttled or failed requests.
        max_retry_wait: the longest ``Retry-After`` worth waiting for; a longer one fails at once.
        sleep: waits between retries (injectable for tests).

    Thread-safety: confined to one event loop (the auth provider itself is thread-safe).
    """

    def __init__(
        self,
        transport: AsyncTransport,
        *,
        auth: AuthProvider | None = None,
        namespace: str = "default",
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.transport = transport
        self.auth = auth
        self.namespace = namespace
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"<AsyncAPIClient transport={self.transport.name} namespace={self.namespace}>"

    async def __aenter__(self) -> AsyncAPIClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the transport's connections."""
        await self.transport.aclose()

    async def send(self, request: Request) -> AsyncResponse:
        """Send ``request`` and return the successful response (its body may still be streaming).

        Raises:
            APIError: the server answered with an error; the subclass follows the code and reason.
            TransportError: no response could be obtained.
        """
        reauthenticated = False
        attempt = 0
        while True:
            try:
                response = await self.transport.send(await self._authenticated(request))
            except TransportError as exc:
                wait: float | None = transport_retry_wait(request, exc, attempt, self.max_retries)
                if wait is None:
                    raise
                await self._sleep(wait)
                attempt += 1
                continue
            if response.ok:
                return response
            if response.status == 401 and not reauthenticated and await self._reauthenticate():
                await response.aclose()
                reauthenticated = True
                continue
            buffered = await response.buffered()
            wait = response_retry_wait(request, buffered, attempt, self.max_retries, self.max_retry_wait)
            if wait is None:
                raise error_from_response(buffered, request)
            await self._sleep(wait)
            attempt += 1

    async def open_websocket(self, request: Request, subprotocols: Sequence[str]) -> AsyncWebSocketConnection:
        """Open a WebSocket for ``request`` with the client's credentials; as :meth:`APIClient.open_websocket`.

        Raises:
            APIError: the server refused the upgrade; the subclass follows the code and reason.
            UnsupportedRequestError: the transport cannot carry WebSockets.
            TransportError: no answer was obtained.
        """
        open_websocket = getattr(self.transport, "open_websocket", None)
        if open_websocket is None:
            raise UnsupportedRequestError(f"{request.path}: the {self.transport.name} transport has no WebSockets")
        reauthenticated = False
        while True:
            answer = await open_websocket(await self._authenticated(request), subprotocols)
            if not isinstance(answer, Response):
                return cast("AsyncWebSocketConnection", answer)
            if answer.status == 401 and not reauthenticated and await self._reauthenticate():
                reauthenticated = True
                continue
            raise error_from_response(answer, request)

    async def request(
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
        return decode_json(await (await self.send(request)).read(), what=f"{method} {path}")

    async def _authenticated(self, request: Request) -> Request:
        auth = self.auth
        if auth is None:
            return request
        headers = auth.cached_headers()
        if headers is None:  # an exec plugin to run or a token file to read: off the loop
            headers = await asyncio.to_thread(auth.headers)
        return APIClient.authenticated(request, auth, headers)

    async def _reauthenticate(self) -> bool:
        auth = self.auth
        return auth is not None and await asyncio.to_thread(auth.on_unauthorized)


__all__ = ["AsyncAPIClient", "AsyncTransport"]
