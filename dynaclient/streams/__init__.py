"""Pod streams: logs, exec, attach and port-forward (``pods.logs(...)``, ``pods.exec(...)``, ...).

The verbs are methods of :class:`~dynaclient.resources.client.ResourceClient` (from :class:`PodStreams`); this
package holds what they return. Exec, attach and port-forward need the ``streams`` extra (``websockets``).
"""

from __future__ import annotations

from dynaclient.streams.logs import PodLogs
from dynaclient.streams.pod_requests import LogOptions
from dynaclient.streams.pods import PodStreams
from dynaclient.streams.port_forward import PortForwarder, PortStream
from dynaclient.streams.remote_command import ExecResult, ExecStream

__all__ = ["ExecResult", "ExecStream", "LogOptions", "PodLogs", "PodStreams", "PortForwarder", "PortStream"]
