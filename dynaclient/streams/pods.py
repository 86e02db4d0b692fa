"""The pod stream verbs of :class:`~dynaclient.resources.client.ResourceClient`: logs, exec, attach, port-forward.

Every connection is made by the client's :class:`~dynaclient.client.APIClient`, so it carries the same
credentials (tokens refreshed, exec plugins, client certificates) and TLS settings as every other request. What each
way of reaching the cluster supports:

* kubeconfig and in-cluster (the HTTP transport): everything.
* ``kubectl proxy``: logs and port-forward; exec and attach are refused by the proxy's default
  ``--reject-paths`` (:class:`~dynaclient.exceptions.KubectlProxyRefusedError` says so).
* ``kubectl --raw``: logs only; it cannot carry a WebSocket
  (:class:`~dynaclient.exceptions.UnsupportedRequestError`).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from dataclasses import replace

from dynaclient.client import APIClient
from dynaclient.discovery.discovery import APIResource
from dynaclient.exceptions import (
    BadRequestError,
    ForbiddenError,
    KubectlProxyRefusedError,
    ResourceRequestError,
    TransportTimeout,
)
from dynaclient.request import Request
from dynaclient.streams.channels import EXEC_SUBPROTOCOLS, PORT_FORWARD_SUBPROTOCOLS
from dynaclient.streams.logs import PodLogs, open_logs, raise_if_not_running
from dynaclient.streams.pod_requests import LogOptions, attach_request, exec_request, port_forward_request
from dynaclient.streams.port_forward import PortForwarder, PortStream, parse_port_mappings
from dynaclient.streams.remote_command import ExecResult, ExecStream, run_command
from dynaclient.transport.websocket import WebSocketConnection

logger = logging.getLogger("dynaclient")

CONNECT_TIMEOUT = 30.0
"""Seconds to wait for a WebSocket to open (connection, TLS and the upgrade)."""
PORT_FORWARD_ATTEMPTS = 2
"""A port-forward handshake that stalls is tried once more on a fresh connection, each attempt within its share of
:data:`CONNECT_TIMEOUT`: nothing reaches the pod before the upgrade is answered (the kubelet dials the pod port
after its 101), so a retry cannot open a second connection in the pod. Exec and attach are tried once: a lost
answer may mean the command already runs."""


class PodStreams:
    """Logs, exec, attach and port-forward, for a :class:`ResourceClient` of ``pods`` bound to a namespace.

    Thread-safety: immutable; every call opens its own connection.
    """

    __slots__ = ()

    _api_client: APIClient
    _namespace: str
    _timeout: float | None
    api_resource: APIResource

    def logs(
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
    ) -> PodLogs:
        """Open a container's log: iterate the result for lines, or read its bytes (see :class:`PodLogs`).

        Args:
            name: the pod.
            container: the container; needed when the pod has several.
            follow: keep reading as the container writes, until it stops or the log is closed.
            since_seconds: only lines newer than this many seconds.
            since_time: only lines at or after this time (aware ``datetime`` or RFC 3339 string).
            tail_lines: only the last this many lines.
            limit_bytes: stop after this many bytes.
            timestamps: prefix each line with its RFC 3339 time.
            previous: the log of the container's previous, terminated instance.

        Raises:
            PodNotRunningError: the pod is not scheduled yet, or its container is waiting to start.
            BadRequestError: for example an unknown container, or no container named in a pod with several.
            NotFoundError: no such pod.
        """
        options = LogOptions(
            container, follow, since_seconds, since_time, tail_lines, limit_bytes, timestamps, previous
        )
        return open_logs(self._api_client, self._pods_namespace("logs"), name, options, timeout=self._timeout)

    def exec(
        self,
        name: str,
        command: Sequence[str],
        *,
        container: str | None = None,
        stdin: bytes | str | None = None,
        tty: bool = False,
        timeout: float | None = None,
    ) -> ExecResult:
        """Run ``command`` in a container to its end and return ``(exit_code, stdout, stderr)``.

        A non-zero exit is a result, not an error. ``stdin``, when given, is written and then closed.

        Raises:
            ExecError: the command could not be run (for example it does not exist); ``status`` says why.
            BadRequestError: for example an unknown container.
            TransportTimeout: the command did not end within ``timeout`` seconds.
        """
        data = stdin.encode() if isinstance(stdin, str) else stdin
        stream = self.exec_stream(name, command, container=container, stdin=data is not None, tty=tty)
        return run_command(stream, data, timeout)

    def exec_stream(
        self,
        name: str,
        command: Sequence[str],
        *,
        container: str | None = None,
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        tty: bool = False,
    ) -> ExecStream:
        """Start ``command`` in a container and return the running session (see :class:`ExecStream`).

        Raises:
            BadRequestError: for example an unknown container or a pod without a node.
            KubectlProxyRefusedError: the client goes through ``kubectl proxy``, which refuses exec by default.
        """
        request = exec_request(
            self._pods_namespace("exec"), name, command, container=container, stdin=stdin, stdout=stdout,
            stderr=stderr, tty=tty,
        )  # fmt: skip
        return ExecStream(self._open(request, EXEC_SUBPROTOCOLS), f"exec in pod {name}", tty=tty)

    def attach(
        self,
        name: str,
        *,
        container: str | None = None,
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        tty: bool = False,
    ) -> ExecStream:
        """Attach to the main process of a running container (see :class:`ExecStream`).

        Raises:
            BadRequestError: for example an unknown container.
            KubectlProxyRefusedError: the client goes through ``kubectl proxy``, which refuses attach by default.
        """
        request = attach_request(
            self._pods_namespace("attach"), name, container=container, stdin=stdin, stdout=stdout, stderr=stderr,
            tty=tty,
        )  # fmt: skip
        return ExecStream(self._open(request, EXEC_SUBPROTOCOLS), f"attach to pod {name}", tty=tty)

    def connect_port(self, name: str, port: int) -> PortStream:
        """Open a TCP connection to ``port`` inside the pod and return it as a socket-like :class:`PortStream`.

        Raises:
            ValueError: ``port`` is not a TCP port number.
            NotFoundError: no such pod.
        """
        request = port_forward_request(self._pods_namespace("port-forward"), name, port)
        socket = self._open(request, PORT_FORWARD_SUBPROTOCOLS, attempts=PORT_FORWARD_ATTEMPTS)
        return PortStream(socket, port, f"port-forward to {name}:{port}")

    def port_forward(self, name: str, ports: Sequence[int | str], *, address: str = "127.0.0.1") -> PortForwarder:
        """Listen on local ports and forward every connection to the pod, like ``kubectl port-forward``.

        Args:
            name: the pod.
            ports: ``kubectl port-forward`` specs: ``8080`` (same port), ``"8080:80"``, ``":80"`` (local port chosen
                by the system; read it from :attr:`PortForwarder.ports`).
            address: the local address to listen on.

        Raises:
            ValueError: a port spec is malformed.
            OSError: a local port cannot be listened on.
        """
        namespace = self._pods_namespace("port-forward")
        return PortForwarder(
            lambda port: self.connect_port(name, port),
            parse_port_mappings(ports),
            address=address,
            what=f"port-forward to pod {namespace}/{name}",
        )

    def _pods_namespace(self, verb: str) -> str:
        resource = self.api_resource
        if resource.group or resource.resource != "pods":
            raise ResourceRequestError(f"{verb} is a pod subresource; this client is for {resource.resource}")
        return self._namespace

    def _open(self, request: Request, subprotocols: Sequence[str], *, attempts: int = 1) -> WebSocketConnection:
        request = replace(request, timeout=CONNECT_TIMEOUT / attempts)
        attempt = 1
        while True:
            try:
                return self._api_client.open_websocket(request, subprotocols)
            except TransportTimeout:
                if attempt == attempts:
                    raise
                logger.warning("%s: the WebSocket handshake stalled; trying a new connection", request.path)
                attempt += 1
            except (BadRequestError, ForbiddenError) as exc:
                raise_refused_stream(exc, request, self._namespace, self._api_client.transport.name)
                raise


def raise_refused_stream(
    error: BadRequestError | ForbiddenError, request: Request, namespace: str, transport_name: str
) -> None:
    """Raise the more telling error for a refused exec, attach or port-forward upgrade, if there is one.

    Shared by the sync and asyncio clients; the caller raises ``error`` itself when this returns.

    Raises:
        PodNotRunningError: the pod is not scheduled or its container is not running.
        KubectlProxyRefusedError: ``kubectl proxy`` refused the path (its default ``--reject-paths``).
    """
    verb = request.path.rsplit("/", 1)[1]
    if isinstance(error, BadRequestError):
        raise_if_not_running(error, f"{verb} in namespace {namespace}")
    elif transport_name == "kubectl-proxy" and _from_proxy_filter(error):
        raise KubectlProxyRefusedError(
            {
                **error.status,
                "message": f"kubectl proxy refuses {verb} by default (its --reject-paths); start it with "
                "--reject-paths='^$' to allow it, or use the kubeconfig",
            },
            code=error.code,
            method=error.method,
            path=error.path,
        ) from error


def _from_proxy_filter(error: ForbiddenError) -> bool:
    """Whether a 403 is the proxy filter's plain ``Forbidden`` rather than an apiserver ``Status``."""
    causes = error.details.get("causes")
    first = causes[0] if isinstance(causes, list) and causes else {}
    return isinstance(first, dict) and first.get("reason") == "UnexpectedServerResponse"


__all__ = ["CONNECT_TIMEOUT", "PORT_FORWARD_ATTEMPTS", "PodStreams", "raise_refused_stream"]
