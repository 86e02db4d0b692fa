"""AsyncDynamicClient: resolves resources through the same discovery and RESTMapper, hands out async verbs.

Discovery is :class:`~dynaclient.discovery.discovery.Discovery` itself, with its memory and disk caches and its
RESTMapper: its fetches run in a worker thread (:func:`asyncio.to_thread`) and send their requests back through
this loop's transport (:class:`LoopBridgeTransport`), so nothing of discovery is written twice and the loop never
waits on its disk cache. Resolving a name is therefore a coroutine: ``pods = await client.resource("pods")``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any, overload

from dynaclient._types import JSONObject
from dynaclient.aio.client import AsyncAPIClient, AsyncTransport
from dynaclient.aio.resources import AsyncResourceClient
from dynaclient.aio.transport import AsyncHTTPTransport
from dynaclient.client import APIClient
from dynaclient.config import ClientConfig, load_kubeconfig
from dynaclient.connect import transport_options
from dynaclient.discovery.discovery import APIResource, Discovery
from dynaclient.discovery.restmapper import RESTMapper
from dynaclient.exceptions import TransportError
from dynaclient.request import JSON_CONTENT_TYPE, Request, Response
from dynaclient.resources.client import DEFAULT_TIMEOUT
from dynaclient.resources.dynamic import ResourceMapper, ResourceName, TypedObject
from dynaclient.transport.base import BaseTransport


class LoopBridgeTransport(BaseTransport):
    """A synchronous transport for worker threads that sends through an async transport on its event loop.

    Discovery (and anything else written against :class:`~dynaclient.client.APIClient`) runs in a worker thread
    with this transport; each request is handed to the loop and its buffered response returned to the thread.

    Thread-safety: thread-safe; must not be called from the loop's own thread (it would wait on itself).
    """

    def __init__(self, transport: AsyncTransport, *, server: str | None = None) -> None:
        self._transport = transport
        self.name = transport.name
        self.server = server
        self.loop: asyncio.AbstractEventLoop | None = None

    def send(self, request: Request) -> Response:
        """Send ``request`` on the loop and wait for its whole response; see :meth:`BaseTransport.send`."""
        if self.loop is None:
            raise TransportError(f"{request.method} {request.path}: no event loop to send through")
        return asyncio.run_coroutine_threadsafe(self._send(request), self.loop).result()

    async def _send(self, request: Request) -> Response:
        return await (await self._transport.send(request)).buffered()


class AsyncDynamicClient:
    """The asyncio entry point: ``await (await client.resource("deployments.apps")).namespace("prod").get("web")``.

    Use it as ``async with AsyncDynamicClient.from_kubeconfig() as client:`` so its connections are closed.

    Args:
        api_client: sends the requests.
        mapper: resolves resource names; by default a :class:`~dynaclient.discovery.restmapper.RESTMapper` over
            :class:`~dynaclient.discovery.discovery.Discovery` (default caches), fetched on first use.
        timeout: the default response timeout of every resource client (watches excepted).

    Attributes:
        bridge: the transport through which discovery, in a worker thread, sends its requests on this loop (give it
            to an :class:`~dynaclient.client.APIClient` to build another mapper, for example without a disk cache).

    Thread-safety: confined to one event loop.
    """

    def __init__(
        self,
        api_client: AsyncAPIClient,
        mapper: ResourceMapper | None = None,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        self.api_client = api_client
        self.timeout = timeout
        self.bridge = LoopBridgeTransport(api_client.transport, server=getattr(api_client.transport, "server", None))
        self.mapper: ResourceMapper = mapper or RESTMapper(Discovery(APIClient(self.bridge, auth=api_client.auth)))

    @classmethod
    def from_config(cls, config: ClientConfig, *, name: str = "kubeconfig") -> AsyncDynamicClient:
        """Build a client for a loaded configuration (see :func:`dynaclient.config.load_kubeconfig`)."""
        options = transport_options(config)
        ready = config.auth.client_certificate_ready
        transport = AsyncHTTPTransport(config.server, **options, certificate_ready=ready, name=name)
        return cls(AsyncAPIClient(transport, auth=config.auth, namespace=config.namespace))

    @classmethod
    def from_kubeconfig(
        cls, path: str | os.PathLike[str] | None = None, context: str | None = None
    ) -> AsyncDynamicClient:
        """Build a client for a kubeconfig context (default: ``KUBECONFIG`` or ``~/.kube/config``, current context).

        The kubeconfig is read here, once; no connection is made until the first request.

        Raises:
            KubeconfigError: the kubeconfig is missing, malformed or inconsistent.
        """
        return cls.from_config(load_kubeconfig(path, context))

    def __repr__(self) -> str:
        return f"<AsyncDynamicClient {self.api_client!r}>"

    @property
    def namespace(self) -> str:
        """The default namespace of the configuration."""
        return self.api_client.namespace

    @overload
    async def resource(self, resource: ResourceName) -> AsyncResourceClient: ...

    @overload
    async def resource(
        self, resource: ResourceName, object_type: type[TypedObject]
    ) -> AsyncResourceClient[TypedObject]: ...

    async def resource(self, resource: ResourceName, object_type: object = None) -> AsyncResourceClient[Any]:
        """Return the verbs of ``resource`` (see ``DynamicClient.resource``); discovery runs off the loop.

        Raises:
            ResourceNotFoundError: the server serves nothing by that name.
            AmbiguousResourceError: several served resources match.
        """
        if isinstance(resource, APIResource):
            api_resource = resource
        else:
            self.bridge.loop = asyncio.get_running_loop()
            api_resource = await asyncio.to_thread(self.mapper.resource_for, resource)
        return AsyncResourceClient(self.api_client, api_resource, timeout=self.timeout)

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | tuple[tuple[str, str], ...] = (),
        body: object = None,
        content_type: str | None = None,
        accept: str = JSON_CONTENT_TYPE,
    ) -> JSONObject:
        """Send a raw request and return the decoded JSON answer."""
        return await self.api_client.request(
            method, path, query=query, body=body, content_type=content_type, accept=accept, timeout=self.timeout
        )

    async def aclose(self) -> None:
        """Close the connections."""
        await self.api_client.aclose()

    async def __aenter__(self) -> AsyncDynamicClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


__all__ = ["AsyncDynamicClient", "LoopBridgeTransport"]
