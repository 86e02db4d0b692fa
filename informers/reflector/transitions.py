"""The reflector's rules: pure transitions from a state and an outcome to the next state and its effects.

Each rule reads no clock, performs no I/O and never sleeps, so it is tested by handing :func:`advance` a state and an
outcome. :class:`~informers.reflector.reflector.Reflector` performs the request each phase asks for
(:func:`list_request`, :func:`watch_request`), turns what happened into an outcome, and delivers the effects.

The rules follow client-go tools/cache/reflector.go (``list``, ``watch``, ``watchList``, ``handleAnyWatch``) and
tools/pager/pager.go; :mod:`informers.reflector.errors` sorts the failures.
"""

from __future__ import annotations

from dataclasses import replace

from dynaclient import APIError, WatchEvent, get_annotations
from informers.reflector.errors import (
    ReflectorError,
    minimum_delay,
    resource_version_unavailable,
    streaming_list_unsupported,
    watch_retriable,
)
from informers.reflector.listwatch import ListPage
from informers.reflector.state import (
    DEFAULT_PAGE_SIZE,
    INITIAL_EVENTS_END_ANNOTATION,
    VERY_SHORT_WATCH,
    Apply,
    BackingOff,
    BackoffElapsed,
    Bookmark,
    EventReceived,
    Failed,
    InitialEvents,
    Listing,
    ListRequest,
    Outcome,
    PageReceived,
    ReflectorState,
    Replace,
    Stopped,
    StreamEnded,
    StreamingList,
    StreamingListSupport,
    StreamOpened,
    StreamStalled,
    Transition,
    Watching,
    WatchRequest,
)


def initial_state(*, page_size: int = DEFAULT_PAGE_SIZE, watch_list: bool | None = None) -> ReflectorState:
    """Return the state of a reflector that has done nothing yet.

    Args:
        page_size: the page size of paginated lists.
        watch_list: ``True`` to always use streaming lists, ``False`` never, ``None`` to try them and fall back.

    >>> initial_state(watch_list=False).phase
    Listing(resource_version='0', limit=500, continue_token='', pages=(), list_resource_version='', full_list=False)
    """
    support: StreamingListSupport = "unknown" if watch_list is None else "required" if watch_list else "unsupported"
    state = ReflectorState(phase=Stopped(), streaming_list=support, page_size=page_size)
    return replace(state, phase=begin_list(state))


def begin_list(state: ReflectorState) -> Listing | StreamingList:
    """Return the phase that gets the whole state again, from what ``state`` remembers.

    A streaming list asks for ``""`` after an expired resourceVersion, else the last synced one (client-go
    ``rewatchResourceVersion``). A paginated list asks for ``""`` after an expired resourceVersion, ``"0"`` before
    the first sync, else the last synced one (``relistResourceVersion``). Lists at ``""`` and ``"0"`` paginate;
    a list at a specific resourceVersion does not unless the first list came paginated, so that the watch cache
    can serve it (``Reflector.list``: "switch off pagination to force listing from watch cache").

    >>> state = ReflectorState(Stopped(), resource_version="42", synced=True, streaming_list="unsupported")
    >>> begin_list(state)
    Listing(resource_version='42', limit=None, continue_token='', pages=(), list_resource_version='', full_list=False)
    """
    if state.streaming_list != "unsupported":
        return StreamingList("" if state.resource_version_unavailable else state.resource_version)
    resource_version = _relist_resource_version(state)
    paginate = resource_version in ("", "0") or state.paginated_result
    return Listing(resource_version, state.page_size if paginate else None)


def list_request(phase: Listing) -> ListRequest:
    """Return the request for the next page of ``phase``.

    Continue pages carry neither resourceVersion nor resourceVersionMatch, which the server rejects together with a
    continue token (tools/pager ``List``).

    >>> list_request(Listing("0", 500, continue_token="abc"))
    ListRequest(limit=500, continue_token='abc', resource_version=None, resource_version_match=None)
    """
    if phase.continue_token:
        return ListRequest(phase.limit, phase.continue_token, None, None)
    return ListRequest(None if phase.full_list else phase.limit, None, phase.resource_version, None)


def watch_request(state: ReflectorState) -> WatchRequest:
    """Return the request that opens the watch of ``state``'s phase (a streaming list, or a watch).

    >>> watch_request(ReflectorState(Watching(), resource_version="7"))
    WatchRequest(resource_version='7', send_initial_events=False, resource_version_match=None, allow_bookmarks=True)
    """
    if isinstance(state.phase, StreamingList):
        return WatchRequest(state.phase.resource_version, True, "NotOlderThan")
    return WatchRequest(state.resource_version, False, None)


