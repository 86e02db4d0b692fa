"""KubectlRawTransport's running kubectl processes: timeouts, cancellation, and watches streamed line by line.

Every way a request ends early kills kubectl; the tests check the process is gone.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dynaclient.exceptions import ConnectError, ConnectionLostError, RequestCancelled, TransportTimeout
from dynaclient.request import Cancellation, Request, Response
from tests.unit.dynaclient.kubectl.fake_kubectl import (
    CM_PATH,
    NOT_FOUND_DUMP,
    V132_RESPONSE,
    V133_NOISE,
    V133_RESPONSE,
    WATCH_EVENT,
    FakeKubectl,
    process_is_gone,
    status_of,
)


def test_a_request_that_outlives_its_timeout_kills_kubectl(fake: FakeKubectl) -> None:
    fake.script(hang=True)
    started = time.monotonic()

    with pytest.raises(TransportTimeout, match=r"within 0\.5s"):
        fake.transport().send(Request("GET", "/api", timeout=0.5))

    assert time.monotonic() - started < 10
    assert process_is_gone(fake.only_call()["pid"])


def test_cancelling_a_running_request_kills_kubectl_and_raises(fake: FakeKubectl, tmp_path: Path) -> None:
    fifo = tmp_path / "started"
    os.mkfifo(fifo)
    fake.script(hang=True, fifo=fifo)
    cancellation = Cancellation()
    outcome: list[BaseException] = []

    def send() -> None:
        try:
            fake.transport().send(Request("GET", "/api", cancellation=cancellation))
        except BaseException as error:
            outcome.append(error)

    sender = threading.Thread(target=send)
    sender.start()
    with open(fifo) as started:  # opens once kubectl is running
        assert started.read() == "started"
    cancellation.cancel()
    sender.join(timeout=10)

    assert not sender.is_alive()
    assert [type(error) for error in outcome] == [RequestCancelled]
    assert process_is_gone(fake.only_call()["pid"])


def test_an_already_cancelled_request_never_runs_kubectl(fake: FakeKubectl) -> None:
    cancellation = Cancellation()
    cancellation.cancel()

    with pytest.raises(RequestCancelled):
        fake.transport().send(Request("GET", "/api", cancellation=cancellation))

    assert fake.calls() == []


def _watch(fake: FakeKubectl, **kwargs: Any) -> Response:
    request = Request("GET", CM_PATH, query=(("watch", "1"), ("timeoutSeconds", "5")), expect="stream", **kwargs)
    return fake.transport().send(request)


def _hanging_watch(fake: FakeKubectl, lines: int = 2) -> None:
    stderr = V133_NOISE + V133_RESPONSE.format(verb="GET", status="200 OK")
    fake.script(stderr=stderr, stdout_lines=[WATCH_EVENT] * lines, hang=True)


def test_a_watch_streams_lines_while_kubectl_still_runs(fake: FakeKubectl) -> None:
    _hanging_watch(fake)

    with _watch(fake) as response:
        lines = response.iter_lines()
        first, second = next(lines), next(lines)

    assert response.status == 200
    assert json.loads(first) == json.loads(second) == json.loads(WATCH_EVENT)
    call = fake.only_call()
    assert call["argv"] == ["-v=6", "get", f"--raw={CM_PATH}?watch=1&timeoutSeconds=5"]
    assert process_is_gone(call["pid"])


def test_a_watch_that_the_server_ends_yields_every_line_and_stops(fake: FakeKubectl) -> None:
    fake.script(stderr=V132_RESPONSE.format(verb="GET", status="200 OK"), stdout_lines=[WATCH_EVENT] * 3)

    response = _watch(fake)

    assert list(response.iter_lines()) == [WATCH_EVENT.strip().encode()] * 3


def test_closing_a_watch_from_another_thread_ends_the_blocked_reader(fake: FakeKubectl) -> None:
    _hanging_watch(fake, lines=1)
    response = _watch(fake)
    got_first = threading.Event()
    read: list[bytes] = []

    def consume() -> None:
        for line in response.iter_lines():
            read.append(line)
            got_first.set()

    consumer = threading.Thread(target=consume)
    consumer.start()
    assert got_first.wait(timeout=10)
    response.close()
    consumer.join(timeout=10)

    assert not consumer.is_alive()
    assert read == [WATCH_EVENT.strip().encode()]
    assert process_is_gone(fake.only_call()["pid"])


def test_closing_an_unread_watch_kills_kubectl(fake: FakeKubectl) -> None:
    _hanging_watch(fake)

    _watch(fake).close()

    assert process_is_gone(fake.only_call()["pid"])


def test_cancelling_a_watch_kills_kubectl_and_the_reader_raises(fake: FakeKubectl) -> None:
    _hanging_watch(fake, lines=1)
    cancellation = Cancellation()
    lines: Iterator[bytes] = _watch(fake, cancellation=cancellation).iter_lines()
    next(lines)

    cancellation.cancel()

    with pytest.raises(RequestCancelled):
        next(lines)
    assert process_is_gone(fake.only_call()["pid"])


def test_a_watch_silent_for_longer_than_the_timeout_raises(fake: FakeKubectl) -> None:
    _hanging_watch(fake, lines=1)
    lines = _watch(fake, timeout=0.5).iter_lines()
    next(lines)

    with pytest.raises(TransportTimeout):
        next(lines)
    assert process_is_gone(fake.only_call()["pid"])


def test_a_watch_whose_status_never_comes_times_out(fake: FakeKubectl) -> None:
    fake.script(stderr=V133_NOISE, hang=True)

    with pytest.raises(TransportTimeout):
        _watch(fake, timeout=0.5)
    assert process_is_gone(fake.only_call()["pid"])


def test_a_watch_refused_by_the_server_returns_its_status(fake: FakeKubectl) -> None:
    fake.script(stderr=V133_RESPONSE.format(verb="GET", status="404 Not Found") + NOT_FOUND_DUMP, exit_code=1)

    response = _watch(fake)

    assert (response.status, status_of(response)["reason"]) == (404, "NotFound")


def test_a_watch_that_cannot_connect_raises_connect_error(fake: FakeKubectl) -> None:
    fake.script(stderr="The connection to the server 127.0.0.1:1 was refused\n", exit_code=1)

    with pytest.raises(ConnectError):
        _watch(fake)


def test_a_watch_broken_mid_stream_raises_connection_lost_so_that_a_watch_ends_quietly(fake: FakeKubectl) -> None:
    stderr = V133_RESPONSE.format(verb="GET", status="200 OK") + "error: unexpected EOF\n"
    fake.script(stderr=stderr, stdout_lines=[WATCH_EVENT], exit_code=1)
    lines = _watch(fake).iter_lines()

    assert next(lines) == WATCH_EVENT.strip().encode()
    with pytest.raises(ConnectionLostError, match="in the middle of the response: error: unexpected EOF"):
        next(lines)
