"""The asyncio form of :class:`~dynaclient.request.Response`: a body read whole or chunk by chunk, awaited."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping

from dynaclient.request import Response


class AsyncResponse:
    """A response whose body is read once, whole (:meth:`read`) or chunk by chunk (:meth:`iter_chunks`).

    Thread-safety: confined to its event loop; :meth:`close` (or :meth:`aclose`) may be called from any task of
    that loop, and a task waiting for the body then sees it end.
    """

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        chunks: AsyncIterator[bytes],
        *,
        close: Callable[[], None] | None = None,
    ) -> None:
        self.status = status
        self.headers: dict[str, str] = {k.lower(): v for k, v in headers.items()}
        self._chunks = chunks
        self._close = close
        self._closed = False

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` has been called (or the body was read to its end)."""
        return self._closed

    async def iter_chunks(self) -> AsyncGenerator[bytes, None]:
        """Yield the body's byte chunks as they arrive; closes the response at the end."""
        try:
            async for chunk in self._chunks:
                yield chunk
        finally:
            await self.aclose()

    async def read(self) -> bytes:
        """Read the whole body and close the response."""
        return b"".join([chunk async for chunk in self.iter_chunks()])

    async def buffered(self) -> Response:
        """Read the whole body and return it as a complete synchronous :class:`Response` (for shared helpers)."""
        return Response.from_bytes(self.status, await self.read(), self.headers)

    def close(self) -> None:
        """Release the connection (closing it when the body was not read to its end); safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._close is not None:
            self._close()

    async def aclose(self) -> None:
        """Release the connection; the awaitable form of :meth:`close`."""
        self.close()

    def __repr__(self) -> str:
        return f"<AsyncResponse [{self.status}]>"


__all__ = ["AsyncResponse"]
