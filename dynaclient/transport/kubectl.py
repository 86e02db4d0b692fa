"""A transport that runs ``kubectl`` once per request, for machines where only kubectl can reach the cluster.

GET, POST, PUT and DELETE go through ``kubectl get|create|replace|delete --raw``; kubectl has no ``patch --raw``,
so PATCH becomes ``kubectl patch <resource>.<version>.<group> <name>``. What kubectl cannot carry raises
:class:`~dynaclient.exceptions.UnsupportedRequestError`: HEAD and OPTIONS, apply patches, extra headers, bodies that
are not JSON, and an ``Accept`` other than plain JSON (Table, PartialObjectMetadata, protobuf).

kubectl prints neither the status code nor the error Status, so every command runs with ``-v=6``: client-go
(``transport/round_trippers.go``) then logs each response's status line to stderr, and kubectl
(``pkg/cmd/util/helpers.go``, ``StandardErrorMessage``) dumps the Status as ``server response object: ...``. From
those the transport rebuilds the response: 201 for a create, and the exact Status of an error. When they are
missing it falls back to kubectl's ``Error from server (<Reason>): <message>`` line and the Status reason table.
Level 6 logs URLs and status lines only, never bodies or headers. Invalid errors come without the dump, so their
kind, name and causes are read back from kubectl's message.

Differences from HTTP: response headers are never known; ``kubectl patch`` reads the object before patching and
sends ``fieldManager=kubectl-patch`` unless a field manager is given; ``request.timeout`` bounds the whole command
(for a stream: the wait for the status line, then each read). Streaming and process-group kills need POSIX.
"""

from __future__ import annotations

import logging
import os
import selectors
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING

from dynaclient.exceptions import ConnectError, ConnectionLostError, TransportTimeout, UnsupportedRequestError
from dynaclient.request import Request, Response
from dynaclient.transport._kubectl_commands import build_command, loggable_command
from dynaclient.transport._kubectl_stderr import (
    JSON_HEADERS,
    diagnose,
    finished_response,
    response_code,
    summary,
)
from dynaclient.transport.base import BaseTransport

if TYPE_CHECKING:
    from dynaclient.transport.websocket import WebSocketConnection

_log = logging.getLogger("dynaclient")


