"""Decode a watch stream's newline-delimited JSON frames into :class:`WatchEvent` values; no I/O.

The API server writes one ``{"type": ..., "object": {...}}`` JSON object per line (client-go
``rest/watch/decoder.go`` reads them back). Decoding follows client-go:

* ``type`` must be ``ADDED``, ``MODIFIED``, ``DELETED``, ``BOOKMARK`` or ``ERROR``; anything else, a line that is not
  JSON, or a frame without an ``object`` map is a :class:`~dynaclient.exceptions.DecodeError`, after which the
  stream is unusable (``watch.StreamWatcher`` reports the decode error and stops).
* An ``ERROR`` frame carries a ``Status``; consumers turn it into the typed
  :class:`~dynaclient.exceptions.APIError` (``GoneError`` for an expired resourceVersion) and stop, as
  client-go's reflector does with ``apierrors.FromObject``.
* A frame may be at most :data:`MAX_FRAME_BYTES` (16 MiB) long, as client-go's framer allows
  (apimachinery ``pkg/util/framer`` ``maxFrameSize``); a longer one raises
  :class:`~dynaclient.exceptions.WatchFrameTooLargeError` as soon as its start passes the cap, so memory stays
  bounded and the frame never vanishes unreported.
* A stream that ends in the middle of a frame ends quietly (``StreamWatcher`` treats ``io.ErrUnexpectedEOF`` as a
  normal close): the partial frame is dropped and the caller re-watches from the last resourceVersion it saw.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Literal, TypeAlias, cast, overload

from dynaclient._json_decoding import loads
from dynaclient._types import JSONObject, ObjectT
from dynaclient.exceptions import DecodeError, WatchFrameTooLargeError, api_error_from_status
from dynaclient.objects import get_resource_version

WatchEventType: TypeAlias = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]
"""The ``type`` of a watch event (apimachinery ``pkg/watch/watch.go`` EventType)."""

_EVENT_TYPES: dict[str, WatchEventType] = {
    "ADDED": "ADDED",
    "MODIFIED": "MODIFIED",
    "DELETED": "DELETED",
    "BOOKMARK": "BOOKMARK",
    "ERROR": "ERROR",
}
_PREVIEW_BYTES = 64

MAX_FRAME_BYTES = 16 * 1024 * 1024
"""The longest watch frame accepted, newline excluded: client-go's 16 MiB (apimachinery framer ``maxFrameSize``,
used by ``rest/watch`` through the JSON serializer's framer)."""


@dataclass(frozen=True, slots=True)
class WatchEvent(Generic[ObjectT]):
    r"""One event of a watch stream.

    Attributes:
        type: what happened; ``BOOKMARK`` objects carry only ``metadata.resourceVersion``; ``ERROR`` objects are
            ``Status`` objects.
        object: the object after the change (for ``DELETED``, its last state), as decoded JSON.

    Thread-safety: immutable (the ``object`` dict is shared; treat it as read-only).

    Example:
        >>> event = WatchEvent("ADDED", {"kind": "Pod", "metadata": {"name": "a", "resourceVersion": "7"}})
        >>> event.resource_version
        '7'
        >>> event.encode()
        b'{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"7"}}}\n'
    """

    type: WatchEventType
    object: ObjectT

    if TYPE_CHECKING:  # the dataclass writes __init__; these tell type checkers that a dict makes a plain event
        # (without the first, WatchEvent("ADDED", {}) would leave ObjectT unsolved)

        @overload
        def __init__(self: WatchEvent[JSONObject], type: WatchEventType, object: JSONObject) -> None: ...

        @overload
        def __init__(self, type: WatchEventType, object: ObjectT) -> None: ...

        def __init__(self, type: WatchEventType, object: ObjectT | JSONObject) -> None: ...

    @property
    def resource_version(self) -> str:
        """The object's ``metadata.resourceVersion``, or ``""`` when it has none (for example an ``ERROR``)."""
        return get_resource_version(self.object)

    def raise_for_error(self) -> None:
        """Raise the typed error an ``ERROR`` event carries; do nothing for other events.

        Raises:
            APIError: the most specific subclass for the event's ``Status`` (``GoneError`` for ``Expired``).

        >>> expired = {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"}
        >>> WatchEvent("ERROR", expired).raise_for_error()
        Traceback (most recent call last):
        ...
        dynaclient.exceptions.GoneError: 410 Expired: too old
        """
        if self.type == "ERROR":
            raise api_error_from_status(cast(JSONObject, self.object))  # an ERROR event's object is a Status dict

    def encode(self) -> bytes:
        """Encode as one newline-terminated frame, as the API server writes it."""
        return json.dumps({"type": self.type, "object": self.object}, separators=(",", ":")).encode() + b"\n"


