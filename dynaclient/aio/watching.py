"""An open watch stream for ``async for``, closable from any task of its loop."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, Generic

from dynaclient._types import ObjectT
from dynaclient.aio.response import AsyncResponse
from dynaclient.exceptions import TransportError
from dynaclient.watch.events import WatchDecoder, WatchEvent
from dynaclient.watch.stream import ends_quietly


class AsyncWatch(Generic[ObjectT]):
    """The events of one watch request, in server order, until the server ends the stream or :meth:`aclose`.

    Decoding is :class:`~dynaclient.watch.events.WatchDecoder`'s, as in :class:`~dynaclient.watch.stream.Watch`:
    ``ERROR`` frames are raised as their typed :class:`~dynaclient.exceptions.APIError` (``GoneError``: list again);
    a stream cut short or ended by ``timeoutSeconds`` ends the iteration (watch again from :attr:`resource_version`).
    :meth:`aclose`, from any task, ends a pending ``async for`` quietly; cancelling the iterating task raises
    ``CancelledError`` in it and releases the connection. No thread is involved::

        async with await pods.watch(resource_version=rv) as events:
            async for event in events:
                ...

    Attributes:
        resource_version: the resourceVersion of the last event received (bookmarks included), or ``""``.

    Thread-safety: confined to one event loop; iterated by one task, closed by any.
    """

    def __init__(self, response: AsyncResponse) -> None:
        self._response = response
        self._events = self._receive()
        self._closing = False
        self.resource_version = ""

    def __repr__(self) -> str:
        return f"<AsyncWatch {'closed' if self.closed else 'open'} resource_version={self.resource_version!r}>"

    @property
    def closed(self) -> bool:
        """Whether the stream has ended or been closed."""
        return self._closing or self._response.closed

    def __aiter__(self) -> AsyncWatch[ObjectT]:
        return self

    async def __anext__(self) -> WatchEvent[ObjectT]:
        if self._closing:
            raise StopAsyncIteration
        return await self._events.__anext__()

    def close(self) -> None:
        """Stop the watch and release its connection; safe to call twice and from any task of the loop."""
        self._closing = True
        self._response.close()

    async def aclose(self) -> None:
        """Stop the watch; the awaitable form of :meth:`close`."""
        self.close()

    async def __aenter__(self) -> AsyncWatch[ObjectT]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _receive(self) -> AsyncGenerator[WatchEvent[Any], None]:
        decoder = WatchDecoder()
        try:
            async for chunk in self._response.iter_chunks():
                for event in decoder.feed(chunk):
                    event.raise_for_error()
                    self.resource_version = event.resource_version or self.resource_version
                    yield event
            for event in decoder.close():
                event.raise_for_error()
                yield event
        except TransportError as error:
            if not ends_quietly(error, closed=self._closing):
                raise
        finally:
            await self._response.aclose()


__all__ = ["AsyncWatch"]