class KubectlRawTransport(BaseTransport):
    """Sends each request by running ``kubectl`` with ``--raw`` (or ``patch``), never through a shell.

    Non-2xx answers come back as responses whose body is the server's Status (rebuilt from kubectl's stderr).
    Responses carry no headers but ``content-type``.

    Thread-safety: thread-safe; every request runs its own subprocess.
    """

    name = "kubectl-raw"

    def __init__(
        self,
        kubectl: str | None = None,
        *,
        kubeconfig: str | os.PathLike[str] | None = None,
        context: str | None = None,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Configure the kubectl command line.

        Args:
            kubectl: the executable; defaults to the ``KUBECTL`` environment variable, else ``kubectl`` on PATH.
            kubeconfig: passed as ``--kubeconfig``.
            context: passed as ``--context``.
            extra_args: further global flags (``--as=alice``); ``-v`` is always overridden with ``-v=6``.
            env: kubectl's whole environment (``KUBECONFIG`` with several files, ``HOME``); ``None`` inherits this
                process's. The executable is looked up on its ``PATH``, else on this process's.
            clock: monotonic seconds, for the durations logged.
        """
        self.kubectl = kubectl or (os.environ if env is None else env).get("KUBECTL") or "kubectl"
        self._env = dict(env) if env is not None else None
        if env is not None:
            self.kubectl = shutil.which(self.kubectl, path=env.get("PATH")) or self.kubectl
        prefix = [self.kubectl]
        if kubeconfig is not None:
            prefix.append(f"--kubeconfig={os.fspath(kubeconfig)}")
        if context is not None:
            prefix.append(f"--context={context}")
        self._prefix = (*prefix, *extra_args, "-v=6")
        self._clock = clock

    def send(self, request: Request) -> Response:
        """Run kubectl for ``request``; a stream returns once kubectl has the response status.

        Raises:
            UnsupportedRequestError: kubectl cannot carry the request.
            ConnectError: kubectl is missing or could not reach the server.
            TLSError: kubectl rejected the server's certificate.
            TransportTimeout: kubectl did not finish (or, streaming, produce a line) within ``request.timeout``.
            RequestCancelled: ``request.cancellation`` was cancelled.
            TransportError: kubectl failed without a response from the server.
        """
        argv, stdin = build_command(request, self._prefix)
        if request.cancellation is not None:
            request.cancellation.raise_if_cancelled()
        run = _Run(argv, request, self._clock, has_stdin=stdin is not None, env=self._env)
        if request.expect == "stream":
            return run.open_stream()
        return run.complete(stdin)

    def open_websocket(self, request: Request, subprotocols: Sequence[str]) -> WebSocketConnection | Response:
        """Refuse: ``kubectl --raw`` only makes plain requests.

        Raises:
            UnsupportedRequestError: always; exec, attach and port-forward need the HTTP transport.
        """
        raise UnsupportedRequestError(
            f"the kubectl-raw transport cannot open WebSockets ({request.path}): kubectl --raw makes plain requests "
            "only; use the kubeconfig (client_from_config) or, for port-forward, kubectl proxy"
        )

    def __repr__(self) -> str:
        return f"<KubectlRawTransport {self.kubectl!r}>"


class _Run:
    """One kubectl subprocess, killed (with its process group) on cancellation, timeout or close.

    Thread-safety: confined, except :meth:`kill` and :meth:`close`, which any thread may call.
    """

    def __init__(
        self,
        argv: list[str],
        request: Request,
        clock: Callable[[], float],
        *,
        has_stdin: bool,
        env: Mapping[str, str] | None,
    ) -> None:
        self._request = request
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self._reading = self._closed = self._released = False  # guarded by _lock
        self._timed_out = threading.Event()
        self._stderr: _StderrCollector | None = None
        _log.debug("kubectl: %s", loggable_command(argv))
        try:
            self._process = subprocess.Popen(  # an argv list, never a shell
                argv,
                stdin=subprocess.PIPE if has_stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=os.name == "posix",
            )
        except FileNotFoundError:
            raise ConnectError(f"kubectl executable {argv[0]!r} was not found") from None
        except PermissionError:
            raise ConnectError(f"kubectl executable {argv[0]!r} is not executable") from None
        cancellation = request.cancellation
        self._unregister = cancellation.on_cancel(self.kill) if cancellation is not None else _nothing

    def complete(self, stdin: bytes | None) -> Response:
        """Wait for kubectl to exit and build the response."""
        try:
            stdout, stderr = self._process.communicate(stdin, timeout=self._request.timeout)
        except subprocess.TimeoutExpired:
            self._timed_out.set()
            self.kill()
            self._process.communicate()
            stdout = stderr = b""
        finally:
            self._finish()
        self._raise_if_interrupted()
        return finished_response(self._process.returncode, stdout, stderr.decode(errors="replace"))

    def open_stream(self) -> Response:
        """Return a streaming response once kubectl logs the response status, or its result if it ends first."""
        self._stderr = stderr = _StderrCollector(_pipe(self._process.stderr))
        if not stderr.status_known.wait(self._request.timeout):
            self._expire()
        code = stderr.code
        if code is not None and 200 <= code < 300 and not self._timed_out.is_set():
            return Response(code, JSON_HEADERS, self._stream_lines(), close=self.close)
        # An error status, or kubectl ended without one: it exits at once, so read its whole answer.
        stdout = _pipe(self._process.stdout).read()
        self._release()
        self._raise_if_interrupted()
        return finished_response(self._process.wait(), stdout, stderr.text())

    def _stream_lines(self) -> Iterator[bytes]:
        try:
            yield from self._read_chunks()
            returncode = self._process.wait()
            if self._is_closed():
                return
            self._raise_if_interrupted()
            if returncode != 0:
                # The server's status line came (the stream began): kubectl failing now is the connection lost in
                # the middle of the body ("unexpected EOF", a reset, an HTTP/2 stream error), as over HTTP.
                message = diagnose(self._stderr.text() if self._stderr else "").message
                raise ConnectionLostError(
                    f"kubectl lost the connection in the middle of the response: {summary(message)}"
                )
        finally:
            self._release()

    def _read_chunks(self) -> Iterator[bytes]:
        """Yield stdout as it arrives; kill kubectl when one read waits longer than the request timeout."""
        if not self._set_reading(True):
            return
        descriptor = _pipe(self._process.stdout).fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(descriptor, selectors.EVENT_READ)
            while True:
                chunk = os.read(descriptor, 65536) if selector.select(self._request.timeout) else None
                if not self._set_reading(False) or not chunk:
                    break
                yield chunk
                if not self._set_reading(True):
                    return
        if chunk is None and not self._is_closed():
            self._expire()

    def _set_reading(self, reading: bool) -> bool:
        """Mark a read of stdout as under way or over, so that close() knows whether it may release the pipes.

        Returns:
            Whether the response is still open.
        """
        with self._lock:
            self._reading = reading
            return not self._closed

    def _is_closed(self) -> bool:
        with self._lock:
            return self._closed

    def close(self) -> None:
        """Kill kubectl and release its pipes (now, or when the reading thread notices)."""
        with self._lock:
            self._closed = True
            reading = self._reading
        self.kill()
        if not reading:
            self._release()

    def kill(self) -> None:
        """Kill kubectl's process group (kubectl may be a dispatcher that runs the real kubectl as a child)."""
        if self._process.poll() is not None:
            return
        try:
            if os.name == "posix":
                os.killpg(self._process.pid, signal.SIGKILL)
            else:  # pragma: no cover - Windows has no process groups to kill
                self._process.kill()
        except ProcessLookupError:
            pass

    def _expire(self) -> None:
        self._timed_out.set()
        self.kill()

    def _release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self.kill()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()
        self._process.wait()
        if self._stderr is not None:
            self._stderr.text()
        self._finish()

    def _finish(self) -> None:
        self._unregister()
        elapsed = self._clock() - self._started
        _log.debug("kubectl exited with code %s after %.3fs", self._process.poll(), elapsed)

    def _raise_if_interrupted(self) -> None:
        if self._request.cancellation is not None:
            self._request.cancellation.raise_if_cancelled()
        if self._timed_out.is_set():
            raise TransportTimeout(f"kubectl did not answer within {self._request.timeout}s; it was killed")


class _StderrCollector:
    """Drains kubectl's stderr on a thread, so kubectl never blocks on it, and spots the response status line.

    Thread-safety: thread-safe; ``code`` is written before ``status_known`` is set.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._lines: list[str] = []
        self.code: int | None = None
        self.status_known = threading.Event()
        self._thread = threading.Thread(target=self._drain, args=(stream,), name="kubectl-stderr", daemon=True)
        self._thread.start()

    def _drain(self, stream: IO[bytes]) -> None:
        try:
            for raw in iter(stream.readline, b""):
                line = raw.decode(errors="replace")
                self._lines.append(line)
                code = response_code(line)
                if code is not None and self.code is None:
                    self.code = code
                    self.status_known.set()
        finally:
            stream.close()
            self.status_known.set()

    def text(self) -> str:
        """Wait for stderr to end and return all of it."""
        self._thread.join()
        return "".join(self._lines)


def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
    assert stream is not None, "kubectl was started with this pipe"
    return stream


def _nothing() -> None:
    return None


__all__ = ["KubectlRawTransport"]
