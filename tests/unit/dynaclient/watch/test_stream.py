"""How a watch stream ends when its connection fails: the same rule for Watch and AsyncWatch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from dynaclient.aio.response import AsyncResponse
from dynaclient.aio.watching import AsyncWatch
from dynaclient.exceptions import ConnectionLostError, TLSError, TransportError
from dynaclient.request import Cancellation, Response
from dynaclient.watch.stream import Watch

FRAME = b'{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"7"}}}\n'


def chunks_then(error: TransportError) -> Iterator[bytes]:
    yield FRAME
    raise error


async def async_chunks_then(error: TransportError) -> AsyncIterator[bytes]:
    yield FRAME
    raise error


def test_a_watch_cut_by_the_server_ends_after_its_events() -> None:
    watch: Watch = Watch(Response(200, {}, chunks_then(ConnectionLostError("cut"))), Cancellation())
    assert [event.object["metadata"]["name"] for event in watch] == ["a"]
    assert watch.resource_version == "7"


def test_an_async_watch_cut_by_the_server_ends_after_its_events() -> None:
    async def names() -> list[str]:
        watch: AsyncWatch = AsyncWatch(AsyncResponse(200, {}, async_chunks_then(ConnectionLostError("cut"))))
        return [event.object["metadata"]["name"] async for event in watch]

    assert asyncio.run(names()) == ["a"]


def test_other_transport_failures_are_raised_by_both() -> None:
    watch: Watch = Watch(Response(200, {}, chunks_then(TLSError("bad record mac"))), Cancellation())
    with pytest.raises(TLSError):
        list(watch)

    async def drain() -> None:
        async for _ in AsyncWatch(AsyncResponse(200, {}, async_chunks_then(TLSError("bad record mac")))):
            pass

    with pytest.raises(TLSError):
        asyncio.run(drain())
