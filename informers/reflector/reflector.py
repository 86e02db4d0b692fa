"""The reflector: keeps a sink in step with one resource by listing it, then watching it, until told to stop.

:class:`Reflector` performs the request that the state machine of :mod:`informers.reflector.transitions` asks for,
one request or one watch event per :meth:`Reflector.step`, and delivers what it learns to a
:class:`~informers.reflector.listwatch.ReflectorSink` (client-go tools/cache/reflector.go ``ListAndWatch``).
:meth:`Reflector.run` steps until its stop event is set. A guard thread cancels the list or watch request in flight and
closes the open watch as soon as it is, closes a watch that has sent nothing, not even a bookmark, for
``stall_timeout`` seconds, and cancels a list or watch request still unanswered after that time.

Logs go to the ``informers.reflector`` logger (under ``informers``): INFO when a whole state is delivered and on a
first failure, WARNING on each failure that follows another; every failure line says what happens next. A reflector
never gives up: a failure it cannot get past shows in :meth:`Reflector.status` and in a WARNING every backoff.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from random import Random

from dynaclient import DynaclientError, WatchEvent
from informers.clock import Clock, RealClock
from informers.exceptions import AlreadyStartedError
from informers.reflector.backoff import Backoff
from informers.reflector.errors import ReflectorError, describe_error
from informers.reflector.listwatch import ListerWatcher, ReflectorSink, WatchStream
from informers.reflector.state import (
    DEFAULT_PAGE_SIZE,
    Apply,
    BackingOff,
    BackoffElapsed,
    Effect,
    EventReceived,
    Failed,
    Listing,
    Outcome,
    PageReceived,
    Phase,
    ReflectorState,
    Replace,
    Stopped,
    StreamEnded,
    StreamingList,
    StreamOpened,
    StreamStalled,
    Watching,
)
from informers.reflector.status import ReflectorStatus, phase_name, progressed, record
from informers.reflector.transitions import advance, begin_list, describe, initial_state, list_request, watch_request
from informers.reflector.watchdog import Watchdog

logger = logging.getLogger("informers.reflector")

MIN_WATCH_TIMEOUT = 300
"""Seconds: each watch asks the server to end it after ``timeoutSeconds`` in ``[300, 600)``, jittered so that
many reflectors do not re-watch together (client-go reflector.go ``defaultMinWatchTimeout``, ``minWatchTimeout *
(rand + 1)``)."""

DEFAULT_STALL_TIMEOUT = 65.0
"""Seconds without an event or a bookmark after which a watch is renewed (closed and reopened from its last
resourceVersion, no error), and the longest a list or watch request may wait for its response (the API server ends
a list after 60 s) before it is cancelled and retried as a failure.

