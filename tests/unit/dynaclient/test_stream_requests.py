"""Pod stream requests and framing without a server: channel messages, exit statuses, request building and
validation, and WebSocket frames as the server reads them.

The streams themselves (exec, port-forward, logs over a scripted socket) are tested in test_streams.py.
"""

from __future__ import annotations

import datetime
import re

import pytest

from dynaclient.exceptions import ExecError, NamespaceScopeError, ResourceRequestError
from dynaclient.streams.channels import exit_code_from_status, resize_message
from dynaclient.streams.pod_requests import LogOptions, attach_request, exec_request, log_request, port_forward_request
from dynaclient.streams.port_forward import SEND_CHUNK, parse_port_mappings
from dynaclient.transport.websocket import binary_frame

# -- channels --------------------------------------------------------------------------------------------------


def test_exit_code_needs_the_exit_code_cause() -> None:
    # The official client takes causes[0] whatever its reason (kubernetes-client/python#1840).
    status = b'{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"Other","message":"x"}]}}'
    with pytest.raises(ExecError) as caught:
        exit_code_from_status(status)
    assert caught.value.status["reason"] == "NonZeroExitCode"


def test_exit_code_from_plain_text_and_empty() -> None:
    with pytest.raises(ExecError, match="executable file not found"):
        exit_code_from_status(b'exec: "nope": executable file not found in $PATH')
    with pytest.raises(ExecError):
        exit_code_from_status(b"")


def test_resize_rejects_out_of_range() -> None:
    with pytest.raises(ValueError, match="out of range"):
        resize_message(70000, 10)


# -- requests --------------------------------------------------------------------------------------------------


def test_log_query_covers_every_option() -> None:
    options = LogOptions(
        container="c",
        follow=True,
        since_time=datetime.datetime(
            2026, 1, 2, 3, 4, 5, 600000, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
        ),
        tail_lines=0,
        limit_bytes=5,
        timestamps=True,
        previous=True,
    )
    assert dict(options.query()) == {
        "container": "c",
        "follow": "true",
        "previous": "true",
        "sinceTime": "2026-01-02T02:04:05Z",
        "timestamps": "true",
        "tailLines": "0",
        "limitBytes": "5",
    }
    assert log_request("ns", "p", options).expect == "stream"
    assert log_request("ns", "p", LogOptions()).expect == "bytes"


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (LogOptions(since_seconds=1, since_time="2026-01-01T00:00:00Z"), "not both"),
        (LogOptions(since_seconds=0), "since_seconds"),
        (LogOptions(tail_lines=-1), "tail_lines"),
        (LogOptions(limit_bytes=True), "limit_bytes"),
        (LogOptions(since_time=datetime.datetime(2026, 1, 1)), "timezone-aware"),
    ],
)
def test_log_options_reject_bad_values(options: LogOptions, words: str) -> None:
    with pytest.raises(ResourceRequestError, match=words):
        options.query()


def test_exec_request_validation() -> None:
    with pytest.raises(ResourceRequestError, match="list of arguments"):
        exec_request("ns", "p", "ls -l")
    with pytest.raises(ResourceRequestError, match="at least one"):
        attach_request("ns", "p", stdout=False, stderr=False)
    with pytest.raises(NamespaceScopeError):
        exec_request("", "p", ["ls"])
    with pytest.raises(ResourceRequestError, match=r"segment|name"):
        exec_request("ns", "a/b", ["ls"])
    # A TTY merges stderr into stdout: asking for stderr too is dropped, as the kubelet would.
    assert dict(exec_request("ns", "p", ["sh"], tty=True, container="c").query) == {
        "command": "sh",
        "container": "c",
        "stdout": "true",
        "tty": "true",
    }


def test_port_mappings() -> None:
    assert parse_port_mappings(["0:80"]) == [(0, 80)]
    for bad in ("http", "80:0", "70000", "-1:80"):
        with pytest.raises(ValueError, match="port"):
            parse_port_mappings([bad])
    with pytest.raises(ValueError, match="at least one"):
        parse_port_mappings([])


@pytest.mark.parametrize(
    ("namespace", "name", "error"),
    [
        ("prod", "a/b", "may not contain '/'"),
        ("prod", "%41", "may not contain '%'"),
        ("..", "web", "may not be '.' or '..'"),
        ("prod", "", "needs a pod name"),
    ],
)
def test_pod_stream_paths_reject_what_a_path_segment_cannot_hold(namespace: str, name: str, error: str) -> None:
    with pytest.raises(ResourceRequestError, match=re.escape(error)):
        log_request(namespace, name, LogOptions())
    with pytest.raises(ResourceRequestError, match=re.escape(error)):
        exec_request(namespace, name, ["true"], stdin=False)
    with pytest.raises(ResourceRequestError, match=re.escape(error)):
        port_forward_request(namespace, name, 80)


def test_pod_stream_values_are_escaped_never_url_syntax() -> None:
    # '#' and '?' in a name, a container or a command stay data: nothing is cut off or smuggled into the query.
    assert log_request("prod", "#", LogOptions(container="-x?#")).url_path == (
        "/api/v1/namespaces/prod/pods/%23/log?container=-x%3F%23"
    )
    path = exec_request("prod", "web", ["-rf", "#?"], stdin=False).url_path
    assert path.startswith("/api/v1/namespaces/prod/pods/web/exec?command=-rf&command=%23%3F&")


@pytest.mark.parametrize("size", [0, 1, 124, 125, 65533, 65534, 65535, SEND_CHUNK, SEND_CHUNK + 3])
def test_binary_frames_parse_as_websockets_server_reads_them(size: int) -> None:
    """dynaclient frames data messages itself: the library's own server-side parser must read each length form."""
    from websockets.frames import Frame, Opcode
    from websockets.streams import StreamReader

    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    reader = StreamReader()
    reader.feed_data(b"".join(binary_frame(7, memoryview(data), bytes([0x5A, 0xC3, 0x01, 0xFE]))))
    parser = Frame.parse(reader.read_exact, mask=True, max_size=None)
    with pytest.raises(StopIteration) as parsed:
        next(parser)
    frame = parsed.value.value
    assert (frame.opcode, frame.fin, bytes(frame.data)) == (Opcode.BINARY, True, b"\x07" + data)
    assert not reader.buffer  # nothing after the one frame
