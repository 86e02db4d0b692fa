"""The Sawtooth operator with ``async def reconcile``: the same semantics as sawtooth_operator.py, on one event loop.

    KUBECONFIG=... python examples/sawtooth_operator_async.py            # run until Ctrl-C
    KUBECONFIG=... python examples/sawtooth_operator_async.py --demo     # create, scale, break, delete, then stop

The controller (:class:`informers.aio.AsyncController`) runs its workers as tasks over the same work queue, rate
limiters, predicates and finalizer table as the threaded one; every request goes through the aiohttp client, so no
thread is started per worker or per watch.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sawtooth_operator import (
    CRD,
    FINALIZER,
    GROUP,
    SAWTOOTHS,
    ExternalRecords,
    _established,
    configmap_drifted,
    desired_configmap,
)

from dynaclient import AlreadyExistsError, JSONObject, NotFoundError, ResourceNotFoundError
from dynaclient.aio import AsyncDynamicClient, AsyncResourceClient
from informers import Request, annotations_changed, any_of, generation_changed, labels_changed
from informers.aio import AsyncController, finalizer


class AsyncSawtoothOperator:
    """The reconcile of Sawtooths as coroutines, and the async controller that runs it.

    Thread-safety: confined to its event loop; never reconciles one Sawtooth on two tasks at once.
    """

    def __init__(
        self, client: AsyncDynamicClient, records: ExternalRecords, *, namespace: str | None = None, workers: int = 4
    ) -> None:
        self.client = client
        self.records = records
        self._resources: dict[str, AsyncResourceClient] = {}
        self.controller = AsyncController(
            client,
            for_=SAWTOOTHS,
            owns=["configmaps"],
            reconcile=self.reconcile,
            workers=workers,
            namespace=namespace,
            predicates=[any_of(generation_changed, labels_changed, annotations_changed)],
            name="sawtooth-async",
        )

    async def resource(self, name: str) -> AsyncResourceClient:
        """Return the client of ``name``, resolved once (resolving runs discovery's lookup in a worker thread)."""
        if name not in self._resources:
            self._resources[name] = await self.client.resource(name)
        return self._resources[name]

    async def reconcile(self, request: Request) -> None:
        try:
            sawtooth = self.controller.lister().get(request.name, request.namespace)
        except NotFoundError:
            return  # gone: its ConfigMap goes with it through the owner reference
        sawtooths = await self.resource(SAWTOOTHS)
        await finalizer(sawtooths, FINALIZER, sawtooth, apply=self.apply, cleanup=self.cleanup)

    async def apply(self, sawtooth: JSONObject) -> None:
        namespace, name, size, desired = desired_configmap(sawtooth)
        configmaps = (await self.resource("configmaps")).namespace(namespace)
        try:
            current: JSONObject | None = self.controller.lister("configmaps").get(name, namespace)
        except NotFoundError:
            current = None
        if current is None:
            try:
                await configmaps.create({"apiVersion": "v1", "kind": "ConfigMap", **desired})
            except AlreadyExistsError:
                current = await configmaps.get(name)  # created meanwhile; the cache has not seen it yet
        if current is not None and configmap_drifted(current, desired, sawtooth):
            await configmaps.patch(name, desired)
        await asyncio.to_thread(self.records.put, f"{namespace}/{name}", size)  # file I/O off the loop
        if (sawtooth.get("status") or {}).get("observedSize") != size:
            sawtooths = (await self.resource(SAWTOOTHS)).namespace(namespace)
            await sawtooths.patch(name, {"status": {"observedSize": size}}, subresource="status")

    async def cleanup(self, sawtooth: JSONObject) -> None:
        metadata = sawtooth["metadata"]
        await asyncio.to_thread(self.records.remove, f"{metadata['namespace']}/{metadata['name']}")


async def install_crd(client: AsyncDynamicClient, timeout: float = 30.0) -> None:
    """Create the Sawtooth CRD unless it exists, and wait until it is established and discoverable."""
    crds = await client.resource("customresourcedefinitions.apiextensions.k8s.io")
    with contextlib.suppress(AlreadyExistsError):
        await crds.create(CRD)
    async with asyncio.timeout(timeout):
        while not _established(await crds.get(SAWTOOTHS)):
            await asyncio.sleep(0.1)  # the apiextensions controller establishes it asynchronously
        while True:
            try:
                await client.resource(SAWTOOTHS)
                return
            except ResourceNotFoundError:
                await asyncio.sleep(0.5)  # discovery lags the Established condition


async def _wait(what: str, check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not reached within {timeout}s")
        await asyncio.sleep(0.05)
    print(f"  ok: {what}")


async def demo(operator: AsyncSawtoothOperator, namespace: str) -> None:
    sawtooths = (await operator.client.resource(SAWTOOTHS)).namespace(namespace)
    configmaps = (await operator.client.resource("configmaps")).namespace(namespace)

    async def sizes() -> dict[str, str]:
        return {cm["metadata"]["name"]: cm["data"]["size"] async for cm in configmaps.list() if "size" in cm["data"]}

    async def observed() -> dict[str, int | None]:
        return {s["metadata"]["name"]: (s.get("status") or {}).get("observedSize") async for s in sawtooths.list()}

    print("create three Sawtooths")
    for name, size in (("small", 1), ("medium", 5), ("large", 9)):
        body = {"apiVersion": f"{GROUP}/v1", "kind": "Sawtooth", "metadata": {"name": name}, "spec": {"size": size}}
        await sawtooths.create(body)

    async def written() -> bool:
        expected = {"small": 1, "medium": 5, "large": 9}
        return await sizes() == {k: str(v) for k, v in expected.items()} and await observed() == expected

    await _wait("ConfigMaps and status.observedSize written", written)
    print("scale medium to 7")
    await sawtooths.patch("medium", {"spec": {"size": 7}})

    async def scaled() -> bool:
        return (await sizes())["medium"] == "7" and (await observed())["medium"] == 7

    await _wait("medium's ConfigMap and status follow", scaled)
    print("delete large's ConfigMap by hand")
    await configmaps.delete("large")

    async def back() -> bool:
        return (await sizes()).get("large") == "9"

    await _wait("it comes back", back)
    print("delete every Sawtooth")
    for name in ("small", "medium", "large"):
        await sawtooths.delete(name)

    async def cleaned() -> bool:
        return not await observed() and not operator.records.all()

    await _wait("all gone, their records cleaned", cleaned)
    print(f"stats: {operator.controller.stats()}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", action="store_true", help="create, scale, break and delete Sawtooths, then stop")
    parser.add_argument("--namespace", default="default", help="reconcile this namespace only (default: default)")
    parser.add_argument("--workers", type=int, default=4, help="reconciles at once (default 4)")
    parser.add_argument("--records", type=Path, help="directory of the external records (default: a temporary one)")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory() as scratch:
        async with AsyncDynamicClient.from_kubeconfig() as client:
            await install_crd(client)
            records = ExternalRecords(arguments.records or Path(scratch))
            operator = AsyncSawtoothOperator(client, records, namespace=arguments.namespace, workers=arguments.workers)
            async with operator.controller:
                if arguments.demo:
                    await demo(operator, arguments.namespace)
                else:
                    print("reconciling Sawtooths; Ctrl-C stops")
                    await asyncio.Event().wait()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
