"""Pod logs for the asyncio client: :class:`AsyncPodLogs`, the awaited form of :class:`~dynaclient.streams.PodLogs`.

The request (:func:`~dynaclient.streams.pod_requests.log_request`), the errors
(:func:`~dynaclient.streams.logs.raise_if_not_running`, :func:`~dynaclient.streams.logs.check_log_answer`) and the
line splitting (:class:`~dynaclient.streams.logs.LineSplitter`) are the synchronous client's; only reading awaits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from dynaclient.aio.client import AsyncAPIClient
from dynaclient.aio.response import AsyncResponse
from dynaclient.exceptions import BadRequestError, PodNotRunningError, TransportError
from dynaclient.streams.logs import LineSplitter, check_log_answer, log_what, raise_if_not_running
from dynaclient.streams.pod_requests import LogOptions, log_request


class AsyncPodLogs:
    """A container's log as it is read: ``async for line in log``, or the bytes with :meth:`iter_bytes`.

    Behaves as :class:`~dynaclient.streams.PodLogs`: lines are ``str`` without their newline; a follow the server
    ends sets :attr:`ended`; :meth:`close` (from any task of the loop) ends the iteration quietly::

        async with await pods.logs("web", follow=True) as log:
            async for line in log:
                print(line)

    Attributes:
        ended: whether the server ended the stream (``False`` after :meth:`close` or an error).

    Thread-safety: confined to its event loop.
    """

    def __init__(self, response: AsyncResponse, what: str) -> None:
        self._response = response
        self._what = what
        self._started = False
        self._closed = False
        self.ended = False

    def __repr__(self) -> str:
        state = "ended" if self.ended else "closed" if self._closed else "open"
        return f"<AsyncPodLogs {self._what} {state}>"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield the log's bytes as they arrive; the log can be read once.

        Raises:
            TransportError: the connection was lost before the server ended the log.
            RuntimeError: the log was already read.
        """
        if self._started:
            raise RuntimeError(f"{self._what} was already read; a log is read once")
        self._started = True
        return self._chunks()

    async def read(self) -> bytes:
        """Read the whole log (for a follow: until the server ends it or :meth:`close`)."""
        return b"".join([chunk async for chunk in self.iter_bytes()])

    def __aiter__(self) -> AsyncIterator[str]:
        return self.lines()

    async def lines(self, *, keepends: bool = False) -> AsyncIterator[str]:
        r"""Yield the log's lines; a last line without a newline is yielded too.

        Args:
            keepends: keep each line's ``\n``.
        """
        splitter = LineSplitter(keepends=keepends)
        async for chunk in self.iter_bytes():
            for line in splitter.feed(chunk):
                yield line
        for line in splitter.finish():
            yield line

    def close(self) -> None:
        """Stop reading and release the connection; safe to call twice."""
        self._closed = True
        self._response.close()

    async def aclose(self) -> None:
        """The awaitable form of :meth:`close`."""
        self.close()

    async def __aenter__(self) -> AsyncPodLogs:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    async def _chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.iter_chunks():
                if self._closed:
                    return
                yield chunk
            self.ended = not self._closed
        except TransportError:
            if not self._closed:
                raise
        finally:
            self._response.close()


async def open_logs(
    api_client: AsyncAPIClient, namespace: str, name: str, options: LogOptions, *, timeout: float | None
) -> AsyncPodLogs:
    """Send the log request and return the open log once the server has answered (see the sync ``open_logs``).

    Raises:
        PodNotRunningError: the pod is not scheduled yet, or its container is waiting to start.
        BadRequestError: for example a container name the pod does not have.
        NotFoundError: no such pod.
    """
    what = log_what(namespace, name)
    try:
        response = await api_client.send(log_request(namespace, name, options, timeout=timeout))
    except BadRequestError as exc:
        raise_if_not_running(exc, what)
        raise
    try:
        check_log_answer(response.status, what)
    except PodNotRunningError:
        response.close()
        raise
    return AsyncPodLogs(response, what)


__all__ = ["AsyncPodLogs", "open_logs"]
