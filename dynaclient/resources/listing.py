"""Lazy, paginated lists: pages fetched on demand, each item's apiVersion and kind filled in, expiry handled.

Paging follows client-go ``tools/pager/pager.go``: the first page is asked for with ``limit`` (default 500); later
pages send only ``continue`` (``resourceVersion`` and ``resourceVersionMatch`` are cleared, since the server
rejects them next to a continue token); only the presence of ``continue`` says whether more pages follow, as the
server may return fewer items than ``limit``, even none. A continue token the server no longer honours answers
410 Expired; with ``restart_on_expired`` the pager then does what client-go's ``FullListIfExpired`` does: one
unpaginated list with the original options.

A continue token the server already returned during this list means the list would go round for ever (a broken
aggregated API or proxy); it raises :class:`~dynaclient.exceptions.ContinueTokenLoopError` (client-go's pager
would loop).

Items are filled in place like apimachinery's ``unstructuredJSONScheme.decodeToList``: an item with neither
``kind`` nor ``apiVersion`` gets the list's ``apiVersion`` and the list kind without its ``List`` suffix.

Pages are fetched ahead, as client-go's pager buffers pages in a goroutine (``eachListChunkBuffered``): as soon as
a page's body names the next continue token in its ``metadata`` (the first 16 KiB of a built-in list; see
:mod:`dynaclient.resources._list_bodies` for where the server puts it), that page is requested in a background
thread, so the server prepares it while this one still arrives and is decoded. At most one page is fetched ahead of
the one being waited for. So iterating even the first item of a multi-page list sends two requests. The token is
checked against the decoded page; a body whose metadata cannot be found is prefetched once it has been read.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Generator
from dataclasses import replace
from typing import Any, Generic, Protocol

from dynaclient._types import JSONObject, ObjectT
from dynaclient.exceptions import ContinueTokenLoopError, DecodeError, GoneError
from dynaclient.resources._list_bodies import ListDecoder, list_metadata
from dynaclient.resources.options import ListOptions

DEFAULT_PAGE_SIZE = 500
"""Items per page when the caller gives no limit (client-go ``tools/pager`` ``defaultPageSize``)."""

_PER_PAGE_METADATA = ("continue", "remainingItemCount")


class FetchedPage(Protocol):
    """A page's response, read whole: its continue token at once, the decoded list on :meth:`decode`.

    Thread-safety: handed from the thread that fetched it to the one that decodes it, used by one at a time.
    """

    def continue_token(self) -> str | None:
        """Return the continue token the body's metadata names, read without decoding the items (``None``: unknown)."""
        ...

    def decode(self) -> JSONObject:
        """Return the decoded list object (raising what decoding or the answer calls for)."""
        ...


TokenCallback = Callable[["str | None"], None]
"""Told a page's continue token as soon as its body names it (``None``: not known before the body ends)."""

PageFetcher = Callable[[ListOptions, TokenCallback], FetchedPage]
"""Fetches one page of a list for the given options (I/O and error mapping; decoding may be left to the page); may
call the callback once, from the fetching thread, with the page's continue token as soon as the body's head names
it, before the body ends."""


class EncodedPage:
    """A fetched page held as its body, decoded on demand by ``decode`` (``json.loads`` by default).

    Thread-safety: immutable.
    """

    def __init__(self, body: bytes, decode: Callable[[bytes], JSONObject] = json.loads) -> None:
        self.body = body
        self._decode = decode

    def continue_token(self) -> str | None:
        """Return the continue token in the body's metadata, without decoding the items."""
        return peek_continue_token(self.body)

    def decode(self) -> JSONObject:
        """Decode the body."""
        return self._decode(self.body)


class StreamedPage:
    """A fetched page whose items were decoded while its body arrived.

    The items were decoded by a :class:`~dynaclient.resources._list_bodies.ListDecoder`.

    Thread-safety: used by one thread at a time.
    """

    def __init__(self, decoder: ListDecoder, fallback: Callable[[bytes], JSONObject]) -> None:
        """Finish ``decoder`` on :meth:`decode`; when it cannot, decode its whole body with ``fallback``."""
        self._decoder = decoder
        self._fallback = fallback

    def continue_token(self) -> str | None:
        """Return the continue token in the body's metadata, without decoding the items."""
        return _token_of(self._decoder.metadata())

    def decode(self) -> JSONObject:
        """Return the decoded list."""
        decoded = self._decoder.finish()
        return decoded if decoded is not None else self._fallback(self._decoder.body)


