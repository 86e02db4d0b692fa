"""Reflector states the pure transitions' tests start from, and what they read back."""

from __future__ import annotations

from collections.abc import Iterator

from dynaclient import JSONObject, WatchEvent
from informers.reflector.state import ReflectorState, StreamingListSupport, Watching


class StubStream:
    """A watch the pure transitions only carry around."""

    def __iter__(self) -> Iterator[WatchEvent]:
        return iter(())

    def close(self) -> None:
        pass


def watching(resource_version: str = "10", streaming_list: StreamingListSupport = "unsupported") -> ReflectorState:
    phase = Watching(StubStream(), opened_at=0.0, received=1)
    return ReflectorState(phase, resource_version, synced=True, streaming_list=streaming_list)


def names(items: list[JSONObject]) -> list[str]:
    return [item["metadata"]["name"] for item in items]
