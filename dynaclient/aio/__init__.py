"""The asyncio client: the same resource API as :class:`dynaclient.DynamicClient`, with coroutines.

Needs the ``async`` extra (``pip install 'dynaclient[async]'``, which brings aiohttp)::

    from dynaclient.aio import AsyncDynamicClient

    async with AsyncDynamicClient.from_kubeconfig() as client:
        configmaps = (await client.resource("configmaps")).namespace("default")
        async for configmap in configmaps.list():
            print(configmap["metadata"]["name"])

Request building, discovery and the RESTMapper, errors, selectors, auth and the list and watch decoders are the
synchronous client's; only the transport and the waiting differ.
"""

from __future__ import annotations

from dynaclient.aio.client import AsyncAPIClient, AsyncTransport
from dynaclient.aio.dynamic import AsyncDynamicClient, LoopBridgeTransport
from dynaclient.aio.listing import AsyncObjectList
from dynaclient.aio.resources import AsyncResourceClient
from dynaclient.aio.response import AsyncResponse
from dynaclient.aio.transport import AsyncHTTPTransport
from dynaclient.aio.watching import AsyncWatch

__all__ = [
    "AsyncAPIClient",
    "AsyncDynamicClient",
    "AsyncHTTPTransport",
    "AsyncObjectList",
    "AsyncResourceClient",
    "AsyncResponse",
    "AsyncTransport",
    "AsyncWatch",
    "LoopBridgeTransport",
]
