"""The reflector driven by a task: :class:`~informers.reflector.reflector.Reflector`'s state machine, awaited.

:class:`AsyncReflector` is the threaded reflector with its I/O made of coroutines: the same transitions
(:func:`~informers.reflector.transitions.advance`), the same delivery to the sink, the same status, backoff, logs
and :class:`~informers.reflector.watchdog.Watchdog` (checked by a task instead of a thread). Only performing a
phase's request differs. It runs until its task is cancelled; cancellation closes the open watch and propagates.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

from dynaclient import Cancellation, RequestCancelled, WatchEvent
from informers.aio.listwatch import AsyncListerWatcher, HeldWatch
from informers.exceptions import AlreadyStartedError
from informers.reflector.errors import ReflectorError
from informers.reflector.listwatch import ListPage, ReflectorSink, WatchStream
from informers.reflector.reflector import Reflector
from informers.reflector.state import (
    BackingOff,
    BackoffElapsed,
    EventReceived,
    Failed,
    Listing,
    Outcome,
    PageReceived,
    Phase,
    ReflectorState,
    StreamEnded,
    StreamingList,
    StreamOpened,
    StreamStalled,
    Watching,
)
from informers.reflector.transitions import list_request, watch_request

_T = TypeVar("_T")


class _NoSyncCalls:
    """Stands for the synchronous ListerWatcher an AsyncReflector never uses."""

    def list_page(self, **_: object) -> ListPage:
        raise TypeError("an AsyncReflector lists with coroutines")

    def watch(self, **_: object) -> WatchStream:
        raise TypeError("an AsyncReflector watches with coroutines")


class AsyncReflector(Reflector):
    """Lists and watches one resource with coroutines and keeps a ReflectorSink in step with it.

    Behaves as :class:`~informers.reflector.reflector.Reflector` (same arguments after the lister-watcher); run it with
    ``await reflector.run_async()`` in a task and cancel the task to stop it. The sink is called from that task.

    Thread-safety: :meth:`status` and :attr:`state` are thread-safe; :meth:`run_async` runs in one task. The sink is
    called from that task, except for whole states (the last list page, a streaming list's end), which it gets
    from a worker thread so that the loop is not held while thousands of objects are stored.
    """

    def __init__(self, lister_watcher: AsyncListerWatcher, sink: ReflectorSink, **options: object) -> None:
        super().__init__(_NoSyncCalls(), sink, **options)  # type: ignore[arg-type]
        self._async_lister_watcher = lister_watcher
        self._async_events: AsyncIterator[WatchEvent] | None = None

    def run(self, stop: threading.Event) -> None:
        """Not available: an AsyncReflector runs with :meth:`run_async`."""
        raise TypeError("an AsyncReflector runs in a task: await reflector.run_async()")

    async def run_async(self) -> None:
        """Step until the task is cancelled; then close the open watch and re-raise ``CancelledError``.

        Raises:
            AlreadyStartedError: the reflector was run before.
        """
        with self._lock:
            if self._started:
                raise AlreadyStartedError(f"reflector {self._name!r} was already run; create another one")
            self._started = True
        guard = asyncio.create_task(self._guard(), name=f"reflector-guard[{self._name}]")
        try:
            while True:
                state = self._state
                outcome = await self._perform_async(state, state.phase)
                if _may_replace(state, outcome):
                    # A whole state replaces the cache at once: thousands of objects stored, indexed and diffed
                    # would hold the loop for a large part of a second; the sink is thread-safe.
                    await asyncio.to_thread(self._apply, state, outcome)
                else:
                    self._apply(state, outcome)
        finally:
            guard.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await guard
            self._watchdog.finish()
            self._halt()

    async def _guard(self) -> None:
        while True:
            await asyncio.sleep(self._watchdog.until_next())
            self._watchdog.check()

    async def _perform_async(self, state: ReflectorState, phase: Phase) -> Outcome:
        if isinstance(phase, Listing):
            request = list_request(phase)
            cancellation = self._watchdog.begin_call()
            try:
                page = await _cancellable(
                    self._async_lister_watcher.list_page(
                        limit=request.limit,
                        continue_token=request.continue_token,
                        resource_version=request.resource_version,
                        resource_version_match=request.resource_version_match,
                    ),
                    cancellation,
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
            return await (self._open_async(state) if phase.stream is None else self._read_async())
        if isinstance(phase, BackingOff) and phase.until is not None:
            remaining = phase.until - self._clock.monotonic()
            if remaining > 0:
                await asyncio.sleep(remaining)
        return BackoffElapsed()

    async def _open_async(self, state: ReflectorState) -> Outcome:
        request = watch_request(state)
        cancellation = self._watchdog.begin_call()
        try:
            stream = await _cancellable(
                self._async_lister_watcher.watch(
                    resource_version=request.resource_version,
                    allow_bookmarks=request.allow_bookmarks,
                    timeout_seconds=self._watch_timeout(),
                    send_initial_events=request.send_initial_events,
                    resource_version_match=request.resource_version_match,
                ),
                cancellation,
            )
        except Exception as error:
            stalled = self._watchdog.take_stall()
            return Failed(error) if stalled is None else StreamStalled(stalled, opening=True)
        finally:
            self._watchdog.end_call()
        opened_at = self._clock.monotonic()
        held = HeldWatch(stream)
        self._async_events = aiter(stream)
        self._watchdog.opened(held, opened_at)
        return StreamOpened(held, opened_at)

    async def _read_async(self) -> Outcome:
        outcome: Outcome
        try:
            if self._async_events is None:
                raise StopAsyncIteration
            event = await anext(self._async_events)
        except StopAsyncIteration:
            outcome = StreamEnded(self._clock.monotonic())
        except Exception as error:
            outcome = Failed(error)
        else:
            self._watchdog.touch()
            return EventReceived(event)
        stalled = self._watchdog.take_stall()
        return StreamStalled(stalled) if stalled is not None else outcome

    def _release(self, stream: WatchStream | None) -> None:
        if self._watchdog.held() is stream:
            self._async_events = None
        super()._release(stream)


def _may_replace(state: ReflectorState, outcome: Outcome) -> bool:
    """Whether taking ``outcome`` may deliver a whole state: a list page, or a streaming list's closing bookmark."""
    if isinstance(outcome, PageReceived):
        return True
    return (
        isinstance(state.phase, StreamingList)
        and isinstance(outcome, EventReceived)
        and outcome.event.type == "BOOKMARK"
    )


async def _cancellable(awaitable: Awaitable[_T], cancellation: Cancellation) -> _T:
    """Await ``awaitable`` in a task that ``cancellation`` cancels (the watchdog's way to end a stalled request)."""
    task = asyncio.ensure_future(awaitable)

    def cancel() -> None:
        task.cancel()

    unregister = cancellation.on_cancel(cancel)
    try:
        return await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if cancellation.cancelled and (current is None or not current.cancelling()):
            raise RequestCancelled("the request was cancelled by the reflector's watchdog") from None
        raise
    finally:
        unregister()


__all__ = ["AsyncReflector"]