class ObjectList(Generic[ObjectT]):
    """A list request that fetches its pages as it is iterated, yielding the items as dicts (typed ``ObjectT``).

    Iterate it once (``for obj in resource.list()``), or call :meth:`to_list` once for the whole list object.
    :attr:`resource_version` fetches the first page if needed, so it is known before the first item is read.
    While a page arrives and its items are consumed, the next page is already being fetched in a background thread
    (at most one request ahead of the page waited for; ``prefetch=False`` fetches strictly on demand).

    When ``restart_on_expired`` is set and a continue token expires (410), the pager lists again in full without a
    limit (client-go ``FullListIfExpired``): iteration then goes on with every item of that fresh list, so items
    already yielded may come again, possibly newer; :attr:`restarted` becomes true and :attr:`resource_version`
    is the fresh list's. :meth:`to_list` returns only the fresh list. Without it the expiry raises
    :class:`~dynaclient.exceptions.GoneError`.

    Args:
        fetch: fetches one page for the given options, telling the callback its continue token early if it can;
            called from a background thread when prefetching.
        options: the list options; ``limit`` is the page size (``None`` means :data:`DEFAULT_PAGE_SIZE`, ``0``
            means no paging).
        restart_on_expired: relist in full when a continue token expires, instead of raising.
        prefetch: fetch the next page while the current one is decoded and consumed.

    Thread-safety: iterated by one thread at a time (its prefetch thread only calls ``fetch``).

    Example:
        >>> first = {"metadata": {"resourceVersion": "5", "continue": "t"}, "items": [{"metadata": {"name": "a"}}]}
        >>> last = {"metadata": {}, "items": [{"metadata": {"name": "b"}}]}
        >>> pages = {None: {"kind": "PodList", "apiVersion": "v1", **first}, "t": {"kind": "PodList", **last}}
        >>> def fetch(options, on_token):
        ...     return EncodedPage(json.dumps(pages[options.continue_token]).encode())
        >>> pods = ObjectList(fetch, ListOptions())
        >>> pods.resource_version
        '5'
        >>> [(item["kind"], item["metadata"]["name"]) for item in pods]
        [('Pod', 'a'), ('Pod', 'b')]
    """

    def __init__(
        self,
        fetch: PageFetcher,
        options: ListOptions,
        *,
        restart_on_expired: bool = False,
        prefetch: bool = True,
    ) -> None:
        self._fetch = fetch
        self._options = options if options.limit is not None else replace(options, limit=DEFAULT_PAGE_SIZE)
        self._restart_on_expired = restart_on_expired
        self._prefetch = prefetch
        self._first: JSONObject | None = None
        self._started = False
        self._ended = False
        self._ahead: _PageRequest | None = None
        self._ahead_lock = threading.Lock()  # fetching threads start the page ahead; the iterating one takes it
        self._metadata: JSONObject = {}
        self.restarted = False
        self.api_version = ""
        self.kind = ""

    def __repr__(self) -> str:
        return f"<ObjectList {self.kind or 'not fetched'} resourceVersion={self._metadata.get('resourceVersion')}>"

    @property
    def resource_version(self) -> str:
        """The list's ``metadata.resourceVersion`` (the first page's, or the fresh list's after a restart)."""
        if self._first is None and not self._started:
            self._first = self._load_head(self._fetch(self._options, ignore_token))
        value = self._metadata.get("resourceVersion")
        return value if isinstance(value, str) else ""

    def __iter__(self) -> Generator[ObjectT, None, None]:
        for page, _ in self._pages():
            yield from page["items"]

    def pages(self) -> Generator[JSONObject, None, None]:
        """Yield each page as its decoded list object, items filled in."""
        for page, _ in self._pages():
            yield page

    def to_list(self) -> JSONObject:
        """Fetch every page and return one list object: first page's metadata without ``continue``, all items."""
        items: list[JSONObject] = []
        for page, restarted in self._pages():
            if restarted:
                items = []
            items.extend(page["items"])
        return {"apiVersion": self.api_version, "kind": self.kind, "metadata": dict(self._metadata), "items": items}

    def _pages(self) -> Generator[tuple[JSONObject, bool], None, None]:
        if self._started:
            raise RuntimeError("an ObjectList is iterated once; call list() again for a fresh list")
        self._started = True
        if self._first is not None:
            page, self._first = self._first, None
        else:
            fetched = self._fetch(self._options, self._fetch_ahead)
            self._fetch_ahead(fetched.continue_token())
            page = self._load_head(fetched)
            del fetched  # the body is not kept while the page is consumed
        seen: set[str] = set()
        try:
            while True:
                yield page, False
                token = _continue_token(page)
                if not token:
                    return
                if token in seen:
                    raise ContinueTokenLoopError(
                        f"list of {self.kind or 'objects'}: the server returned a continue token it had returned "
                        f"before (after {len(seen) + 1} pages); the list would never end"
                    )
                seen.add(token)
                try:  # an expired token answers 410, or a 2xx Status with code 410 that decoding raises
                    ahead = self._take_ahead()
                    if ahead is not None and ahead.token == token:
                        fetched = ahead.result()
                    else:  # none ahead, or the head misled us: fetch the decoded token's page
                        fetched = self._fetch(self._next_page(token), self._fetch_ahead)
                    self._fetch_ahead(fetched.continue_token())
                    page = self._load(fetched)
                    del fetched
                except GoneError:
                    if not self._restart_on_expired:
                        raise
                    self.restarted = True
                    yield self._load_head(self._fetch(replace(self._options, limit=0), ignore_token)), True
                    return
        finally:
            self._ended = True
            self._take_ahead()  # what is fetched ahead is dropped; its request finishes in the background

    def _fetch_ahead(self, token: str | None) -> None:
        """Start fetching the page at ``token`` in a thread, unless one is already ahead (or prefetch is off).

        Called by the thread reading a page as soon as its head names the next token, and by the iterating thread
        once a page is read (for bodies that name it only at their end).
        """
        if not token or not self._prefetch:
            return
        with self._ahead_lock:
            if self._ahead is None and not self._ended:
                self._ahead = _PageRequest(self._fetch, self._next_page(token), self._fetch_ahead)

    def _take_ahead(self) -> _PageRequest | None:
        with self._ahead_lock:
            ahead, self._ahead = self._ahead, None
        return ahead

    def _next_page(self, token: str) -> ListOptions:
        return next_page_options(self._options, token)

    def _load(self, fetched: FetchedPage) -> JSONObject:
        page = fetched.decode()
        fill_list_items(page)
        return page

    def _load_head(self, fetched: FetchedPage) -> JSONObject:
        """Load a first page (or a full relist) and keep its kind and metadata as the list's."""
        page = self._load(fetched)
        self.api_version, self.kind, self._metadata = list_head(page)
        return page


