"""Pod logs: the body of ``GET pods/{name}/log`` as lines or bytes, closable from any thread like a watch."""

from __future__ import annotations

from collections.abc import Generator, Iterator

from dynaclient.client import APIClient
from dynaclient.exceptions import BadRequestError, PodNotRunningError, TransportError
from dynaclient.request import Cancellation, Response
from dynaclient.streams.pod_requests import LogOptions, log_request

# The kubelet's words for a container that has not started (kubelet_pods.go validateContainerLogStatus), and the
# apiserver's for a pod without a node (pod/strategy.go streamLocation).
_NOT_RUNNING = ("is waiting to start", "does not have a host assigned", "is not running")


class PodLogs:
    """A container's log as it is read: iterate it for lines, or read the bytes with :meth:`iter_bytes`.

    Lines are ``str`` without their newline, decoded as UTF-8 (undecodable bytes become U+FFFD); the bytes forms
    return exactly what the container wrote. A follow that the server ends (the container stopped, or
    ``limit_bytes`` was reached) simply ends the iteration and sets :attr:`ended`; :meth:`close` ends it from
    another thread, quietly too. A connection lost in the middle raises
    :class:`~dynaclient.exceptions.TransportError`.

    Use it as a context manager, or call :meth:`close`::

        with pods.logs("web", follow=True, tail_lines=10) as log:
            for line in log:
                print(line)

    Attributes:
        ended: whether the server ended the stream (``False`` after :meth:`close` or an error).

    Thread-safety: confined to the thread that reads it, except :meth:`close`, which any thread may call.
    """

    def __init__(self, response: Response, cancellation: Cancellation, what: str) -> None:
        self._response = response
        self._cancellation = cancellation
        self._what = what
        self._started = False
        self.ended = False

    def __repr__(self) -> str:
        state = "ended" if self.ended else "closed" if self.closed else "open"
        return f"<PodLogs {self._what} {state}>"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._cancellation.cancelled

    def iter_bytes(self) -> Iterator[bytes]:
        """Yield the log's bytes as they arrive, in chunks cut anywhere; the log can be read once.

        Raises:
            TransportError: the connection was lost before the server ended the log.
            RuntimeError: the log was already read.
        """
        if self._started:
            raise RuntimeError(f"{self._what} was already read; a log is read once")
        self._started = True
        return self._chunks()

    def read(self) -> bytes:
        """Read the whole log (for a follow: until the server ends it or :meth:`close`)."""
        return b"".join(self.iter_bytes())

    def __iter__(self) -> Iterator[str]:
        return self.lines()

    def lines(self, *, keepends: bool = False) -> Iterator[str]:
        r"""Yield the log's lines; a last line without a newline is yielded too.

        Args:
            keepends: keep each line's ``\n``.
        """
        splitter = LineSplitter(keepends=keepends)
        for chunk in self.iter_bytes():
            yield from splitter.feed(chunk)
        yield from splitter.finish()

    def close(self) -> None:
        """Stop reading and release the connection; safe to call twice and from another thread."""
        self._cancellation.cancel()
        self._response.close()

    def __enter__(self) -> PodLogs:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _chunks(self) -> Generator[bytes, None, None]:
        try:
            for chunk in self._response.iter_chunks():
                if self._cancellation.cancelled:
                    return
                yield chunk
            self.ended = not self._cancellation.cancelled
        except TransportError:
            if not self._cancellation.cancelled:
                raise
        finally:
            self._response.close()


class LineSplitter:
    r"""Cuts log bytes that arrive in chunks cut anywhere into decoded lines (the sync and asyncio logs share it).

    A line is decoded once whole, so a character split between two chunks stays whole; undecodable bytes become
    U+FFFD.

    >>> splitter = LineSplitter()
    >>> splitter.feed(b"one\ntw\xc3"), splitter.feed(b"\xa9o\nthr"), splitter.finish()
    (['one'], ['twéo'], ['thr'])

    Thread-safety: confined to one reader.
    """

    def __init__(self, *, keepends: bool = False) -> None:
        self._end = "\n" if keepends else ""
        self._pending = b""

    def feed(self, chunk: bytes) -> list[str]:
        """Return the lines that ``chunk`` completes."""
        if b"\n" not in chunk:
            self._pending += chunk
            return []
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        return [line.decode("utf-8", errors="replace") + self._end for line in lines]

    def finish(self) -> list[str]:
        """Return the last line when the log did not end with a newline."""
        pending, self._pending = self._pending, b""
        return [pending.decode("utf-8", errors="replace")] if pending else []


def check_log_answer(status: int, what: str) -> None:
    """Raise when a successful answer to a log request has no log: a 204 means the pod has no node yet.

    Raises:
        PodNotRunningError: the apiserver answered 204 No Content (pod/strategy.go LogLocation: no node).
    """
    if status == 204:
        raise PodNotRunningError(f"{what}: the pod is not running yet (it is not scheduled to a node)")


def raise_if_not_running(error: BadRequestError, what: str) -> None:
    """Raise :class:`PodNotRunningError` (from ``error``) when a 400 says the pod or container is not running.

    Raises:
        PodNotRunningError: the message is the kubelet's or the apiserver's for a container not running yet.
    """
    if any(words in error.message for words in _NOT_RUNNING):
        raise PodNotRunningError(f"{what}: {error.message}") from error


def open_logs(
    api_client: APIClient, namespace: str, name: str, options: LogOptions, *, timeout: float | None
) -> PodLogs:
    """Send the log request and return the open log once the server has answered.

    Args:
        api_client: sends the request.
        namespace: the pod's namespace.
        name: the pod's name.
        options: what to read.
        timeout: seconds to wait for the answer and between chunks; a follow waits without limit.

    Raises:
        PodNotRunningError: the pod is not scheduled yet, or its container is waiting to start.
        BadRequestError: for example a container name the pod does not have.
        NotFoundError: no such pod.
    """
    cancellation = Cancellation()
    request = log_request(namespace, name, options, cancellation=cancellation, timeout=timeout)
    what = log_what(namespace, name)
    try:
        response = api_client.send(request)
    except BadRequestError as exc:
        raise_if_not_running(exc, what)
        raise
    try:
        check_log_answer(response.status, what)
    except PodNotRunningError:
        response.close()
        raise
    return PodLogs(response, cancellation, what)


def log_what(namespace: str, name: str) -> str:
    """How messages name a pod's log."""
    return f"pod {namespace}/{name} log"


__all__ = ["LineSplitter", "PodLogs", "check_log_answer", "log_what", "open_logs", "raise_if_not_running"]
