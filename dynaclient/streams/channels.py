"""The Kubernetes channel protocols over WebSocket, as pure functions: framing, exit status, resize, port prefixes.

Every WebSocket message of ``v4.channel.k8s.io`` and ``v5.channel.k8s.io`` is one channel byte followed by the
payload, in both directions (apimachinery ``pkg/util/remotecommand/constants.go``, ``wsstream/conn.go``). Exec and
attach use channels 0 stdin, 1 stdout, 2 stderr, 3 error (one JSON ``Status`` written once before the server
closes), 4 resize (JSON ``{"Width": w, "Height": h}``) and, in v5 only, 255 close (``FF <channel>``: half-closes
stdin). Port-forward (``v4.channel.k8s.io`` as the kubelet serves it, ``cri-streaming``
``portforward/websocket.go``) gives the i-th requested port data channel ``2i`` and error channel ``2i+1``; the first
message the server sends on each is the port number, two bytes little-endian.
"""

from __future__ import annotations

import json
from typing import Final

from dynaclient._types import JSONObject
from dynaclient.exceptions import DecodeError, ExecError, PortForwardError

V5_CHANNEL: Final = "v5.channel.k8s.io"
V4_CHANNEL: Final = "v4.channel.k8s.io"
EXEC_SUBPROTOCOLS: Final = (V5_CHANNEL, V4_CHANNEL)
"""Offered in this order in one header: an apiserver of 1.30 or later answers v5 (its stream translator takes
any request offering v5), an older one passes the request to the kubelet, which picks v4."""
PORT_FORWARD_SUBPROTOCOLS: Final = (V4_CHANNEL,)
"""The kubelet's WebSocket port-forward speaks v4 only; the apiserver passes it through unchanged."""

STDIN: Final = 0
STDOUT: Final = 1
STDERR: Final = 2
ERROR: Final = 3
RESIZE: Final = 4
CLOSE: Final = 255

PORT_DATA: Final = 0
PORT_ERROR: Final = 1


def frame(channel: int, data: bytes = b"") -> bytes:
    r"""Return the message carrying ``data`` on ``channel``.

    >>> frame(STDIN, b"foo")
    b'\x00foo'
    """
    return bytes((channel,)) + data


def close_message(channel: int) -> bytes:
    r"""Return the v5 message that half-closes ``channel`` (in practice stdin).

    >>> close_message(STDIN)
    b'\xff\x00'
    """
    return bytes((CLOSE, channel))


def resize_message(width: int, height: int) -> bytes:
    r"""Return the message that sets the terminal size, in columns and rows.

    >>> resize_message(80, 24)
    b'\x04{"Width":80,"Height":24}'
    """
    if width < 0 or height < 0 or width > 0xFFFF or height > 0xFFFF:
        raise ValueError(f"terminal size {width}x{height} is out of range (0 to 65535)")
    return frame(RESIZE, json.dumps({"Width": width, "Height": height}, separators=(",", ":")).encode())


def exit_code_from_status(data: bytes) -> int:
    """Return the exit code the error channel's ``Status`` reports; raise when the command could not run.

    ``Success`` is 0. ``Failure`` with reason ``NonZeroExitCode`` carries the code as the message of the cause
    whose ``reason`` is ``ExitCode`` (the Go field is ``Type``, its JSON name ``reason``: kubelet
    ``cri-streaming`` ``remotecommand/exec.go``). Any other Status means the command did not run.

    >>> exit_code_from_status(b'{"metadata":{},"status":"Success"}')
    0
    >>> exit_code_from_status(b'{"status":"Failure","reason":"NonZeroExitCode",'
    ...     b'"details":{"causes":[{"reason":"ExitCode","message":"3"}]}}')
    3
    >>> exit_code_from_status(b'{"status":"Failure","reason":"InternalError","message":"no such file"}')
    Traceback (most recent call last):
    ...
    dynaclient.exceptions.ExecError: the command could not be run: no such file (InternalError)

    Raises:
        ExecError: the Status is not a success or an exit code, or is not a Status at all.
    """
    status = _decode_status(data)
    if status.get("status") == "Success":
        return 0
    reason = str(status.get("reason") or "")
    if reason == "NonZeroExitCode":
        code = _exit_code_cause(status)
        if code is not None:
            return code
    message = str(status.get("message") or "no message")
    raise ExecError(f"the command could not be run: {message} ({reason or 'no reason'})", status=status)


def _decode_status(data: bytes) -> JSONObject:
    try:
        status = json.loads(data)
    except (ValueError, RecursionError):
        status = None
    if not isinstance(status, dict):
        # A server before v4 writes the error as plain text.
        text = data[:300].decode("utf-8", errors="replace").strip()
        raise ExecError(f"the command could not be run: {text}")
    return status


def _exit_code_cause(status: JSONObject) -> int | None:
    details = status.get("details")
    causes = details.get("causes") if isinstance(details, dict) else None
    for cause in causes if isinstance(causes, list) else []:
        if isinstance(cause, dict) and cause.get("reason") == "ExitCode":
            message = cause.get("message")
            if isinstance(message, str) and message.strip().isdigit():
                return int(message)
    return None


def check_port_prefix(data: memoryview, port: int, channel: str) -> memoryview:
    r"""Check that the first message of a port-forward channel names ``port``; return the rest of it.

    >>> check_port_prefix(memoryview(b"\x50\x00"), 80, "data").tobytes()
    b''
    >>> check_port_prefix(memoryview(b"\x51\x00"), 80, "data")
    Traceback (most recent call last):
    ...
    dynaclient.exceptions.DecodeError: port-forward data channel began with port 81, expected 80

    Raises:
        DecodeError: the message is shorter than two bytes or names another port.
    """
    if len(data) < 2:
        raise DecodeError(f"port-forward {channel} channel began with {len(data)} bytes, expected a 2-byte port")
    announced = int.from_bytes(data[:2], "little")
    if announced != port:
        raise DecodeError(f"port-forward {channel} channel began with port {announced}, expected {port}")
    return data[2:]


def port_forward_error(data: bytes | memoryview, port: int) -> PortForwardError:
    """Build the error for a message on a port's error channel (plain text from the kubelet).

    >>> port_forward_error(b"error forwarding port 80 to pod web: connection refused", 80)
    PortForwardError('port 80: error forwarding port 80 to pod web: connection refused')
    """
    text = bytes(data[:1000]).decode("utf-8", errors="replace").strip()
    return PortForwardError(f"port {port}: {text}")


def check_port(port: int) -> int:
    """Return ``port`` if it is a TCP port number (1 to 65535).

    >>> check_port(0)
    Traceback (most recent call last):
    ...
    ValueError: port 0 is not a TCP port number (1 to 65535)
    """
    if type(port) is not int or not 1 <= port <= 0xFFFF:
        raise ValueError(f"port {port!r} is not a TCP port number (1 to 65535)")
    return port


__all__ = [
    "CLOSE",
    "ERROR",
    "EXEC_SUBPROTOCOLS",
    "PORT_DATA",
    "PORT_ERROR",
    "PORT_FORWARD_SUBPROTOCOLS",
    "RESIZE",
    "STDERR",
    "STDIN",
    "STDOUT",
    "V4_CHANNEL",
    "V5_CHANNEL",
    "check_port",
    "check_port_prefix",
    "close_message",
    "exit_code_from_status",
    "frame",
    "port_forward_error",
    "resize_message",
]
