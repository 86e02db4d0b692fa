"""Objects, watch events and server errors the reflector's tests script."""

from __future__ import annotations

from dynaclient import GoneError, JSONObject, ServerError, WatchEvent, WatchEventType


def pod(name: str, resource_version: str) -> JSONObject:
    return {"kind": "Pod", "metadata": {"namespace": "default", "name": name, "resourceVersion": resource_version}}


def event(kind: WatchEventType, name: str, resource_version: str) -> WatchEvent:
    return WatchEvent(kind, pod(name, resource_version))


def bookmark(resource_version: str, initial_events_end: str | None = None) -> WatchEvent:
    metadata: JSONObject = {"resourceVersion": resource_version}
    if initial_events_end is not None:
        metadata["annotations"] = {"k8s.io/initial-events-end": initial_events_end}
    return WatchEvent("BOOKMARK", {"kind": "Pod", "metadata": metadata})


def expired() -> GoneError:
    return GoneError({"kind": "Status", "reason": "Expired", "message": "too old resource version: 5 (9)"}, code=410)


def too_large() -> ServerError:
    causes = [{"type": "ResourceVersionTooLarge", "message": "Too large resource version"}]
    return ServerError({"reason": "Timeout", "details": {"causes": causes}}, code=504)
