"""Pod streams for the asyncio client: what ``await pods.logs(...)``, ``exec``, ``attach`` and ``port_forward`` return.

The verbs are methods of :class:`~dynaclient.aio.AsyncResourceClient` (from :class:`AsyncPodStreams`).
"""

from __future__ import annotations

from dynaclient.aio.streams.logs import AsyncPodLogs
from dynaclient.aio.streams.pods import AsyncPodStreams
from dynaclient.aio.streams.port_forward import AsyncPortForwarder, AsyncPortStream
from dynaclient.aio.streams.remote_command import AsyncExecStream

__all__ = ["AsyncExecStream", "AsyncPodLogs", "AsyncPodStreams", "AsyncPortForwarder", "AsyncPortStream"]
