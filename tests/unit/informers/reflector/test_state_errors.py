"""Sorting the reflector's failures as client-go does: unavailable resource versions, retriable watches, delays."""

from __future__ import annotations

import pytest

from dynaclient import ConnectError, GoneError, NotFoundError, ServerError, TooManyRequestsError
from informers.reflector.errors import (
    minimum_delay,
    resource_version_unavailable,
    streaming_list_unsupported,
    watch_retriable,
)
from tests.unit.informers.reflector.objects import expired, too_large


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (expired(), True),
        (GoneError({"reason": "Gone"}, code=410), True),
        (too_large(), True),
        (
            ServerError(
                {"reason": "Timeout", "message": "Timeout: Too large resource version: 9, current: 5"}, code=504
            ),
            True,
        ),
        (
            ServerError(
                {"reason": "Timeout", "details": {"causes": [{"message": "Too large resource version"}]}}, code=504
            ),
            True,
        ),
        (ServerError({"reason": "Timeout", "message": "request did not complete"}, code=504), False),
        (ServerError({"reason": "InternalError", "message": "Too large resource version"}, code=500), False),
        (NotFoundError({"reason": "NotFound"}, code=404), False),
        (ConnectError("refused"), False),
    ],
    ids=[
        "expired",
        "gone",
        "too-large-cause",
        "too-large-message-before-1.17",
        "too-large-cause-message-1.17",
        "plain-timeout",
        "message-without-timeout",
        "not-found",
        "no-response",
    ],
)
def test_expired_and_too_large_resource_versions_are_recognised_as_client_go_does(
    error: Exception, unavailable: bool
) -> None:
    assert resource_version_unavailable(error) is unavailable


def test_only_transport_errors_and_429_resume_a_watch_without_a_relist() -> None:
    assert watch_retriable(ConnectError("refused"))
    assert watch_retriable(TooManyRequestsError({}, code=429))
    assert not watch_retriable(expired())
    assert not watch_retriable(ServerError({}, code=500))


def test_not_found_does_not_mean_streaming_lists_are_unsupported() -> None:
    assert not streaming_list_unsupported(NotFoundError({}, code=404))


def test_only_a_429_asks_for_a_minimum_delay() -> None:
    assert minimum_delay(TooManyRequestsError({}, code=429, retry_after=-1.0)) == 0.0
    assert minimum_delay(TooManyRequestsError({"details": {"retryAfterSeconds": 7}}, code=429)) == 7.0
    assert minimum_delay(ServerError({}, code=503)) == 0.0
