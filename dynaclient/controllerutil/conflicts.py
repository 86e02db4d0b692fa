"""``retry_on_conflict``: run a read-modify-write again when the server reports a stale resourceVersion."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from dynaclient.exceptions import ConflictError

logger = logging.getLogger(__name__)

T = TypeVar("T")


def retry_on_conflict(
    attempt: Callable[[], T],
    *,
    steps: int = 5,
    delay: float = 0.01,
    factor: float = 1.0,
    jitter: float = 0.1,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``attempt`` until it does not raise :class:`~dynaclient.ConflictError`, at most ``steps`` times.

    client-go util/retry ``RetryOnConflict`` with ``DefaultRetry`` (5 steps, 10 ms, factor 1, jitter 0.1).
    ``attempt`` must read the object afresh each time: a retry with the same stale resourceVersion fails again.

    Args:
        attempt: the read-modify-write to run.
        steps: the most calls of ``attempt``.
        delay: the first pause between calls, in seconds.
        factor: how much each pause grows.
        jitter: up to this fraction of the pause is added at random.
        sleep: how to pause (tests pass a fake).

    Returns:
        What ``attempt`` returned.

    Raises:
        ConflictError: the last conflict, when every call conflicted.
        ValueError: ``steps`` is below 1.

    >>> calls = []
    >>> def bump():
    ...     calls.append(1)
    ...     if len(calls) < 3:
    ...         raise ConflictError({"reason": "Conflict"}, code=409)
    ...     return len(calls)
    >>> retry_on_conflict(bump, sleep=lambda seconds: None)
    3
    """
    if steps < 1:
        raise ValueError(f"retry_on_conflict needs steps >= 1, got {steps}")
    for step in range(1, steps + 1):
        try:
            return attempt()
        except ConflictError as error:
            if step == steps:
                raise
            logger.debug("conflict on attempt %d of %d, retrying: %s", step, steps, error)
        sleep(delay * (1 + random.random() * jitter))
        delay *= factor
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["retry_on_conflict"]