A dead or frozen connection gives no sign, and cannot be told from a quiet resource: the API server sends a watch a
bookmark a minute after the last one (apiserver storage/cacher ``cacheWatcher.nextBookmarkTime``, dispatched by a
timer ticking every 1 to 1.25 s) but only once its watch cache has moved past the watch's resourceVersion
(``cacheWatcher.process``); a resource nothing writes gets none. So a watch silent just past the minute is renewed:
a dead connection is replaced within 65 s, a quiet one costs a request a minute. client-go notices a dead HTTP/2
connection by pings after 30 + 15 s; over HTTP/1.1 there is nothing to ping."""


class Reflector:
    """Lists and watches one resource through a ListerWatcher and keeps a ReflectorSink in step with it.

    The whole state comes from a paginated list, or from a streaming list with ``watch_list=True`` (or
    ``watch_list=None``, which tries one and falls back for good to paginated lists when the server says it
    cannot); the reflector then watches from that state's resourceVersion, resumes the watch from the last event
    or bookmark when it ends, relists when the server says the resourceVersion has expired, and backs off after
    failures.

    Thread-safety: :meth:`status`, :attr:`state` and :meth:`check_stalled` are thread-safe; :meth:`run` and
    :meth:`step` are confined to one thread at a time, which is the thread that calls the sink.
    """

    def __init__(
        self,
        lister_watcher: ListerWatcher,
        sink: ReflectorSink,
        *,
        name: str,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        watch_list: bool | None = False,
        stall_timeout: float = DEFAULT_STALL_TIMEOUT,
        random: Random | None = None,
    ) -> None:
        """Create a reflector that has not started.

        Args:
            lister_watcher: lists and watches the resource (scope and selectors already applied).
            sink: receives whole states, events and bookmarks, from the reflector's thread, one at a time.
            name: names the reflector in logs and status, for example ``"apps/v1/deployments"``.
            clock: where time comes from and where the reflector waits; the real clock by default.
            backoff: the delays after failures; client-go's (0.8 s doubling to 30 s, jittered, reset after 2 min
                of quiet) by default.
            page_size: objects per page of paginated lists.
            watch_list: ``True`` to always use streaming lists, ``False`` never, ``None`` to try them first.
                Paginated by default, as client-go before 1.35 (``WatchListClient`` off): a streaming list sends
                one watch frame per object, and decoding and applying them one by one took twice the CPU of a
                paginated list of the same 10,000 objects (bench/profile.py, issue 6).
            stall_timeout: seconds without an event or bookmark before an open watch is closed and reopened;
                longer than the server's bookmark interval (about a minute).
            random: the source of the watch timeout jitter (and of the default backoff's jitter).

        Raises:
            ValueError: ``page_size`` is below 1 or ``stall_timeout`` is not positive.
        """
        if page_size < 1:
            raise ValueError(f"reflector {name!r}: page_size={page_size!r} must be at least 1")
        if not stall_timeout > 0:
            raise ValueError(f"reflector {name!r}: stall_timeout={stall_timeout!r} must be positive")
        self._lister_watcher = lister_watcher
        self._sink = sink
        self._name = name
        self._clock: Clock = clock or RealClock()
        self._random = random if random is not None else Random()
        self._backoff = backoff or Backoff(clock=self._clock, rand=self._random.random)
        self._stall_timeout = stall_timeout
        self._lock = threading.Lock()
        self._state = initial_state(page_size=page_size, watch_list=watch_list)
        self._status = ReflectorStatus(name=name, phase=phase_name(self._state.phase))
        self._watchdog = Watchdog(self._clock, stall_timeout)
        self._events: Iterator[WatchEvent] | None = None  # the open watch's; the reflector's thread only
        self._started = False

    def __repr__(self) -> str:
        return f"Reflector(name={self._name!r}, phase={self.status().phase!r})"

    @property
    def name(self) -> str:
        """The name given at construction."""
        return self._name

    @property
    def state(self) -> ReflectorState:
        """The state machine's current state."""
        with self._lock:
            return self._state

    def status(self) -> ReflectorStatus:
        """Return a snapshot of the reflector's health and counters."""
        with self._lock:
            return self._status

    def run(self, stop: threading.Event) -> None:
        """Step until ``stop`` is set, then close the open watch and return.

        A guard thread closes the open watch and cancels the request in flight as soon as ``stop`` is set, so a
        blocked read or a wait for a response returns promptly.

        Raises:
            AlreadyStartedError: the reflector was run before.
        """
        with self._lock:
            if self._started:
                raise AlreadyStartedError(f"reflector {self._name!r} was already run; create another one")
            self._started = True
        guard = threading.Thread(
            target=self._watchdog.run, args=(stop,), name=f"reflector-guard[{self._name}]", daemon=True
        )
        guard.start()
        try:
            while self.step(stop):
                pass
        finally:
            self._watchdog.finish()
            self._release(self._watchdog.held())
        if stop.is_set():
            guard.join()

    def step(self, stop: threading.Event) -> bool:
        """Perform the current phase's request (or wait out its backoff), then take the transition it leads to.

        Returns:
            ``False`` once the reflector has stopped (``stop`` is set), else ``True``.
        """
        state = self._state
        if isinstance(state.phase, Stopped):
            return False
        if not stop.is_set():
            outcome = self._perform(state, state.phase, stop)
            if not stop.is_set():
                self._apply(state, outcome)
                return True
        self._halt()
        return False

    def check_stalled(self) -> bool:
        """Close a watch silent for ``stall_timeout`` seconds, or cancel a list or watch request unfinished that long.

        :meth:`run`'s guard thread calls this (see :meth:`Watchdog.check`); the next :meth:`step` then renews the
        watch from the last resourceVersion, or retries the request.

        Returns:
            Whether a watch was closed or a request cancelled.
        """
        return self._watchdog.check()

    def _perform(self, state: ReflectorState, phase: Phase, stop: threading.Event) -> Outcome:
        if isinstance(phase, Listing):
            request = list_request(phase)
            cancellation = self._watchdog.begin_call()
            try:
                page = self._lister_watcher.list_page(
                    limit=request.limit,
                    continue_token=request.continue_token,
                    resource_version=request.resource_version,
                    resource_version_match=request.resource_version_match,
                    cancellation=cancellation,
                )
            except Exception as error:
                stalled = self._watchdog.take_stall()
                if stalled is None:
                    return Failed(error)
                return Failed(ReflectorError(f"the list request got no response for {stalled:.0f} s; cancelled it"))
            finally:
                self._watchdog.end_call()
            return PageReceived(page)
        if isinstance(phase, StreamingList | Watching):
            return self._open(state) if phase.stream is None else self._read()
        if isinstance(phase, BackingOff) and phase.until is not None:
            remaining = phase.until - self._clock.monotonic()
            if remaining > 0:
                self._clock.wait(stop, remaining)
        return BackoffElapsed()

    def _open(self, state: ReflectorState) -> Outcome:
        request = watch_request(state)
        cancellation = self._watchdog.begin_call()
        try:
            stream = self._lister_watcher.watch(
                resource_version=request.resource_version,
                allow_bookmarks=request.allow_bookmarks,
                timeout_seconds=self._watch_timeout(),
                send_initial_events=request.send_initial_events,
                resource_version_match=request.resource_version_match,
                cancellation=cancellation,
            )
        except Exception as error:
            stalled = self._watchdog.take_stall()
            return Failed(error) if stalled is None else StreamStalled(stalled, opening=True)
        finally:
            self._watchdog.end_call()
        opened_at = self._clock.monotonic()
        self._events = iter(stream)
        self._watchdog.opened(stream, opened_at)
        return StreamOpened(stream, opened_at)

    def _read(self) -> Outcome:
        outcome: Outcome
        try:
            if self._events is None:
                raise StopIteration
            event = next(self._events)
        except StopIteration:
            outcome = StreamEnded(self._clock.monotonic())
        except Exception as error:
            outcome = Failed(error)
        else:
            self._watchdog.touch()
            return EventReceived(event)
        stalled = self._watchdog.take_stall()
        return StreamStalled(stalled) if stalled is not None else outcome

    def _apply(self, old: ReflectorState, outcome: Outcome) -> None:
        transition = advance(old, outcome)
        new, error = self._schedule(transition.state), transition.error
        sink_error = self._deliver(transition.effects)
        if sink_error is not None:
            error = sink_error
            relist = replace(new, synced=old.synced)
            new = self._schedule(replace(relist, phase=BackingOff(begin_list(relist))))
        now = self._clock.monotonic()
        with self._lock:
            failing = self._status.consecutive_failures > 0
            self._state = new
            self._status = record(
                self._status, old=old, outcome=outcome, transition=transition, new=new, error=error, now=now
            )
            status = self._status
        if failing and error is None and progressed(outcome, transition, new):
            # Recovered: the next failure starts again from the shortest delay (client-go's backoff manager resets
            # after a quiet spell; without this a watch failing just after an outage waited up to the 60 s cap).
            self._backoff.reset()
        if isinstance(outcome, StreamStalled) and not outcome.opening:
            logger.debug("reflector %s: the watch %s; renewing it", self._name, outcome.describe())
        old_stream = _stream_of(old.phase)
        if old_stream is not None and old_stream is not _stream_of(new.phase):
            self._release(old_stream)
        self._log(old, transition.effects, new, error, status)

    def _schedule(self, state: ReflectorState) -> ReflectorState:
        phase = state.phase
        if not isinstance(phase, BackingOff) or phase.until is not None:
            return state
        delay = max(phase.minimum_delay, self._backoff.next_delay())
        return replace(state, phase=replace(phase, until=self._clock.monotonic() + delay))

    def _deliver(self, effects: tuple[Effect, ...]) -> Exception | None:
        try:
            for effect in effects:
                if isinstance(effect, Replace):
                    self._sink.on_replace(effect.items, effect.resource_version)
                elif isinstance(effect, Apply):
                    self._sink.on_event(effect.event)
                else:
                    self._sink.on_resource_version(effect.resource_version)
        except BaseException as error:  # a transform's SystemExit too: it would end the thread without a word
            logger.exception("reflector %s: the sink failed; relisting", self._name)
            return error if isinstance(error, Exception) else ReflectorError(f"the sink raised {error!r}")
        if effects:
            self._watchdog.touch()
        return None

    def _log(
        self,
        old: ReflectorState,
        effects: tuple[Effect, ...],
        new: ReflectorState,
        error: Exception | None,
        status: ReflectorStatus,
    ) -> None:
        for effect in effects:
            if isinstance(effect, Replace):
                done = "relisted" if old.synced else "synced"
                count, version = len(effect.items), effect.resource_version
                logger.info("reflector %s: %s %d objects at resourceVersion %s", self._name, done, count, version)
        if old.streaming_list != "unsupported" and new.streaming_list == "unsupported":
            logger.info("reflector %s: the server cannot stream lists; using paginated lists from now on", self._name)
        if error is not None:
            level = logging.WARNING if status.consecutive_failures > 1 else logging.INFO
            failures = f" (failure {status.consecutive_failures} in a row)" if status.consecutive_failures > 1 else ""
            plan = describe(new, self._clock.monotonic())
            unexpected = None if isinstance(error, DynaclientError) else error
            message = "reflector %s: %s%s; next: %s"
            logger.log(level, message, self._name, describe_error(error), failures, plan, exc_info=unexpected)

    def _watch_timeout(self) -> int:
        return int(MIN_WATCH_TIMEOUT * (1.0 + self._random.random()))

    def _release(self, stream: WatchStream | None) -> None:
        if self._watchdog.held() is stream:
            self._events = None
        self._watchdog.release(stream)

    def _halt(self) -> None:
        with self._lock:
            self._state = replace(self._state, phase=Stopped())
            self._status = replace(self._status, phase="stopped", watching=False)
        self._release(self._watchdog.held())
        logger.debug("reflector %s: stopped", self._name)


def _stream_of(phase: Phase) -> WatchStream | None:
    return phase.stream if isinstance(phase, StreamingList | Watching) else None


__all__ = ["DEFAULT_STALL_TIMEOUT", "MIN_WATCH_TIMEOUT", "Reflector", "ReflectorStatus"]
