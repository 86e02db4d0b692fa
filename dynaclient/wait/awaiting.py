"""Wait for one object to satisfy a condition, or to be deleted (kube-rs ``await_condition``, kubectl ``wait``).

The object is followed by a :func:`~dynaclient.wait.stream.resumed_watch` restricted to its name (a
``metadata.name`` field selector), so the wait survives watch timeouts and expired resourceVersions and sees a
delete even when the ``DELETED`` event itself was missed. The condition is evaluated on the state after the initial
list (``None`` when the object does not exist) and after every change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dynaclient._types import JSONObject
from dynaclient.exceptions import NamespaceScopeError, NotFoundError, WaitTimeoutError
from dynaclient.objects import get_uid
from dynaclient.wait.conditions import Predicate, is_deleted
from dynaclient.wait.kstatus import compute_status
from dynaclient.wait.stream import resumed_watch

if TYPE_CHECKING:
    from dynaclient.resources.client import ResourceClient


def await_condition(
    resource: ResourceClient[Any],
    name: str,
    condition: Predicate,
    timeout: float | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> JSONObject | None:
    """Return the first state of object ``name`` that satisfies ``condition`` (``None``: absent, if it accepts that).

    Args:
        resource: the resource client, bound to the object's namespace for a namespaced resource.
        name: the object name.
        condition: a :class:`~dynaclient.wait.conditions.Condition` or any predicate over ``JSONObject | None``.
        timeout: seconds to wait; ``None``: no limit.
        clock: monotonic seconds (injectable for tests).

    Raises:
        WaitTimeoutError: ``timeout`` passed first; the message names the object, the condition and its last state.
        ObjectFailedError: the condition found the object failed (:data:`~dynaclient.wait.kstatus.is_ready`).
        NamespaceScopeError: the resource is namespaced and the client has no namespace.
        APIError: the server refused the list or the watch.
    """
    if resource.api_resource.namespaced and not resource.namespace_name:
        raise NamespaceScopeError(f"waiting for {resource.api_resource.resource}/{name} needs a namespace")
    state: JSONObject | None = None
    try:
        for event in resumed_watch(resource, field_selector={"metadata.name": name}, timeout=timeout, clock=clock):
            if event.type != "BOOKMARK":
                state = None if event.type == "DELETED" else event.object
            if condition(state):
                return state
    except NotFoundError:
        # The resource itself is no longer served (its CRD was deleted): no object of it exists any more.
        if condition(None):
            return None
        raise
    raise WaitTimeoutError(_timeout_message(resource, name, condition, timeout, state), last=state)


def await_deletion(
    resource: ResourceClient[Any],
    name: str,
    timeout: float | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Return once object ``name`` is gone, or replaced by a new object of the same name (another ``uid``).

    Raises:
        WaitTimeoutError: ``timeout`` passed first.
    """
    try:
        uid = get_uid(resource.get(name, metadata_only=True))
    except NotFoundError:
        return
    await_condition(resource, name, is_deleted(uid), timeout, clock=clock)


def _timeout_message(
    resource: ResourceClient[Any], name: str, condition: Predicate, timeout: float | None, state: JSONObject | None
) -> str:
    namespace = f" in namespace {resource.namespace_name}" if resource.namespace_name else ""
    what = str(condition) if hasattr(condition, "description") else getattr(condition, "__name__", "the condition")
    last = "it does not exist" if state is None else compute_status(state).message or "no status reported"
    return (
        f"timed out after {timeout:g}s waiting for {what} on {resource.api_resource.resource}/{name}{namespace} "
        f"(last state: {last})"
    )


__all__ = ["await_condition", "await_deletion"]
