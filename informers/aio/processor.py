"""A handler's listener driven by a task: :class:`~informers.processor.Listener` with ``async def`` handlers allowed.

The queue, its accounting (``has_synced``, health, resync schedule) and the error policy are the threaded
listener's; only the delivery loop is a task, woken by an :class:`asyncio.Event`. A handler's callbacks may be plain
functions (called on the loop: keep them quick, or hand blocking work to :func:`asyncio.to_thread`) or coroutine
functions (awaited, one notification at a time, in order).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Sequence
from typing import Any

from informers.notifications import AddNotification, Notification, UpdateNotification
from informers.processor import Listener, log_handler_error

_YIELD_EVERY = 64
"""Notifications delivered between two yields to the loop, so a relist's thousands of adds never hold it long."""


class AsyncListener(Listener):
    """Delivers notifications to one handler from a task of the running loop, awaiting ``async def`` callbacks.

    Thread-safety: thread-safe as :class:`~informers.processor.Listener`: notifications may be added from any
    thread (a relist's are, from the worker thread that applies it); the handler is only called on the loop.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def add_all(self, notifications: Any, *, initial: bool = False) -> None:
        """Queue ``notifications`` (see :meth:`Listener.add_all`) and wake the delivery task, from any thread."""
        super().add_all(notifications, initial=initial)
        wake_on_loop(self._loop, self._wake)

    def start(self) -> None:
        """Start the delivery task on the running loop; a no-op if started or stopped."""
        with self._condition:
            if self._task is not None or self._stopped:
                return
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self._run_async(), name=self.name)

    def stop(self) -> None:
        """Drop the queued notifications and cancel the delivery task (a callback in progress is cancelled)."""
        super().stop()
        if self._task is not None:
            self._task.cancel()

    def join(self, timeout: float | None) -> bool:
        """Return whether the delivery task has ended (or never started); it never blocks."""
        return self._task is None or self._task.done()

    async def wait_ended(self) -> None:
        """Wait for the delivery task to end after :meth:`stop`."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run_async(self) -> None:
        delivered = 0
        while True:
            with self._condition:
                if self._stopped:
                    return
                run = self._queue.popleft() if self._queue else None
                if run is None:
                    self._wake.clear()
                else:
                    self._queued -= len(run[0])
                    self._in_hand = len(run[0])
                self._busy = run is not None
            if run is None:
                await self._wake.wait()
                continue
            try:
                delivered = await self._deliver_run(*run, delivered)
            finally:
                with self._condition:
                    self._in_hand = 0
                    self._busy = False
                    self._condition.notify_all()

    async def _deliver_run(self, notifications: Sequence[Notification], initial: bool, delivered: int) -> int:
        for notification in notifications:
            if self._stopped:
                break
            self._in_hand -= 1  # only this task writes it
            failed = not await self._deliver_async(notification)
            with self._condition:
                self._pending_initial -= initial
                self._delivered += 1
                self._errors += failed
                self._condition.notify_all()
            delivered += 1
            if delivered % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
        return delivered

    async def _deliver_async(self, notification: Notification) -> bool:
        handler: Any = self.handler  # a callback may return a coroutine: awaited here
        try:
            if isinstance(notification, AddNotification):
                result = handler.on_add(notification.obj, notification.is_initial)
            elif isinstance(notification, UpdateNotification):
                result = handler.on_update(notification.old, notification.new)
            else:
                result = handler.on_delete(notification.obj)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log_handler_error(self.name, error, notification)
            return False
        return True


def wake_on_loop(loop: asyncio.AbstractEventLoop | None, event: asyncio.Event) -> None:
    """Set ``event`` of ``loop`` from any thread (directly on the loop's own thread, else through the loop)."""
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if loop is None or running is loop:
        event.set()
    elif not loop.is_closed():
        loop.call_soon_threadsafe(event.set)


__all__ = ["AsyncListener", "wake_on_loop"]
