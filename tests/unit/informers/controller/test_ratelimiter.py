"""Rate limiters against client-go's default_rate_limiters_test.go sequences."""

from __future__ import annotations

import pytest

from informers import FakeClock
from informers.controller import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter,
    MaxOfRateLimiter,
    default_controller_rate_limiter,
)


def test_item_exponential_failure() -> None:
    # TestItemExponentialFailureRateLimiter
    limiter = ItemExponentialFailureRateLimiter(0.001, 1.0)
    assert [limiter.when("one") for _ in range(5)] == [0.001, 0.002, 0.004, 0.008, 0.016]
    assert limiter.num_requeues("one") == 5
    assert [limiter.when("two") for _ in range(2)] == [0.001, 0.002]
    assert limiter.num_requeues("two") == 2
    limiter.forget("one")
    assert limiter.num_requeues("one") == 0
    assert limiter.when("one") == 0.001


def test_item_exponential_failure_overflow() -> None:
    # TestItemExponentialFailureRateLimiterOverFlow
    limiter = ItemExponentialFailureRateLimiter(0.001, 1000.0)
    for _ in range(5):
        limiter.when("one")
    assert limiter.when("one") == 0.032
    for _ in range(1000):
        limiter.when("overflow1")
    assert limiter.when("overflow1") == 1000.0
    limiter = ItemExponentialFailureRateLimiter(60.0, 1000 * 3600.0)
    for _ in range(2):
        limiter.when("two")
    assert limiter.when("two") == 240.0
    for _ in range(1000):
        limiter.when("overflow2")
    assert limiter.when("overflow2") == 1000 * 3600.0


def test_item_fast_slow() -> None:
    # TestItemFastSlowRateLimiter
    limiter = ItemFastSlowRateLimiter(0.005, 10.0, 3)
    assert [limiter.when("one") for _ in range(5)] == [0.005, 0.005, 0.005, 10.0, 10.0]
    assert limiter.num_requeues("one") == 5
    assert [limiter.when("two") for _ in range(2)] == [0.005, 0.005]
    limiter.forget("one")
    assert limiter.num_requeues("one") == 0
    assert limiter.when("one") == 0.005


def test_max_of() -> None:
    # TestMaxOfRateLimiter
    limiter = MaxOfRateLimiter(ItemFastSlowRateLimiter(0.005, 3.0, 3), ItemExponentialFailureRateLimiter(0.001, 1.0))
    assert [limiter.when("one") for _ in range(5)] == [0.005, 0.005, 0.005, 3.0, 3.0]
    assert limiter.num_requeues("one") == 5
    assert [limiter.when("two") for _ in range(2)] == [0.005, 0.005]
    limiter.forget("one")
    assert limiter.num_requeues("one") == 0
    assert limiter.when("one") == 0.005


def test_bucket_gives_the_burst_then_spaces_tokens_and_refills() -> None:
    clock = FakeClock()
    limiter = BucketRateLimiter(10.0, 3, clock=clock)
    assert [limiter.when(key) for key in "abc"] == [0.0, 0.0, 0.0]
    assert limiter.when("d") == pytest.approx(0.1)
    assert limiter.when("e") == pytest.approx(0.2)
    clock.advance(10)  # refills to the burst, no more
    assert [limiter.when(key) for key in "fgh"] == [0.0, 0.0, 0.0]
    assert limiter.when("i") == pytest.approx(0.1)
    assert limiter.num_requeues("i") == 0


def test_default_controller_rate_limiter_is_the_max_of_exponential_and_bucket() -> None:
    clock = FakeClock()
    limiter = default_controller_rate_limiter(clock=clock)
    assert [limiter.when("one") for _ in range(3)] == [0.005, 0.01, 0.02]
    for index in range(97):
        limiter.when(f"other-{index}")
    # the bucket's 100 tokens are spent: the next failure of a fresh key waits for a token (0.1 s), not 5 ms
    assert limiter.when("fresh") == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("base", "max_delay"),
    [(-1.0, 1.0), (2.0, 1.0)],
)
def test_exponential_rejects_bad_bounds(base: float, max_delay: float) -> None:
    with pytest.raises(ValueError, match="base"):
        ItemExponentialFailureRateLimiter(base, max_delay)