def advance(state: ReflectorState, outcome: Outcome) -> Transition:
    """Return where ``state`` goes after ``outcome``, with the effects to deliver.

    Raises:
        ValueError: ``outcome`` cannot happen in ``state``'s phase (a bug in the caller).
    """
    phase = state.phase
    if isinstance(outcome, EventReceived) and outcome.event.type == "ERROR":
        # A WatchStream that yields an ERROR event instead of raising it (client-go: apierrors.FromObject).
        outcome = Failed(_error_of(outcome.event))
    transition: Transition | None = None
    if isinstance(phase, BackingOff) and isinstance(outcome, BackoffElapsed):
        transition = Transition(replace(state, phase=phase.next))
    elif isinstance(phase, Listing):
        transition = _advance_listing(state, phase, outcome)
    elif isinstance(phase, StreamingList):
        transition = _advance_streaming_list(state, phase, outcome)
    elif isinstance(phase, Watching):
        transition = _advance_watching(state, phase, outcome)
    if transition is None:
        raise ValueError(f"a {type(outcome).__name__} outcome cannot happen while {type(phase).__name__}")
    return transition


def describe(state: ReflectorState, now: float | None = None) -> str:
    """Return what ``state``'s phase does, for logs (``now`` gives a backoff's remaining time).

    >>> describe(ReflectorState(BackingOff(Watching(resumed=True), until=12.0), resource_version="7"), now=10.5)
    're-watching from resourceVersion "7" in 1.5 s'
    """
    phase = state.phase
    if isinstance(phase, BackingOff):
        waiting = f" in {phase.until - now:.1f} s" if phase.until is not None and now is not None else ""
        return describe(replace(state, phase=phase.next)) + waiting
    if isinstance(phase, Listing):
        pages = f" in pages of {phase.limit}" if phase.limit and not phase.full_list else ""
        return f'listing at resourceVersion "{phase.resource_version}"{pages}'
    if isinstance(phase, StreamingList):
        return f'streaming the list from resourceVersion "{phase.resource_version}"'
    if isinstance(phase, Watching):
        return f'{"re-watching" if phase.resumed else "watching"} from resourceVersion "{state.resource_version}"'
    return "stopped"


def _advance_listing(state: ReflectorState, phase: Listing, outcome: Outcome) -> Transition | None:
    match outcome:
        case PageReceived(page):
            return _page_received(state, phase, page)
        case Failed(error):
            return _list_failed(state, phase, error)
    return None


def _advance_streaming_list(state: ReflectorState, phase: StreamingList, outcome: Outcome) -> Transition | None:
    match outcome:
        case StreamOpened(stream, at):
            return Transition(replace(state, phase=replace(phase, stream=stream, opened_at=at)))
        case EventReceived(event):
            return _initial_event(state, phase, event)
        case StreamStalled(opening=True):
            error = ReflectorError(f"the streaming list request {outcome.describe()}; retrying")
            return _back_off(state, begin_list(state), error)
        case StreamEnded() | StreamStalled():
            return _streaming_list_cut_short(state, outcome)
        case Failed(error):
            return _streaming_list_failed(state, phase, error)
    return None


def _advance_watching(state: ReflectorState, phase: Watching, outcome: Outcome) -> Transition | None:
    match outcome:
        case StreamOpened(stream, at):
            return Transition(replace(state, phase=Watching(stream, at, resumed=phase.resumed)))
        case EventReceived(event):
            return _watch_event(state, phase, event)
        case StreamEnded(at):
            return _watch_ended(state, phase, at)
        case StreamStalled(opening=False):
            # Silence is no failure: the server sends bookmarks only once its watch cache has moved past the
            # watch's resourceVersion (apiserver cacheWatcher.process), so a quiet resource gets none. Renewing the
            # watch replaces a dead or frozen connection and costs a quiet one a request.
            return Transition(replace(state, phase=Watching(resumed=True)))
        case StreamStalled():
            stalled = ReflectorError(f"the watch request {outcome.describe()}; reopening it")
            return Transition(replace(state, phase=Watching(resumed=True)), error=stalled)
        case Failed(error):
            return _watch_failed(state, error)
    return None


def _page_received(state: ReflectorState, phase: Listing, page: ListPage) -> Transition:
    pages = (*phase.pages, page.items)
    list_resource_version = phase.list_resource_version if phase.pages else page.resource_version
    if page.continue_token:
        following = replace(phase, continue_token=page.continue_token, pages=pages)
        return Transition(replace(state, phase=replace(following, list_resource_version=list_resource_version)))
    if not list_resource_version:
        # Nothing to watch from (kube-rs watcher: Error::NoResourceVersion).
        return _back_off(state, begin_list(state), ReflectorError("the list came without a resourceVersion"))
    paginated = state.paginated_result or (phase.resource_version == "0" and len(pages) > 1)
    items = [item for chunk in pages for item in chunk]
    listed = _synced(state, list_resource_version, Watching())
    return Transition(replace(listed, paginated_result=paginated), effects=(Replace(items, list_resource_version),))


def _list_failed(state: ReflectorState, phase: Listing, error: Exception) -> Transition:
    if resource_version_unavailable(error):
        if phase.continue_token:
            # tools/pager FullListIfExpired: one unpaginated list at the original resourceVersion.
            full = Listing(phase.resource_version, phase.limit, full_list=True)
            return Transition(replace(state, phase=full), error=error)
        if phase.resource_version != "":
            # Reflector.list: "fallback to resourceVersion="" ... and ensure the reflector makes forward
            # progress", at once and with the same page size.
            unavailable = replace(state, resource_version_unavailable=True)
            return Transition(replace(unavailable, phase=Listing("", phase.limit)), error=error)
    return _back_off(state, begin_list(state), error)


