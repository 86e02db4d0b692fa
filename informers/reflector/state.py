"""The values of the reflector's state machine: phases, the state, outcomes, effects and requests.

A reflector gets the whole state of a resource (a paginated list, or a streaming list), then watches it from that
state's resourceVersion. Its :class:`ReflectorState` names the phase it is in and what it remembers;
:func:`informers.reflector.transitions.advance` maps a state and an :data:`Outcome` (what the phase's request
brought) to a :class:`Transition`: the next state and the :data:`Effect` values to deliver to the sink.
Everything here is an immutable value; nothing performs I/O.

Phases::

    Listing ─page─▶ Listing … ─last page─▶ Watching ─opened─▶ Watching(stream) ─event─▶ Watching(stream) …
    StreamingList ─opened─▶ StreamingList(stream) ─initial-events-end bookmark─▶ Watching(the same stream)
    a failure ─▶ BackingOff(next) ─delay elapsed─▶ next
    Stopped: terminal, entered only when the reflector is told to stop
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from dynaclient import JSONObject, WatchEvent, get_name, get_namespace
from informers.reflector.listwatch import ListPage, WatchStream

DEFAULT_PAGE_SIZE = 500
"""Objects per list page (client-go tools/pager/pager.go ``defaultPageSize``)."""

INITIAL_EVENTS_END_ANNOTATION = "k8s.io/initial-events-end"
"""The bookmark annotation that ends a streaming list's initial events (apimachinery metav1
``InitialEventsAnnotationKey``); only the value ``"true"`` counts."""

VERY_SHORT_WATCH = 1.0
"""A watch that closes within this many seconds without an event is a failure (client-go ``handleAnyWatch``:
"very short watch ... watch lasted less than a second and no items received")."""

StreamingListSupport: TypeAlias = Literal["unknown", "supported", "unsupported", "required"]
"""What the reflector knows of streaming lists: ``unknown`` (try, fall back to a paginated list when the server
says it cannot), ``supported`` (seen working; a stream cut short is retried), ``unsupported`` (paginated lists
only; remembered for the reflector's life), ``required`` (``watch_list=True``: never fall back)."""


class InitialEvents:
    """The events of a streaming list so far, newest first: an immutable chain, so each event is an O(1) append.

    Thread-safety: immutable.
    """

    __slots__ = ("count", "event", "previous")

    def __init__(self, event: WatchEvent, previous: InitialEvents | None) -> None:
        self.event = event
        self.previous = previous
        self.count: int = 1 + (previous.count if previous is not None else 0)

    def __repr__(self) -> str:
        return f"<{self.count} initial events>"

    def objects(self) -> list[JSONObject]:
        """Return the objects the events leave, keyed by namespace/name, with updates and deletes applied.

        >>> def event(kind, name):
        ...     return WatchEvent(kind, {"metadata": {"namespace": "ns", "name": name}})
        >>> chain = None
        >>> for e in [event("ADDED", "a"), event("ADDED", "b"), event("DELETED", "a"), event("MODIFIED", "b")]:
        ...     chain = InitialEvents(e, chain)
        >>> [obj["metadata"]["name"] for obj in chain.objects()]
        ['b']
        """
        events: list[WatchEvent] = []
        link: InitialEvents | None = self
        while link is not None:
            events.append(link.event)
            link = link.previous
        objects: dict[tuple[str, str], JSONObject] = {}
        for event in reversed(events):
            key = (get_namespace(event.object), get_name(event.object))
            if event.type == "DELETED":
                objects.pop(key, None)
            else:
                objects[key] = event.object
        return list(objects.values())


@dataclass(frozen=True, slots=True)
class Listing:
    """Getting the whole state by a paginated list (client-go ``Reflector.list`` through tools/pager).

    Attributes:
        resource_version: the resourceVersion of the first request: ``"0"`` (the first list, served from the watch
            cache, maybe stale), ``""`` (a consistent read) or the last synced one.
        limit: the page size; ``None`` for one unpaginated request.
        continue_token: the token of the next page; ``""`` before the first page.
        pages: the items of the pages received so far.
        list_resource_version: the first page's resourceVersion, which the whole list carries.
        full_list: this is the unpaginated retry at ``resource_version`` after a continue token expired.

    Thread-safety: immutable.
    """

    resource_version: str
    limit: int | None
    continue_token: str = ""
    pages: tuple[list[JSONObject], ...] = ()
    list_resource_version: str = ""
    full_list: bool = False


@dataclass(frozen=True, slots=True)
class StreamingList:
    """Getting the whole state by a watch with ``sendInitialEvents=true`` (client-go ``Reflector.watchList``).

    Attributes:
        resource_version: the watch's resourceVersion: ``""`` (most recent, consistent) or the last synced one.
        stream: the open watch; ``None`` until it is opened.
        opened_at: when the watch was opened (clock seconds).
        events: the ``ADDED``, ``MODIFIED`` and ``DELETED`` events received before the initial-events-end bookmark.

    Thread-safety: immutable (the stream is shared with the reflector that opened it).
    """

    resource_version: str
    stream: WatchStream | None = None
    opened_at: float = 0.0
    events: InitialEvents | None = None


@dataclass(frozen=True, slots=True)
class Watching:
    """Watching from the last synced resourceVersion (client-go ``Reflector.watch``).

    Attributes:
        stream: the open watch; ``None`` until it is opened.
        opened_at: when the watch was opened (clock seconds).
        received: events and bookmarks received on this watch (for a streaming list, counting its initial ones).
        resumed: this watch resumes an earlier one from the resourceVersion it reached, without a list.

    Thread-safety: immutable (the stream is shared with the reflector that opened it).
    """

    stream: WatchStream | None = None
    opened_at: float = 0.0
    received: int = 0
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class BackingOff:
    """Waiting before ``next`` after a failure.

    Attributes:
        next: the phase to enter when the delay has passed.
        minimum_delay: the shortest delay the server asked for (a 429's ``Retry-After``), in seconds.
        until: the clock time the wait ends; ``None`` until the reflector draws the delay from its backoff.

    Thread-safety: immutable.
    """

    next: Listing | StreamingList | Watching
    minimum_delay: float = 0.0
    until: float | None = None


@dataclass(frozen=True, slots=True)
class Stopped:
    """The reflector was told to stop; no phase follows.

    Thread-safety: immutable.
    """


Phase: TypeAlias = Listing | StreamingList | Watching | BackingOff | Stopped


@dataclass(frozen=True, slots=True)
class ReflectorState:
    """Where a reflector is, and what it remembers from one phase to the next.

    Attributes:
        phase: what the reflector does next.
        resource_version: the last synced resourceVersion, of the last list, event or bookmark; ``""`` before the
            first sync (client-go ``lastSyncResourceVersion``).
        resource_version_unavailable: the server called that resourceVersion expired or too large, so the next
            list asks for ``""`` (client-go ``isLastSyncResourceVersionUnavailable``).
        synced: a whole state was delivered at least once.
        paginated_result: the ``resourceVersion="0"`` list came in several pages, so the watch cache is off and
            every later list paginates too (client-go ``paginatedResult``).
        streaming_list: what is known of the server's support for streaming lists.
        page_size: the page size of paginated lists.

    Thread-safety: immutable.
    """

    phase: Phase
    resource_version: str = ""
    resource_version_unavailable: bool = False
    synced: bool = False
    paginated_result: bool = False
    streaming_list: StreamingListSupport = "unknown"
    page_size: int = DEFAULT_PAGE_SIZE


@dataclass(frozen=True, slots=True)
class PageReceived:
    """A list page arrived.

    Thread-safety: immutable.
    """

    page: ListPage


@dataclass(frozen=True, slots=True)
class StreamOpened:
    """A watch was opened at clock time ``at``.

    Thread-safety: immutable.
    """

    stream: WatchStream
    at: float


@dataclass(frozen=True, slots=True)
class EventReceived:
    """The open watch delivered an event.

    Thread-safety: immutable.
    """

    event: WatchEvent


@dataclass(frozen=True, slots=True)
class StreamEnded:
    """The server closed the watch cleanly (for example at ``timeoutSeconds``) at clock time ``at``.

    Thread-safety: immutable.
    """

    at: float


@dataclass(frozen=True, slots=True)
class StreamStalled:
    """The reflector closed a watch silent for ``idle`` seconds, or (``opening``) cancelled an unanswered request.

    Silent: no event and no bookmark. Unanswered: the watch request got no response in that time.

    Thread-safety: immutable.
    """

    idle: float
    opening: bool = False

    def describe(self) -> str:
        """Say what stalled, for errors and logs.

        >>> StreamStalled(65.2).describe(), StreamStalled(65.0, opening=True).describe()
        ('sent no event and no bookmark for 65 s', 'got no response for 65 s')
        """
        return (
            f"got no response for {self.idle:.0f} s"
            if self.opening
            else (f"sent no event and no bookmark for {self.idle:.0f} s")
        )


@dataclass(frozen=True, slots=True)
class Failed:
    """The phase's request failed: a list, a watch that would not open, or a watch that broke.

    Thread-safety: immutable.
    """

    error: Exception


@dataclass(frozen=True, slots=True)
class BackoffElapsed:
    """The backoff delay has passed.

    Thread-safety: immutable.
    """


Outcome: TypeAlias = PageReceived | StreamOpened | EventReceived | StreamEnded | StreamStalled | Failed | BackoffElapsed


@dataclass(frozen=True, slots=True)
class Replace:
    """Deliver ``on_replace(items, resource_version)``: a whole state.

    Thread-safety: immutable (the items are shared; read-only).
    """

    items: list[JSONObject]
    resource_version: str


@dataclass(frozen=True, slots=True)
class Apply:
    """Deliver ``on_event(event)``: one change.

    Thread-safety: immutable.
    """

    event: WatchEvent


@dataclass(frozen=True, slots=True)
class Bookmark:
    """Deliver ``on_resource_version(resource_version)``: progress without a change.

    Thread-safety: immutable.
    """

    resource_version: str


Effect: TypeAlias = Replace | Apply | Bookmark


@dataclass(frozen=True, slots=True)
class Transition:
    """The result of :func:`advance`: the next state, what to deliver to the sink, and the failure handled.

    Thread-safety: immutable.
    """

    state: ReflectorState
    effects: tuple[Effect, ...] = ()
    error: Exception | None = None


@dataclass(frozen=True, slots=True)
class ListRequest:
    """The arguments of one ``ListerWatcher.list_page`` call.

    Thread-safety: immutable.
    """

    limit: int | None
    continue_token: str | None
    resource_version: str | None
    resource_version_match: str | None


@dataclass(frozen=True, slots=True)
class WatchRequest:
    """The arguments of one ``ListerWatcher.watch`` call, but for the jittered ``timeout_seconds``.

    Thread-safety: immutable.
    """

    resource_version: str
    send_initial_events: bool
    resource_version_match: str | None
    allow_bookmarks: bool = True


__all__ = [
    "DEFAULT_PAGE_SIZE",
    "INITIAL_EVENTS_END_ANNOTATION",
    "VERY_SHORT_WATCH",
    "Apply",
    "BackingOff",
    "BackoffElapsed",
    "Bookmark",
    "Effect",
    "EventReceived",
    "Failed",
    "InitialEvents",
    "ListRequest",
    "Listing",
    "Outcome",
    "PageReceived",
    "Phase",
    "ReflectorState",
    "Replace",
    "Stopped",
    "StreamEnded",
    "StreamOpened",
    "StreamStalled",
    "StreamingList",
    "StreamingListSupport",
    "Transition",
    "WatchRequest",
    "Watching",
]
