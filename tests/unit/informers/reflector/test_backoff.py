from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from informers import Backoff, FakeClock
from informers.reflector.backoff import (
    DEFAULT_CAP,
    DEFAULT_FACTOR,
    DEFAULT_INITIAL,
    DEFAULT_JITTER,
    DEFAULT_RESET_AFTER,
)


def constant(value: float) -> Any:
    return lambda: value


def test_defaults_are_client_go_reflector_defaults() -> None:
    # tools/cache/reflector.go: Duration 800ms, Cap 30s, Factor 2.0, Jitter 1.0, DelayWithReset(clock, 2min).
    assert (DEFAULT_INITIAL, DEFAULT_CAP, DEFAULT_FACTOR, DEFAULT_JITTER, DEFAULT_RESET_AFTER) == (
        0.8,
        30.0,
        2.0,
        1.0,
        120.0,
    )


def test_delays_double_from_the_initial_delay_up_to_the_cap_without_jitter() -> None:
    backoff = Backoff(clock=FakeClock(), rand=constant(0.0))
    assert [backoff.next_delay() for _ in range(9)] == [0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0, 30.0]


def test_full_jitter_can_double_a_delay_including_the_cap() -> None:
    backoff = Backoff(clock=FakeClock(), rand=constant(0.999))
    delays = [backoff.next_delay() for _ in range(8)]
    assert delays[0] == pytest.approx(0.8 * 1.999)
    assert delays[-1] == pytest.approx(30.0 * 1.999)


def test_jitter_scales_with_the_random_source() -> None:
    draws: Iterator[float] = iter([0.0, 0.5, 0.25])
    backoff = Backoff(initial=1.0, jitter=0.5, clock=FakeClock(), rand=lambda: next(draws))
    assert [backoff.next_delay() for _ in range(3)] == [1.0, 2.5, 4.5]


def test_the_backoff_resets_after_a_quiet_period_longer_than_reset_after() -> None:
    clock = FakeClock()
    backoff = Backoff(clock=clock, rand=constant(0.0))
    for _ in range(5):
        clock.advance(backoff.next_delay())  # each attempt fails as soon as the delay ends
    assert backoff.next_delay() == 25.6
    clock.advance(25.6 + 120.5)  # the delay, then an attempt that ran quietly for more than 2 minutes
    assert backoff.next_delay() == 0.8


def test_a_quiet_period_of_exactly_reset_after_does_not_reset() -> None:
    clock = FakeClock()
    backoff = Backoff(clock=clock, rand=constant(0.0))
    clock.advance(backoff.next_delay() + 120.0)
    assert backoff.next_delay() == 1.6


def test_continuous_failures_stay_at_the_cap_however_long_they_last() -> None:
    clock = FakeClock()
    backoff = Backoff(clock=clock, rand=constant(0.0))
    delays = []
    for _ in range(40):  # about 17 minutes of failures, each right after its delay
        delays.append(backoff.next_delay())
        clock.advance(delays[-1])
    assert delays[-10:] == [30.0] * 10


def test_reset_starts_again_from_the_initial_delay() -> None:
    backoff = Backoff(clock=FakeClock(), rand=constant(0.0))
    backoff.next_delay()
    backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 0.8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial": 0}, "initial=0 must be positive"),
        ({"initial": 2.0, "cap": 1.0}, r"cap=1.0 must be at least initial \(2.0\)"),
        ({"factor": 0.5}, "factor=0.5 must be at least 1"),
        ({"jitter": -0.1}, "jitter=-0.1 must not be negative"),
        ({"reset_after": 0}, "reset_after=0 must be positive"),
    ],
    ids=["initial", "cap", "factor", "jitter", "reset_after"],
)
def test_out_of_range_parameters_are_rejected_naming_the_parameter(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Backoff(**kwargs)


def test_repr_shows_the_parameters() -> None:
    assert repr(Backoff()) == "Backoff(initial=0.8, cap=30.0, factor=2.0, jitter=1.0, reset_after=120.0)"