def _initial_event(state: ReflectorState, phase: StreamingList, event: WatchEvent) -> Transition:
    if event.type != "BOOKMARK":
        return Transition(replace(state, phase=replace(phase, events=InitialEvents(event, phase.events))))
    if get_annotations(event.object).get(INITIAL_EVENTS_END_ANNOTATION) != "true":
        return Transition(state)
    if not event.resource_version:
        return _back_off(
            state, begin_list(state), ReflectorError("the initial-events-end bookmark has no resourceVersion")
        )
    items = phase.events.objects() if phase.events is not None else []
    received = 1 + (phase.events.count if phase.events is not None else 0)
    watching = Watching(phase.stream, phase.opened_at, received)
    synced = _synced(state, event.resource_version, watching)
    if synced.streaming_list == "unknown":
        synced = replace(synced, streaming_list="supported")
    return Transition(synced, effects=(Replace(items, event.resource_version),))


def _streaming_list_cut_short(state: ReflectorState, outcome: StreamEnded | StreamStalled) -> Transition:
    how = "ended" if isinstance(outcome, StreamEnded) else outcome.describe()
    error = ReflectorError(f"the streaming list {how} before the initial-events-end bookmark")
    if state.streaming_list == "unknown":
        # A server that ignores sendInitialEvents never sends the bookmark; stop asking it (client-go instead
        # retries after each watch timeout).
        return _fall_back_to_list(state, error)
    return _back_off(state, begin_list(state), error)


def _streaming_list_failed(state: ReflectorState, phase: StreamingList, error: Exception) -> Transition:
    if resource_version_unavailable(error) and phase.resource_version != "":
        # Reflector.watchList: reset the resourceVersion and retry at once for a consistent snapshot.
        unavailable = replace(state, resource_version_unavailable=True)
        return Transition(replace(unavailable, phase=begin_list(unavailable)), error=error)
    if streaming_list_unsupported(error) and state.streaming_list != "required":
        return _fall_back_to_list(state, error)
    return _back_off(state, begin_list(state), error)


def _fall_back_to_list(state: ReflectorState, error: Exception) -> Transition:
    unsupported = replace(state, streaming_list="unsupported")
    return Transition(replace(unsupported, phase=begin_list(unsupported)), error=error)


def _watch_event(state: ReflectorState, phase: Watching, event: WatchEvent) -> Transition:
    # Reflector.handleAnyWatch: the resourceVersion follows every event and bookmark.
    resource_version = event.resource_version or state.resource_version
    watching = replace(state, resource_version=resource_version, phase=replace(phase, received=phase.received + 1))
    if event.type != "BOOKMARK":
        return Transition(watching, effects=(Apply(event),))
    return Transition(watching, effects=(Bookmark(resource_version),) if event.resource_version else ())


def _watch_ended(state: ReflectorState, phase: Watching, at: float) -> Transition:
    if phase.received == 0 and at - phase.opened_at < VERY_SHORT_WATCH:
        error = ReflectorError(f"very short watch: it closed within {VERY_SHORT_WATCH:.0f} s without an event")
        return _back_off(state, Watching(resumed=True), error)
    # A server timeout: watch again from where this one stopped, without a list.
    return Transition(replace(state, phase=Watching(resumed=True)))


def _watch_failed(state: ReflectorState, error: Exception) -> Transition:
    if resource_version_unavailable(error):
        # Relist with a consistent read (client-go first relists at the last synced resourceVersion).
        unavailable = replace(state, resource_version_unavailable=True)
        return _back_off(unavailable, begin_list(unavailable), error)
    if watch_retriable(error):
        # isWatchErrorRetriable: the server is busy or unreachable; resume the watch, do not relist.
        return _back_off(state, Watching(resumed=True), error)
    # Anything else, StorageReadError and InternalError frames included: the events since the last synced
    # resourceVersion may be incomplete, so relist (client-go watch: "watch of %v ended with: %v", then relist).
    return _back_off(state, begin_list(state), error)


def _relist_resource_version(state: ReflectorState) -> str:
    if state.resource_version_unavailable:
        return ""
    return state.resource_version if state.synced else "0"


def _synced(state: ReflectorState, resource_version: str, phase: Watching) -> ReflectorState:
    return replace(
        state, phase=phase, resource_version=resource_version, resource_version_unavailable=False, synced=True
    )


def _back_off(state: ReflectorState, following: Listing | StreamingList | Watching, error: Exception) -> Transition:
    return Transition(replace(state, phase=BackingOff(following, minimum_delay(error))), error=error)


def _error_of(event: WatchEvent) -> Exception:
    try:
        event.raise_for_error()
    except APIError as error:
        return error
    raise ValueError(f"a {event.type} event carries no error")  # pragma: no cover - only called for ERROR events


__all__ = ["advance", "begin_list", "describe", "initial_state", "list_request", "watch_request"]
