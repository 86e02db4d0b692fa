"""The asyncio client on one event loop: a thousand open watches without a thread each, and a loop never blocked.

These run on their own loop (``asyncio.run``) against the session's control plane; the shared scenarios of
test_dynamic.py and test_informers.py cover behaviour.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
from typing import Any

import pytest

from dynaclient.aio import AsyncDynamicClient, AsyncResourceClient, AsyncWatch
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster
from informers.aio import AsyncSharedInformerFactory
from tests.loop_blocking import LoopBlockingMonitor

WATCHES = 1000
SLOW_CALLBACK = 0.05


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def _next_event(watch: AsyncWatch[Any]) -> str:
    async for event in watch:
        return str(event.object["metadata"]["name"])
    return ""


def test_a_thousand_watches_share_one_loop_without_a_thread_each(
    kube_apiserver: ControlPlane | ExistingCluster, namespace: str
) -> None:
    async def scenario() -> tuple[int, int, int]:
        async with AsyncDynamicClient.from_kubeconfig(kube_apiserver.kubeconfig_path) as client:
            configmaps: AsyncResourceClient = (await client.resource("configmaps")).namespace(namespace)
            resource_version = (await configmaps.list_page(limit=1))["metadata"]["resourceVersion"]
            await configmaps.list_page(limit=1)  # the pool, TLS and discovery are warm before counting
            threads_before, rss_before = threading.active_count(), _rss_bytes()
            opening = [configmaps.watch(resource_version=resource_version, timeout_seconds=120) for _ in range(WATCHES)]
            watches = await asyncio.gather(*opening)
            threads_open, rss_open = threading.active_count(), _rss_bytes()
            readers = [asyncio.create_task(_next_event(watch)) for watch in watches]
            await configmaps.create({"metadata": {"name": "seen-by-all"}})
            async with asyncio.timeout(60):
                names = await asyncio.gather(*readers)
            assert names == ["seen-by-all"] * WATCHES
            for watch in watches:
                watch.close()
            assert all(watch.closed for watch in watches)
            return threads_open - threads_before, rss_open - rss_before, threads_open

    extra_threads, rss_growth, threads = asyncio.run(scenario())
    logging.getLogger(__name__).warning(
        f"{WATCHES} watches: {extra_threads} more threads ({threads} in all), {rss_growth / WATCHES:.0f} B RSS each"
    )
    assert extra_threads == 0, "a watch must not take a thread"
    # Most of it is asyncio's own read buffer of each TLS connection (sslproto ``SSLProtocol.max_size``, 256 KiB).
    assert rss_growth / WATCHES < 1024 * 1024, "an open watch should cost well under 1 MiB"


class _SlowCallbackLog(logging.Handler):
    """What asyncio's debug mode logs: callbacks slow on the wall clock (shown, not judged: see tests/loop_blocking).

    Thread-safety: as logging's handlers (called under the handler's lock).
    """

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "took" in record.getMessage() and record.name == "asyncio":
            self.messages.append(record.getMessage())


async def _create_configmaps(kubeconfig: str, namespace: str, count: int) -> None:
    async with AsyncDynamicClient.from_kubeconfig(kubeconfig) as client:
        configmaps = (await client.resource("configmaps")).namespace(namespace)
        pending = asyncio.Semaphore(32)

        async def create(index: int) -> None:
            async with pending:
                await configmaps.create({"metadata": {"name": f"cm-{index:05d}"}, "data": {"i": str(index)}})

        await asyncio.gather(*(create(index) for index in range(count)))


# 10,000 is the figure; creating them takes about a minute of both cores, so it runs under -m slow. 1,000 in
# every run keeps the check (same pages of 500, same informer sync path) at a few seconds.
@pytest.mark.timeout(600)
@pytest.mark.parametrize("count", [1_000, pytest.param(10_000, marks=pytest.mark.slow)])
def test_listing_and_syncing_configmaps_never_blocks_the_loop_for_50_ms(
    kube_apiserver: ControlPlane | ExistingCluster, namespace: str, count: int
) -> None:
    kubeconfig = str(kube_apiserver.kubeconfig_path)
    asyncio.run(_create_configmaps(kubeconfig, namespace, count))  # the fixture, not judged
    debug_log, monitor = _SlowCallbackLog(), LoopBlockingMonitor(threshold=SLOW_CALLBACK)
    logging.getLogger("asyncio").addHandler(debug_log)

    async def scenario() -> tuple[int, int]:
        asyncio.get_running_loop().slow_callback_duration = SLOW_CALLBACK
        async with AsyncDynamicClient.from_kubeconfig(kubeconfig) as client:
            configmaps = (await client.resource("configmaps")).namespace(namespace)
            listed = [item async for item in configmaps.list()]
            async with AsyncSharedInformerFactory(client, namespace=namespace) as factory:
                informer = await factory.for_resource("configmaps")
                factory.start()
                assert all((await factory.wait_for_cache_sync(timeout=120)).values())
                return len(listed), len(informer.store)

    # The test process's own heap (pytest, every imported module, earlier fixtures: some 80,000 tracked objects) is
    # frozen out of the collector first. A full collection walks all of it, 50-85 ms on these cores, and one falling
    # inside the scenario held the loop (or the GIL, from a worker thread) for that long: the process's size, not
    # the client's work. An application does the same after start-up (gc.freeze). What the scenario allocates is
    # still collected, and its collections still count.
    gc.collect()
    gc.freeze()
    try:
        with monitor.watch():
            assert asyncio.run(scenario(), debug=True) == (count, count)
    finally:
        gc.unfreeze()
        logging.getLogger("asyncio").removeHandler(debug_log)
    logging.getLogger(__name__).warning(
        f"{count} ConfigMaps: {monitor.callbacks} callbacks, longest held {monitor.longest_held * 1e3:.1f} ms;"
        f" {len(debug_log.messages)} logged slow by debug mode (wall clock), {len(monitor.preempted)} of them only"
        f" from waiting for a CPU"
    )
    assert monitor.callbacks > 20, "the monitor saw no callbacks: it measured nothing"
    assert not monitor.blocking, "callbacks held the loop:\n" + "\n".join(map(str, monitor.blocking))
