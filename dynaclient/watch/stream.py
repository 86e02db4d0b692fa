"""An open watch: iterate it for :class:`~dynaclient.watch.events.WatchEvent` values, close it from any thread."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Generic

from dynaclient._types import ObjectT
from dynaclient.exceptions import ConnectionLostError, TransportError
from dynaclient.request import Cancellation, Response
from dynaclient.watch.events import WatchEvent, iter_watch_events


class Watch(Generic[ObjectT]):
    """The events of one watch request, in server order, until the server ends the stream or :meth:`close`.

    ``ERROR`` frames are raised as their typed :class:`~dynaclient.exceptions.APIError` (``GoneError`` when the
    resourceVersion is too old: list again, then watch from the list's resourceVersion). A stream the server ends
    (its ``timeoutSeconds``) or cuts short (a restart drops the connection mid-stream,
    :class:`~dynaclient.exceptions.ConnectionLostError`) simply ends the iteration: watch again from
    :attr:`resource_version`. Other transport failures are raised. :meth:`close` cancels the request, so a thread
    blocked waiting for the next event returns promptly and its iteration ends quietly.

    Use it as a context manager, or call :meth:`close`::

        with pods.watch(resource_version=rv) as events:
            for event in events:
                ...

    Attributes:
        resource_version: the resourceVersion of the last event received (bookmarks included), or ``""``.

    Thread-safety: confined to the thread that iterates it, except :meth:`close`, which any thread may call.
    """

    def __init__(self, response: Response, cancellation: Cancellation) -> None:
        self._response = response
        self._cancellation = cancellation
        self._events = self._receive()
        self.resource_version = ""

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<Watch {state} resourceVersion={self.resource_version!r}>"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._cancellation.cancelled

    def __iter__(self) -> Watch[ObjectT]:
        return self

    def __next__(self) -> WatchEvent[ObjectT]:
        if self._cancellation.cancelled:
            self._events.close()
            raise StopIteration
        return next(self._events)

    def close(self) -> None:
        """Stop the watch and release its connection; safe to call twice and from another thread."""
        self._cancellation.cancel()
        self._response.close()

    def __enter__(self) -> Watch[ObjectT]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _receive(self) -> Generator[WatchEvent[Any], None, None]:
        # The decoded objects are plain dicts; ObjectT only types them for the caller.
        try:
            for event in iter_watch_events(self._response.iter_chunks()):
                self.resource_version = event.resource_version or self.resource_version
                yield event
        except TransportError as error:
            if not ends_quietly(error, closed=self._cancellation.cancelled):
                raise
        finally:
            self._response.close()


def ends_quietly(error: TransportError, *, closed: bool) -> bool:
    """Whether ``error``, raised while a watch stream is read, ends the iteration instead of propagating.

    client-go's stream watcher (apimachinery pkg/watch/streamwatcher.go ``receive``) treats EOF, an unexpected EOF
    and a probable EOF (the connection reset or closed under the reader, as when kube-apiserver restarts) as the
    end of the watch: the caller watches again from the last resourceVersion. A watch closed by its owner ends
    quietly whatever its read raised.

    >>> ends_quietly(ConnectionLostError("cut"), closed=False), ends_quietly(TransportError("tls"), closed=False)
    (True, False)
    """
    return closed or isinstance(error, ConnectionLostError)


__all__ = ["Watch", "ends_quietly"]
