"""An HTTP endpoint that answers from an informer's cache, on one event loop (the FastAPI-style pattern).

``GET /configmaps/{namespace}/{name}`` reads the informer's lister: no request reaches the API server per call,
and the cache follows the server through its watch. The same shape in FastAPI: start the factory in the app's
lifespan, keep ``configmaps.lister()``, and read it in the route function.

Run: ``KUBECONFIG=... .venv/bin/python examples/cache_endpoint.py`` (needs ``dynaclient[async]``).
"""

from __future__ import annotations

import asyncio
import os

import aiohttp
from aiohttp import web

from dynaclient import NotFoundError
from dynaclient.aio import AsyncDynamicClient
from informers import Lister
from informers.aio import AsyncSharedInformerFactory

NAME = f"example-endpoint-{os.getpid()}"
LISTER: web.AppKey[Lister] = web.AppKey("lister", Lister)


async def get_configmap(request: web.Request) -> web.Response:
    """Answer with the cached ConfigMap, or 404."""
    try:
        configmap = request.app[LISTER].get(request.match_info["name"], request.match_info["namespace"])
    except NotFoundError as error:
        return web.json_response({"error": str(error)}, status=404)
    return web.json_response(configmap)


async def main() -> None:
    print(f"using kubeconfig {os.environ.get('KUBECONFIG', '~/.kube/config')}", flush=True)
    async with (
        AsyncDynamicClient.from_kubeconfig() as client,
        AsyncSharedInformerFactory(client, namespace="default") as factory,
    ):
        writer = (await client.resource("configmaps")).namespace("default")
        await writer.create({"metadata": {"name": NAME}, "data": {"greeting": "hello"}})
        configmaps = await factory.for_resource("configmaps")
        factory.start()
        await factory.wait_for_cache_sync(timeout=30)
        app = web.Application()
        app[LISTER] = configmaps.lister()
        app.router.add_get("/configmaps/{namespace}/{name}", get_configmap)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        try:  # one call to ourselves, as a client of the endpoint would make
            async with aiohttp.ClientSession() as session:
                for name in (NAME, "missing"):
                    async with session.get(f"http://{host}:{port}/configmaps/default/{name}") as answer:
                        body = await answer.json()
                        shown = body.get("data") or body.get("error")
                        print(f"GET /configmaps/default/{name}: {answer.status} {shown}")
        finally:
            await runner.cleanup()
            await writer.delete(NAME)


if __name__ == "__main__":
    asyncio.run(main())
