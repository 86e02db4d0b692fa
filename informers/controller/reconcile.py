"""What a reconcile receives and returns, and what the queue does with the outcome (controller-runtime's table).

| reconcile                         | queue                                         | result label      |
|-----------------------------------|-----------------------------------------------|-------------------|
| returns ``None``                  | ``forget``: the key's backoff resets           | ``success``       |
| returns ``Requeue(after=d)``      | ``forget``, then ``add_after(key, d)``         | ``requeue_after`` |
| returns ``Requeue()``             | ``add_rate_limited`` (no forget)               | ``requeue``       |
| raises :class:`TerminalError`     | nothing: no retry, no forget                   | ``terminal_error``|
| raises anything else              | ``add_rate_limited`` (no forget)               | ``error``         |

(controller-runtime pkg/internal/controller/controller.go ``reconcileHandler``.) :func:`settle` applies it; the
thread workers of :class:`~informers.controller.Controller` use it, and so can asyncio workers on the same queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dynaclient import JSONObject
from informers.controller.queue import WorkQueue


@dataclass(frozen=True, slots=True, order=True)
class Request:
    """The key of the object to reconcile: its namespace (``""`` when cluster-scoped) and name.

    A request carries no event and no object: reconciles are level-based and read the object from a lister, so
    a deleted object shows up as "not found".

    Thread-safety: immutable.

    >>> Request("prod", "web"), str(Request("", "node-1"))
    (Request(namespace='prod', name='web'), 'node-1')
    """

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @classmethod
    def for_object(cls, obj: JSONObject) -> Request:
        """Return the request of ``obj``.

        >>> Request.for_object({"metadata": {"name": "web", "namespace": "prod"}})
        Request(namespace='prod', name='web')
        """
        metadata = obj.get("metadata") or {}
        return cls(str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


@dataclass(frozen=True, slots=True)
class Requeue:
    """Returned by a reconcile to run it again: after ``after`` seconds, or with the rate limiter's backoff.

    Attributes:
        after: seconds to wait; ``None``: the key's rate-limited backoff (as after an error, without logging one).

    Thread-safety: immutable.
    """

    after: float | None = None


class TerminalError(Exception):
    """Raised by a reconcile for a failure that retrying cannot fix: logged and counted, never requeued.

    The next change of the object (or of what it owns or watches) enqueues it again.
    """


def settle(queue: WorkQueue[Request], request: Request, result: Any, error: BaseException | None) -> str:
    """Apply the outcome of one reconcile of ``request`` to ``queue``; return the result label (see the table).

    A return value that is neither ``None`` nor a :class:`Requeue` counts as an error of the reconcile.
    """
    if error is None and result is not None and not isinstance(result, Requeue):
        error = TypeError(f"reconcile returned {type(result).__name__}: expected None or Requeue")
    if isinstance(error, TerminalError):
        return "terminal_error"
    if error is not None:
        queue.add_rate_limited(request)
        return "error"
    if isinstance(result, Requeue) and result.after is None:
        queue.add_rate_limited(request)
        return "requeue"
    queue.forget(request)
    if isinstance(result, Requeue):
        queue.add_after(request, result.after or 0.0)
        return "requeue_after"
    return "success"


RESULTS = ("success", "requeue_after", "requeue", "error", "terminal_error")
"""Every result label :func:`settle` returns."""

__all__ = ["RESULTS", "Request", "Requeue", "TerminalError", "settle"]