class WatchDecoder:
    r"""Incremental decoder: feed byte chunks cut anywhere, get the events of the frames they complete.

    ``ERROR`` events are returned like any other; call :meth:`WatchEvent.raise_for_error` (or use
    :func:`iter_watch_events`). After a bad frame the decoder is broken: the events decoded before it are returned
    first, then every later call raises the same :class:`~dynaclient.exceptions.DecodeError`.

    Thread-safety: confined to the thread that reads the stream.

    Example:
        >>> decoder = WatchDecoder()
        >>> decoder.feed(b'{"type":"ADDED","object":{"metadata":{"resourceVersion":"1"}}}\n{"type":"DEL')
        [WatchEvent(type='ADDED', object={'metadata': {'resourceVersion': '1'}})]
        >>> decoder.feed(b'ETED","object":{}}\n')
        [WatchEvent(type='DELETED', object={})]
        >>> decoder.close()
        []

    Attributes:
        truncated: whether :meth:`close` dropped a partial last frame.
    """

    def __init__(self, *, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        """Create a decoder that refuses frames longer than ``max_frame_bytes``."""
        self._max_frame = max_frame_bytes
        self._parts: list[bytes] = []
        self._pending = 0
        self._frames = 0
        self._error: DecodeError | None = None
        self.truncated = False

    def feed(self, chunk: bytes) -> list[WatchEvent]:
        """Add ``chunk`` and return the events of every frame it completes, in stream order.

        Raises:
            WatchFrameTooLargeError: a frame is longer than the cap (raised once the events before it were returned).
            DecodeError: a frame is not a valid watch event (raised once the events before it were returned).
        """
        self._raise_if_broken()
        if b"\n" not in chunk:
            if chunk:
                self._parts.append(chunk)
                self._pending += len(chunk)
                if self._pending > self._max_frame:
                    self._parts, self._pending = [], 0
                    self._error = self._too_large(self._frames + 1)
                    raise self._error
            return []
        *lines, rest = (b"".join(self._parts) + chunk).split(b"\n")
        self._parts, self._pending = ([rest], len(rest)) if rest else ([], 0)
        events = self._decode_lines(lines)
        if self._error is None and self._pending > self._max_frame:
            self._parts, self._pending = [], 0
            self._error = self._too_large(self._frames + 1)
            if not events:
                raise self._error
        return events

    def close(self) -> list[WatchEvent]:
        """End the stream: return the event of a last frame without a newline, or drop it if it is cut short.

        Raises:
            DecodeError: an earlier frame was bad, or the last one is not a cut-short JSON object.
        """
        self._raise_if_broken()
        rest, self._parts, self._pending = b"".join(self._parts).strip(), [], 0
        if not rest:
            return []
        try:
            return [self._decode(rest)]
        except DecodeError:
            if rest.startswith(b"{") and not _is_json(rest):
                self.truncated = True
                return []
            raise

    def _decode_lines(self, lines: list[bytes]) -> list[WatchEvent]:
        events: list[WatchEvent] = []
        for line in lines:
            if not line.strip():
                continue
            try:
                events.append(self._decode(line))
            except DecodeError as exc:
                self._error = exc
                if not events:
                    raise
                break
        return events

    def _decode(self, frame: bytes) -> WatchEvent:
        self._frames += 1
        if len(frame) > self._max_frame:
            raise self._too_large(self._frames)
        where = f"watch frame {self._frames}"
        try:
            decoded = loads(frame)
        except (ValueError, RecursionError) as exc:
            raise DecodeError(f"{where} is not JSON: {_preview(frame)}") from exc
        if not isinstance(decoded, dict):
            raise DecodeError(f"{where} is a JSON {type(decoded).__name__}, expected an object: {_preview(frame)}")
        raw_type = decoded.get("type")
        event_type = _EVENT_TYPES.get(raw_type) if isinstance(raw_type, str) else None
        if event_type is None:
            raise DecodeError(f"{where} has an invalid watch event type: {_preview(json.dumps(raw_type).encode())}")
        obj = decoded.get("object")
        if not isinstance(obj, dict):
            raise DecodeError(f"{where} ({event_type}) has no object map: got {type(obj).__name__}")
        return WatchEvent(event_type, obj)

    def _too_large(self, frame: int) -> WatchFrameTooLargeError:
        limit = self._max_frame
        return WatchFrameTooLargeError(f"watch frame {frame} is longer than the {limit}-byte cap", limit=limit)

    def _raise_if_broken(self) -> None:
        if self._error is not None:
            raise self._error


def iter_watch_events(chunks: Iterable[bytes]) -> Iterator[WatchEvent]:
    r"""Yield the events of a watch stream given as byte chunks (for example ``Response.iter_chunks()``).

    Raises:
        APIError: an ``ERROR`` frame arrived; its typed error is raised in its place and the stream ends.
        DecodeError: a frame is not a valid watch event; the events before it were yielded.

    >>> chunks = [b'{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}\n{"type":"ERR',
    ...           b'OR","object":{"kind":"Status","code":410,"reason":"Expired"}}\n']
    >>> events = iter_watch_events(chunks)
    >>> next(events).resource_version
    '9'
    >>> next(events)
    Traceback (most recent call last):
    ...
    dynaclient.exceptions.GoneError: 410 Expired: Expired
    """
    decoder = WatchDecoder()
    for chunk in chunks:
        yield from _raising_errors(decoder.feed(chunk))
    yield from _raising_errors(decoder.close())


def decode_watch_events(lines: Iterable[bytes]) -> Iterator[WatchEvent]:
    """Yield the events of a watch stream given as complete lines (for example ``Response.iter_lines()``).

    Blank lines are skipped. Unlike :func:`iter_watch_events`, a cut-short last line is a decode error, since
    lines carry no sign of where the stream ended.

    Raises:
        APIError: an ``ERROR`` frame arrived; its typed error is raised in its place and the stream ends.
        DecodeError: a line is not a valid watch event; the events before it were yielded.

    >>> [e.type for e in decode_watch_events([b'{"type":"ADDED","object":{}}', b"", b'{"type":"DELETED","object":{}}'])]
    ['ADDED', 'DELETED']
    >>> list(decode_watch_events([b"<html>"]))
    Traceback (most recent call last):
    ...
    dynaclient.exceptions.DecodeError: watch frame 1 is not JSON: b'<html>'
    """
    decoder = WatchDecoder()
    for line in lines:
        yield from _raising_errors(decoder.feed(line + b"\n"))


def _raising_errors(events: list[WatchEvent]) -> Iterator[WatchEvent]:
    for event in events:
        event.raise_for_error()
        yield event


def _is_json(data: bytes) -> bool:
    try:
        loads(data)
    except (ValueError, RecursionError):
        return False
    return True


def _preview(data: bytes) -> str:
    # Frames can carry Secret data: show only the start of a bad frame.
    shown = repr(data[:_PREVIEW_BYTES])
    return shown + f"... ({len(data)} bytes)" if len(data) > _PREVIEW_BYTES else shown


__all__ = [
    "MAX_FRAME_BYTES",
    "WatchDecoder",
    "WatchEvent",
    "WatchEventType",
    "decode_watch_events",
    "iter_watch_events",
]
