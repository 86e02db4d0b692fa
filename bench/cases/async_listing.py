"""P1 on an event loop: the 10,000-object list through asyncio clients, and the raw limits of aiohttp and httpx.

The raw cases fetch the same pages of 500 with nothing but the HTTP library and ``json.loads``: they chose the
transport of ``dynaclient[async]`` (aiohttp vs httpx). The peers are lightkube's ``AsyncClient`` (httpx, pages of
500) and kr8s's asyncio API (httpx, its fixed pages of 100). Every case warms its client first, as in
:mod:`bench.cases.listing`, and runs its loop with ``asyncio.Runner`` so the timed part is the list alone.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bench.cases.listing import PAGE, _dict_name, _measure, _model_name
from bench.measure import Metrics, case_main, current_rss_bytes, expect_count, peak_rss_bytes, timed
from bench.peers import peer
from bench.target import ID_LABEL, RESOURCE, BenchTarget


def _ssl_context(target: BenchTarget) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=target.ca_path)
    context.load_cert_chain(target.cert_path, target.key_path)
    return context


def _run_measure(
    target: BenchTarget,
    runner: asyncio.Runner,
    list_all: Callable[[], Coroutine[Any, Any, list[Any]]],
    name: Callable[[Any], str],
) -> Metrics:
    return _measure(target, lambda: runner.run(list_all()), name)


async def _follow_pages(fetch: Callable[[str | None], Awaitable[tuple[list[Any], str | None]]]) -> list[Any]:
    items: list[Any] = []
    token: str | None = None
    while True:
        page, token = await fetch(token)
        items.extend(page)
        if not token:
            return items


def dynaclient_async_list(target: BenchTarget) -> Metrics:
    from dynaclient.aio import AsyncDynamicClient

    with asyncio.Runner() as runner:
        client = AsyncDynamicClient.from_kubeconfig(target.kubeconfig)
        configmaps = runner.run(client.resource(RESOURCE)).namespace(target.namespace)
        runner.run(configmaps.list_page(limit=1))

        async def list_all() -> list[Any]:
            return [item async for item in configmaps.list(limit=PAGE)]

        metrics = _run_measure(target, runner, list_all, _dict_name)
        runner.run(client.aclose())
    return metrics


def raw_aiohttp_list(target: BenchTarget) -> Metrics:
    import aiohttp

    url = f"{target.server}/api/v1/namespaces/{target.namespace}/{RESOURCE}"
    with asyncio.Runner() as runner:

        async def open_session() -> aiohttp.ClientSession:
            return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=_ssl_context(target)))

        session = runner.run(open_session())

        async def page(params: dict[str, str]) -> dict[str, Any]:
            async with session.get(url, params=params) as response:
                response.raise_for_status()
                decoded: dict[str, Any] = json.loads(await response.read())
                return decoded

        async def fetch(token: str | None) -> tuple[list[Any], str | None]:
            decoded = await page({"limit": str(PAGE), "continue": token} if token else {"limit": str(PAGE)})
            return decoded["items"], decoded["metadata"].get("continue")

        runner.run(page({"limit": "1"}))
        metrics = _run_measure(target, runner, lambda: _follow_pages(fetch), _dict_name)
        runner.run(session.close())
    return metrics


def raw_httpx_list(target: BenchTarget) -> Metrics:
    httpx = peer("httpx")
    url = f"{target.server}/api/v1/namespaces/{target.namespace}/{RESOURCE}"
    with asyncio.Runner() as runner:
        client = httpx.AsyncClient(verify=_ssl_context(target), timeout=60)

        async def page(params: dict[str, str]) -> dict[str, Any]:
            response = await client.get(url, params=params)
            response.raise_for_status()
            decoded: dict[str, Any] = json.loads(response.content)
            return decoded

        async def fetch(token: str | None) -> tuple[list[Any], str | None]:
            decoded = await page({"limit": str(PAGE), "continue": token} if token else {"limit": str(PAGE)})
            return decoded["items"], decoded["metadata"].get("continue")

        runner.run(page({"limit": "1"}))
        metrics = _run_measure(target, runner, lambda: _follow_pages(fetch), _dict_name)
        runner.run(client.aclose())
    return metrics


def lightkube_async_list(target: BenchTarget) -> Metrics:
    lightkube = peer("lightkube")
    config_map = peer("lightkube.resources.core_v1").ConfigMap
    with asyncio.Runner() as runner:
        client = lightkube.AsyncClient(config=lightkube.KubeConfig.from_file(target.kubeconfig))

        async def list_some(**kwargs: Any) -> list[Any]:
            return [item async for item in client.list(config_map, namespace=target.namespace, **kwargs)]

        runner.run(list_some(chunk_size=1, labels={ID_LABEL: "o0"}))
        metrics = _run_measure(target, runner, lambda: list_some(chunk_size=PAGE), _model_name)
        runner.run(client.close())
    return metrics


def kr8s_async_list(target: BenchTarget) -> Metrics:
    kr8s = peer("kr8s.asyncio")
    with asyncio.Runner() as runner:
        api = runner.run(kr8s.api(kubeconfig=target.kubeconfig))

        async def list_some(**kwargs: Any) -> list[Any]:
            return [item async for item in api.get(RESOURCE, namespace=target.namespace, **kwargs)]

        runner.run(list_some(label_selector={ID_LABEL: "o0"}))
        # kr8s pages with a fixed limit of 100 (kr8s/_api.py _async_get_single).
        metrics = _run_measure(target, runner, list_some, lambda obj: str(obj.name))
    return metrics


def dynaclient_async_informer(target: BenchTarget) -> Metrics:
    """P2 on the loop: an AsyncSharedInformerFactory to ``wait_for_cache_sync``, then every add handled."""
    from dynaclient.aio import AsyncDynamicClient
    from informers.aio import AsyncSharedInformerFactory

    async def run() -> Metrics:
        async with AsyncDynamicClient.from_kubeconfig(target.kubeconfig) as client:
            await client.resource(RESOURCE)  # discovery before the clock starts, as in P1
            rss_before = current_rss_bytes()
            with timed() as timing:
                async with AsyncSharedInformerFactory(client, namespace=target.namespace) as factory:
                    informer = await factory.for_resource(RESOURCE)
                    handled = asyncio.Event()
                    left = [target.objects]

                    def on_add(obj: Any) -> None:
                        left[0] -= 1
                        if left[0] == 0:
                            handled.set()

                    informer.add_event_handler(on_add=on_add)
                    started = time.perf_counter()
                    factory.start()
                    if not all((await factory.wait_for_cache_sync(target.timeout)).values()):
                        raise TimeoutError("the informer did not sync")
                    synced = time.perf_counter() - started
                    await asyncio.wait_for(handled.wait(), target.timeout)
                    handler_seconds = time.perf_counter() - started
                    expect_count("informer cache", len(informer.store.list_keys()), target.objects)
        return {
            "seconds": synced,
            "handler_seconds": handler_seconds,
            "cpu_seconds": timing.cpu_seconds,
            "objects": target.objects,
            "peak_rss_bytes": peak_rss_bytes(),
            "rss_growth_per_json_byte": (peak_rss_bytes() - rss_before) / target.json_bytes,
        }

    return asyncio.run(run())


CASES = {
    "p2-dynaclient-async-informer": dynaclient_async_informer,
    "p1-dynaclient-async": dynaclient_async_list,
    "p1-raw-aiohttp": raw_aiohttp_list,
    "p1-raw-httpx": raw_httpx_list,
    "p1-lightkube-async": lightkube_async_list,
    "p1-kr8s-async": kr8s_async_list,
}

if __name__ == "__main__":
    raise SystemExit(case_main(CASES))
