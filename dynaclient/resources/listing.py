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
:mod:`dynaclient.resources._list_bodies` for where the server puts it), that page is requested by a worker thread,
so the server prepares it while this one still arrives and is decoded. At most one page is fetched ahead of the one
being waited for, so a list has at most two workers, kept from page to page
(:mod:`dynaclient.resources._page_workers`). So iterating even the first item of a multi-page list sends two
requests. The token is checked against the decoded page; a body whose metadata cannot be found is prefetched once
it has been read.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from dataclasses import replace
from typing import Generic

from dynaclient._types import JSONObject, ObjectT
from dynaclient.exceptions import ContinueTokenLoopError, GoneError
from dynaclient.resources._page_workers import PageWorkers
from dynaclient.resources.options import ListOptions
from dynaclient.resources.pages import (
    EncodedPage,
    FetchedPage,
    PageFetcher,
    StreamedPage,
    TokenCallback,
    continue_token,
    fill_list_items,
    ignore_token,
    list_head,
    next_page_options,
    peek_continue_token,
)

DEFAULT_PAGE_SIZE = 500
"""Items per page when the caller gives no limit (client-go ``tools/pager`` ``defaultPageSize``)."""


class ObjectList(Generic[ObjectT]):
    """A list request that fetches its pages as it is iterated, yielding the items as dicts (typed ``ObjectT``).

    Iterate it once (``for obj in resource.list()``), or call :meth:`to_list` once for the whole list object.
    :attr:`resource_version` fetches the first page if needed, so it is known before the first item is read.
    While a page arrives and its items are consumed, the next page is already being fetched by a worker thread
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

    Thread-safety: iterated by one thread at a time (its workers only call ``fetch``).

    Example:
        >>> import json
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
        self._workers: PageWorkers | None = None  # started with the first page fetched ahead
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
                token = continue_token(page)
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
            with self._ahead_lock:
                self._ended = True
                workers, self._workers = self._workers, None
            self._take_ahead()  # what is fetched ahead is dropped; its request finishes in the background
            if workers is not None:
                workers.close()

    def _fetch_ahead(self, token: str | None) -> None:
        """Start fetching the page at ``token`` in a worker, unless one is already ahead (or prefetch is off).

        Called by the thread reading a page as soon as its head names the next token, and by the iterating thread
        once a page is read (for bodies that name it only at their end).
        """
        if not token or not self._prefetch:
            return
        with self._ahead_lock:
            if self._ahead is None and not self._ended:
                if self._workers is None:
                    self._workers = PageWorkers("dynaclient-list-page")
                self._ahead = _PageRequest(self._fetch, self._next_page(token), self._fetch_ahead, self._workers)

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


class _PageRequest:
    """One page being fetched by one of the list's workers.

    The page is done once its worker is idle again: the iterating thread starts the page after the next one only
    after taking this one, so a list never needs more than two workers.

    Thread-safety: :meth:`result` is called by one thread at a time; the worker only sets the outcome, which the
    event publishes.
    """

    def __init__(self, fetch: PageFetcher, options: ListOptions, on_token: TokenCallback, workers: PageWorkers) -> None:
        self.token = options.continue_token
        self._fetch, self._options, self._on_token = fetch, options, on_token
        self._page: FetchedPage | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        workers.run(self._run, self._done.set)  # done once its worker is free for the page after it

    def _run(self) -> None:
        try:
            self._page = self._fetch(self._options, self._on_token)
        except BaseException as exc:  # handed to the iterating thread by result()
            self._error = exc

    def result(self) -> FetchedPage:
        """Wait for the page; raise what the fetch raised."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._page is not None
        return self._page


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
