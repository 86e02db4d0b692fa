"""APIClient retries: Retry-After bounded by a cap and the request's deadline, interruptible; only retryable errors
are retried; the client-side token bucket."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from dynaclient.client import APIClient
from dynaclient.exceptions import (
    APIError,
    ConnectionLostError,
    RequestCancelled,
    TooManyRequestsError,
    TransportError,
    TransportTimeout,
)
from dynaclient.rate_limit import TokenBucketRateLimiter
from dynaclient.request import Cancellation, Request, Response
from dynaclient.transport.base import BaseTransport

THROTTLED = b'{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"TooManyRequests","code":429}'


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Script(BaseTransport):
    """Answers with the given responses or errors in turn; records each request."""

    def __init__(self, *answers: Response | TransportError) -> None:
        self._answers: Iterator[Response | TransportError] = iter(answers)
        self.sent: list[Request] = []

    def send(self, request: Request) -> Response:
        self.sent.append(request)
        answer = next(self._answers)
        if isinstance(answer, TransportError):
            raise answer
        return answer


def throttled(retry_after: str) -> Response:
    return Response.from_bytes(429, THROTTLED, {"Retry-After": retry_after})


def ok() -> Response:
    return Response.from_bytes(200, b"{}")


def client(transport: Script, clock: Clock, waits: list[float], **kwargs: object) -> APIClient:
    def wait(_: threading.Event, seconds: float) -> bool:
        waits.append(seconds)
        clock.now += seconds
        return False

    return APIClient(transport, clock=clock, wait=wait, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("retry_after", ["3600", "9" * 5000], ids=["an-hour", "5000-digits"])
def test_a_retry_after_beyond_the_timeout_or_the_cap_is_not_waited_for(retry_after: str) -> None:
    # Before: Retry-After: 3600 blocked a timeout=5 get for an hour; 5000 digits raised OverflowError (ValueError).
    clock, waits = Clock(), list[float]()
    transport = Script(throttled(retry_after), ok())

    with pytest.raises(TooManyRequestsError):
        client(transport, clock, waits).send(Request("GET", "/api", timeout=5))
    with pytest.raises(TooManyRequestsError):
        client(Script(throttled(retry_after)), clock, waits).send(Request("GET", "/api"))  # no timeout: the cap

    assert waits == []
    assert len(transport.sent) == 1


def test_retry_after_waits_count_inside_the_timeout() -> None:
    clock, waits = Clock(), list[float]()
    transport = Script(throttled("3"), throttled("3"), ok())

    with pytest.raises(TooManyRequestsError):
        client(transport, clock, waits).send(Request("GET", "/api", timeout=5))

    assert waits == [3.0]  # the second 3 s would end past the 5 s deadline
    assert [round(r.timeout or 0, 3) for r in transport.sent] == [5.0, 2.0]  # each attempt gets what is left


def test_a_retry_after_within_the_cap_is_obeyed_without_a_timeout() -> None:
    clock, waits = Clock(), list[float]()
    transport = Script(throttled("2"), ok())

    client(transport, clock, waits).send(Request("GET", "/api"))

    assert waits == [2.0]


def test_closing_the_client_or_cancelling_the_request_interrupts_a_retry_wait() -> None:
    holder: list[APIClient] = []

    def close_while_waiting(event: threading.Event, seconds: float) -> bool:
        holder[0].close()  # shutdown from "another thread" while this one waits
        return event.wait(0)

    api = APIClient(Script(throttled("30")), wait=close_while_waiting)
    holder.append(api)
    with pytest.raises(RequestCancelled):
        api.send(Request("GET", "/api"))

    cancellation = Cancellation()

    def cancel_while_waiting(event: threading.Event, seconds: float) -> bool:
        cancellation.cancel()
        return event.wait(0)

    api = APIClient(Script(throttled("30")), wait=cancel_while_waiting)
    with pytest.raises(RequestCancelled):
        api.send(Request("GET", "/api", cancellation=cancellation))


def test_only_a_lost_connection_is_retried_not_errors_that_would_fail_again() -> None:
    # Before: a kubectl failure without a server answer was retried 10 times, a second apart (11.6 s autodetect).
    clock, waits = Clock(), list[float]()
    failing = Script(TransportError("kubectl exited with code 1 without a server response"))
    with pytest.raises(TransportError):
        client(failing, clock, waits).send(Request("GET", "/api"))
    assert (len(failing.sent), waits) == (1, [])

    lost = Script(ConnectionLostError("GET /api: the connection was lost"), ok())
    assert client(lost, clock, waits).send(Request("GET", "/api")).ok
    assert (len(lost.sent), waits) == (2, [1.0])

    post = Script(ConnectionLostError("POST /api: the connection was lost"))
    with pytest.raises(ConnectionLostError):
        client(post, clock, waits).send(Request("POST", "/api"))


def test_the_token_bucket_spaces_requests_and_fails_fast_past_the_deadline() -> None:
    clock, waits = Clock(), list[float]()
    limiter = TokenBucketRateLimiter(qps=2, burst=2, clock=clock)
    api = client(Script(*(ok() for _ in range(4))), clock, waits, rate_limiter=limiter)

    for _ in range(3):
        api.send(Request("GET", "/api"))
    assert waits == [0.5]  # two at once (the burst), then one every half second

    limiter.reserve()  # someone else takes the next slot: the next is a second away
    with pytest.raises(TransportTimeout, match="rate limit"):
        api.send(Request("GET", "/api", timeout=0.2))
    assert api.send(Request("GET", "/api", timeout=5)).ok  # the refused request took no token
    assert waits == [0.5, 1.0]


def test_control_characters_in_a_server_message_are_escaped_as_kubectl_does() -> None:
    status = b'{"kind":"Status","status":"Failure","code":403,"reason":"Forbidden","message":"no\\u001b[2J\\rway"}'
    api = APIClient(Script(Response.from_bytes(403, status)))

    with pytest.raises(APIError) as raised:
        api.send(Request("GET", "/api"))

    assert "no^[[2J\\rway" in str(raised.value)
    assert raised.value.message == "no\x1b[2J\rway"  # the Status itself is kept as sent
