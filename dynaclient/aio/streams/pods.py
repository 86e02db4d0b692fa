"""The pod stream verbs of :class:`~dynaclient.aio.AsyncResourceClient`: logs, exec, attach, port-forward, awaited.

Requests, options, errors and protocols are the synchronous client's (:mod:`dynaclient.streams`); the connections
carry the asyncio client's credentials and TLS settings. Exec, attach and port-forward need the ``streams`` extra
(``websockets``, whose asyncio client is used) next to ``async``.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from dataclasses import replace

from dynaclient.aio.client import AsyncAPIClient
from dynaclient.aio.streams.logs import AsyncPodLogs, open_logs
from dynaclient.aio.streams.port_forward import AsyncPortForwarder, AsyncPortStream
from dynaclient.aio.streams.remote_command import AsyncExecStream, run_command
from dynaclient.aio.streams.websocket import AsyncWebSocketConnection
from dynaclient.discovery.discovery import APIResource
from dynaclient.exceptions import BadRequestError, ForbiddenError, ResourceRequestError, TransportTimeout
from dynaclient.request import Request
from dynaclient.streams.channels import EXEC_SUBPROTOCOLS, PORT_FORWARD_SUBPROTOCOLS
from dynaclient.streams.pod_requests import LogOptions, attach_request, exec_request, port_forward_request
from dynaclient.streams.pods import CONNECT_TIMEOUT, PORT_FORWARD_ATTEMPTS, raise_refused_stream
from dynaclient.streams.port_forward import parse_port_mappings
from dynaclient.streams.remote_command import ExecResult

logger = logging.getLogger("dynaclient")


class AsyncPodStreams:
    """Logs, exec, attach and port-forward for an :class:`AsyncResourceClient` of ``pods`` bound to a namespace.

    Arguments, results and errors are those of :class:`~dynaclient.streams.PodStreams`, awaited.

    Thread-safety: immutable; use it from the event loop of its client.
    """

    __slots__ = ()

    _api_client: AsyncAPIClient
    _namespace: str
    _timeout: float | None
    api_resource: APIResource

    async def logs(
        self,
        name: str,
        *,
        container: str | None = None,
        follow: bool = False,
        since_seconds: int | None = None,
        since_time: datetime.datetime | str | None = None,
        tail_lines: int | None = None,
        limit_bytes: int | None = None,
        timestamps: bool = False,
        previous: bool = False,
    ) -> AsyncPodLogs:
        """Open a container's log (see :meth:`PodStreams.logs`); ``async for`` the result for lines."""
        options = LogOptions(
            container, follow, since_seconds, since_time, tail_lines, limit_bytes, timestamps, previous
        )
        return await open_logs(self._api_client, self._pods_namespace("logs"), name, options, timeout=self._timeout)

    async def exec(
        self,
        name: str,
        command: Sequence[str],
        *,
        container: str | None = None,
        stdin: bytes | str | None = None,
        tty: bool = False,
        timeout: float | None = None,
    ) -> ExecResult:
        """Run ``command`` in a container to its end and return ``(exit_code, stdout, stderr)``."""
        data = stdin.encode() if isinstance(stdin, str) else stdin
        stream = await self.exec_stream(name, command, container=container, stdin=data is not None, tty=tty)
        return await run_command(stream, data, timeout)

    async def exec_stream(
        self,
        name: str,
        command: Sequence[str],
        *,
        container: str | None = None,
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        tty: bool = False,
    ) -> AsyncExecStream:
        """Start ``command`` in a container and return the running session (see :class:`AsyncExecStream`)."""
        request = exec_request(
            self._pods_namespace("exec"), name, command, container=container, stdin=stdin, stdout=stdout,
            stderr=stderr, tty=tty,
        )  # fmt: skip
        return AsyncExecStream(await self._open(request, EXEC_SUBPROTOCOLS), f"exec in pod {name}", tty=tty)

    async def attach(
        self,
        name: str,
        *,
        container: str | None = None,
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        tty: bool = False,
    ) -> AsyncExecStream:
        """Attach to the main process of a running container (see :class:`AsyncExecStream`)."""
        request = attach_request(
            self._pods_namespace("attach"), name, container=container, stdin=stdin, stdout=stdout, stderr=stderr,
            tty=tty,
        )  # fmt: skip
        return AsyncExecStream(await self._open(request, EXEC_SUBPROTOCOLS), f"attach to pod {name}", tty=tty)

    async def connect_port(self, name: str, port: int) -> AsyncPortStream:
        """Open a TCP connection to ``port`` inside the pod (see :class:`AsyncPortStream`)."""
        request = port_forward_request(self._pods_namespace("port-forward"), name, port)
        socket = await self._open(request, PORT_FORWARD_SUBPROTOCOLS, attempts=PORT_FORWARD_ATTEMPTS)
        return AsyncPortStream(socket, port, f"port-forward to {name}:{port}")

    async def port_forward(
        self, name: str, ports: Sequence[int | str], *, address: str = "127.0.0.1"
    ) -> AsyncPortForwarder:
        """Listen on local ports and forward every connection to the pod (see :meth:`PodStreams.port_forward`)."""
        namespace = self._pods_namespace("port-forward")
        mappings = parse_port_mappings(ports)
        forwarder = AsyncPortForwarder(
            lambda port: self.connect_port(name, port), address=address,
            what=f"port-forward to pod {namespace}/{name}",
        )  # fmt: skip
        await forwarder.listen(mappings)
        return forwarder

    def _pods_namespace(self, verb: str) -> str:
        resource = self.api_resource
        if resource.group or resource.resource != "pods":
            raise ResourceRequestError(f"{verb} is a pod subresource; this client is for {resource.resource}")
        return self._namespace

    async def _open(
        self, request: Request, subprotocols: Sequence[str], *, attempts: int = 1
    ) -> AsyncWebSocketConnection:
        request = replace(request, timeout=CONNECT_TIMEOUT / attempts)
        attempt = 1
        while True:
            try:
                return await self._api_client.open_websocket(request, subprotocols)
            except TransportTimeout:
                if attempt == attempts:
                    raise
                logger.warning("%s: the WebSocket handshake stalled; trying a new connection", request.path)
                attempt += 1
            except (BadRequestError, ForbiddenError) as exc:
                raise_refused_stream(exc, request, self._namespace, self._api_client.transport.name)
                raise


__all__ = ["AsyncPodStreams"]