def ignore_token(token: str | None) -> None:
    """A token callback for fetches that start nothing ahead."""


class _PageRequest:
    """One page being fetched in a daemon thread (a daemon, so an abandoned list never delays the exit).

    Thread-safety: :meth:`result` is called by one thread at a time; the worker only sets the outcome, which
    ``join`` publishes.
    """

    def __init__(self, fetch: PageFetcher, options: ListOptions, on_token: TokenCallback) -> None:
        self.token = options.continue_token
        self._page: FetchedPage | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(fetch, options, on_token), name="dynaclient-list-page", daemon=True
        )
        self._thread.start()

    def _run(self, fetch: PageFetcher, options: ListOptions, on_token: TokenCallback) -> None:
        try:
            self._page = fetch(options, on_token)
        except BaseException as exc:  # handed to the iterating thread by result()
            self._error = exc

    def result(self) -> FetchedPage:
        """Wait for the page; raise what the fetch raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._page is not None
        return self._page


def peek_continue_token(body: bytes) -> str | None:
    """Return the continue token in a list body's ``metadata`` (at its head, or at its tail in sorted-key lists).

    The items are not decoded; ``None`` when the body has no such metadata or no token.

    >>> peek_continue_token(b'{"kind":"PodList","apiVersion":"v1","metadata":{"continue":"abc"},"items":[]}')
    'abc'
    >>> peek_continue_token(b'{"apiVersion":"x/v1","items":[],"kind":"XList","metadata":{"continue":"abc"}}')
    'abc'
    >>> peek_continue_token(b'{"kind": "PodList", "metadata": {"resourceVersion": "5"}, "items": []}') is None
    True
    """
    return _token_of(list_metadata(body))


def _token_of(metadata: dict[str, Any] | None) -> str | None:
    token = metadata.get("continue") if metadata is not None else None
    return token if isinstance(token, str) and token else None


def fill_list_items(page: JSONObject) -> list[Any]:
    """Give each item without ``kind`` and ``apiVersion`` the list's, in place; return the items.

    A missing or ``null`` ``items`` becomes ``[]``.

    Raises:
        DecodeError: ``items`` is not a list of objects.

    >>> page = {"apiVersion": "apps/v1", "kind": "DeploymentList", "items": [{"metadata": {}}, {"kind": "X"}]}
    >>> fill_list_items(page)
    [{'metadata': {}, 'kind': 'Deployment', 'apiVersion': 'apps/v1'}, {'kind': 'X'}]
    """
    items = page.get("items")
    if items is None:
        items = page["items"] = []
    elif not isinstance(items, list):
        raise DecodeError(f"list {page.get('kind')!r}: items is a {type(items).__name__}, expected a list")
    list_kind = page.get("kind")
    item_kind = list_kind.removesuffix("List") if isinstance(list_kind, str) else ""
    api_version = page.get("apiVersion") or ""
    try:
        for item in items:
            if not item.get("kind") and not item.get("apiVersion"):
                item["kind"] = item_kind
                item["apiVersion"] = api_version
    except AttributeError:
        raise DecodeError(f"list {list_kind!r}: an item is not a JSON object") from None
    return items


def next_page_options(options: ListOptions, token: str) -> ListOptions:
    """Return the options of the page after the one that named ``token``.

    The server rejects resourceVersion next to continue (client-go tools/pager clears both).

    >>> page = next_page_options(ListOptions(limit=5, resource_version="0"), "t")
    >>> page.limit, page.continue_token, page.resource_version
    (5, 't', None)
    """
    return replace(options, continue_token=token, resource_version=None, resource_version_match=None)


def list_head(page: JSONObject) -> tuple[str, str, dict[str, Any]]:
    """Return a first page's ``apiVersion``, ``kind`` and the metadata that holds for the whole list.

    >>> list_head({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "5", "continue": "t"}})
    ('v1', 'PodList', {'resourceVersion': '5'})
    """
    metadata = page.get("metadata")
    pairs = metadata.items() if isinstance(metadata, dict) else ()
    kept = {key: value for key, value in pairs if key not in _PER_PAGE_METADATA}
    return str(page.get("apiVersion") or ""), str(page.get("kind") or ""), kept


def continue_token(page: JSONObject) -> str:
    """Return a decoded page's continue token; ``""`` on the last page.

    >>> continue_token({"metadata": {"continue": "t"}}), continue_token({})
    ('t', '')
    """
    return _continue_token(page)


def _continue_token(page: JSONObject) -> str:
    metadata = page.get("metadata")
    token = metadata.get("continue") if isinstance(metadata, dict) else None
    return token if isinstance(token, str) else ""


__all__ = [
    "DEFAULT_PAGE_SIZE",
    "EncodedPage",
    "FetchedPage",
    "ObjectList",
    "PageFetcher",
    "StreamedPage",
    "TokenCallback",
    "continue_token",
    "fill_list_items",
    "ignore_token",
    "list_head",
    "next_page_options",
    "peek_continue_token",
]
