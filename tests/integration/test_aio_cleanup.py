"""Closing the asyncio client leaves no aiohttp connection acquired, whatever was left open when it closed.

aiohttp's ``Connection.__del__`` warns "Unclosed connection" (a ``ResourceWarning``) when a connection is collected
while still acquired: a response neither read to its end nor closed. Such responses outlived the client when a watch
was left open, or a list abandoned while its next page was fetched ahead; the integration suite's loop thread was
closed without cancelling what ran on it, so they were collected at interpreter exit, in reference cycles whose
finalizers run in no set order. Closing the client now closes every response it handed out.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from typing import Any

from dynaclient.aio import AsyncDynamicClient, AsyncResourceClient, AsyncWatch
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster

LEFT_OPEN = 3


async def _configmaps(client: AsyncDynamicClient, namespace: str) -> tuple[AsyncResourceClient, str]:
    configmaps = (await client.resource("configmaps")).namespace(namespace)
    for index in range(LEFT_OPEN):
        await configmaps.create({"metadata": {"name": f"cm-{index}"}})
    return configmaps, (await configmaps.list_page(limit=1))["metadata"]["resourceVersion"]


async def _open_watches(kubeconfig: str, namespace: str) -> tuple[list[AsyncWatch[Any]], list[Any]]:
    """Open watches with a task waiting on each (no event comes), then leave the client's ``async with``."""
    async with AsyncDynamicClient.from_kubeconfig(kubeconfig) as client:
        configmaps, version = await _configmaps(client, namespace)
        watches = [await configmaps.watch(resource_version=version, timeout_seconds=60) for _ in range(LEFT_OPEN)]
        waiting = [asyncio.ensure_future(anext(watch)) for watch in watches]
        await asyncio.sleep(0)  # each task starts reading: it waits for the next chunk
    return watches, waiting


def test_closing_the_client_ends_its_open_watches_and_abandoned_lists(
    kube_apiserver: ControlPlane | ExistingCluster, namespace: str
) -> None:
    async def scenario() -> None:
        watches, waiting = await _open_watches(str(kube_apiserver.kubeconfig_path), namespace)
        assert [watch.closed for watch in watches] == [True] * LEFT_OPEN
        async with asyncio.timeout(30):
            ended = await asyncio.gather(*waiting, return_exceptions=True)
        assert all(isinstance(end, StopAsyncIteration) for end in ended), ended

        async with AsyncDynamicClient.from_kubeconfig(kube_apiserver.kubeconfig_path) as client:
            configmaps = (await client.resource("configmaps")).namespace(namespace)
            pages = [configmaps.list(limit=1).pages() for _ in range(LEFT_OPEN)]
            for page in pages:
                await anext(page)  # the first page; the second is being fetched ahead, in a task
        for page in pages:  # the ahead fetches ended when the client closed: closing the lists awaits them
            async with asyncio.timeout(30):
                await page.aclose()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(scenario())
        gc.collect()
    assert [str(warning.message) for warning in caught if issubclass(warning.category, ResourceWarning)] == []


def test_no_connection_is_left_acquired_when_the_loop_closes_after_the_client(
    kube_apiserver: ControlPlane | ExistingCluster, namespace: str
) -> None:
    loop = asyncio.new_event_loop()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        left_open = loop.run_until_complete(_open_watches(str(kube_apiserver.kubeconfig_path), namespace))
        loop.close()  # abruptly, tasks still pending, as a loop thread stopped at the end of a test session
        del left_open
        gc.collect()
    assert [str(warning.message) for warning in caught if issubclass(warning.category, ResourceWarning)] == []
