"""Lazy, paginated lists: pages fetched on demand, each item's apiVersion and kind filled in, expiry handled.

Paging follows client-go ``tools/pager/pager.go``: the first page is asked for with ``limit`` (default 500); later
pages send only ``continue`` (``resourceVersion`` and ``resourceVersionMatch`` are cleared, since the server
rejects them next to a continue token); only the presence of ``continue`` says whether more pages follow, as the
server may return fewer items than ``limit``, even none. A continue token the server no longer honours answers
410 Expired; with ``restart_on_expired`` the pager then does what client-go's ``FullListIfExpired`` does: one
unpaginated list with the original options.

Items are filled in place like apimachinery's ``unstructuredJSONScheme.decodeToList``: an item with neither
``kind`` nor ``apiVersion`` gets the list's ``apiVersion`` and the list kind without its ``List`` suffix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from dynaclient._types import JSONObject
from dynaclient.exceptions import DecodeError, GoneError
from dynaclient.resource_options import ListOptions

DEFAULT_PAGE_SIZE = 500
"""Items per page when the caller gives no limit (client-go ``tools/pager`` ``defaultPageSize``)."""

_PER_PAGE_METADATA = ("continue", "remainingItemCount")

PageFetcher = Callable[[ListOptions], JSONObject]
"""Fetches one page of a list for the given options and returns the decoded list object."""


class ObjectList:
    """A list request that fetches its pages as it is iterated, yielding the items as dicts.

    Iterate it once (``for obj in resource.list()``), or call :meth:`to_list` once for the whole list object.
    :attr:`resource_version` fetches the first page if needed, so it is known before the first item is read.

    When ``restart_on_expired`` is set and a continue token expires (410), the pager lists again in full without a
    limit (client-go ``FullListIfExpired``): iteration then goes on with every item of that fresh list, so items
    already yielded may come again, possibly newer; :attr:`restarted` becomes true and :attr:`resource_version`
    is the fresh list's. :meth:`to_list` returns only the fresh list. Without it the expiry raises
    :class:`~dynaclient.exceptions.GoneError`.

    Args:
        fetch: fetches one page for the given options.
        options: the list options; ``limit`` is the page size (``None`` means :data:`DEFAULT_PAGE_SIZE`, ``0``
            means no paging).
        restart_on_expired: relist in full when a continue token expires, instead of raising.

    Thread-safety: confined to the thread that iterates it.

    Example:
        >>> first = {"metadata": {"resourceVersion": "5", "continue": "t"}, "items": [{"metadata": {"name": "a"}}]}
        >>> last = {"metadata": {}, "items": [{"metadata": {"name": "b"}}]}
        >>> pages = {None: {"kind": "PodList", "apiVersion": "v1", **first}, "t": {"kind": "PodList", **last}}
        >>> pods = ObjectList(lambda options: pages[options.continue_token], ListOptions())
        >>> pods.resource_version
        '5'
        >>> [(item["kind"], item["metadata"]["name"]) for item in pods]
        [('Pod', 'a'), ('Pod', 'b')]
    """

    def __init__(self, fetch: PageFetcher, options: ListOptions, *, restart_on_expired: bool = False) -> None:
        self._fetch = fetch
        self._options = options if options.limit is not None else replace(options, limit=DEFAULT_PAGE_SIZE)
        self._restart_on_expired = restart_on_expired
        self._first: JSONObject | None = None
        self._started = False
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
            self._first = self._load_head(self._options)
        value = self._metadata.get("resourceVersion")
        return value if isinstance(value, str) else ""

    def __iter__(self) -> Iterator[JSONObject]:
        for page, _ in self._pages():
            yield from page["items"]

    def pages(self) -> Iterator[JSONObject]:
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

    def _pages(self) -> Iterator[tuple[JSONObject, bool]]:
        if self._started:
            raise RuntimeError("an ObjectList is iterated once; call list() again for a fresh list")
        self._started = True
        page, self._first = self._first or self._load_head(self._options), None
        yield page, False
        while token := _continue_token(page):
            try:
                # The server rejects resourceVersion next to continue (client-go tools/pager clears both).
                page = self._load(
                    replace(self._options, continue_token=token, resource_version=None, resource_version_match=None),
                )
            except GoneError:
                if not self._restart_on_expired:
                    raise
                self.restarted = True
                yield self._load_head(replace(self._options, limit=0)), True
                return
            yield page, False

    def _load(self, options: ListOptions) -> JSONObject:
        page = self._fetch(options)
        fill_list_items(page)
        return page

    def _load_head(self, options: ListOptions) -> JSONObject:
        """Load a first page (or a full relist) and keep its kind and metadata as the list's."""
        page = self._load(options)
        self.api_version, self.kind = str(page.get("apiVersion") or ""), str(page.get("kind") or "")
        metadata = page.get("metadata")
        pairs = metadata.items() if isinstance(metadata, dict) else ()
        self._metadata = {key: value for key, value in pairs if key not in _PER_PAGE_METADATA}
        return page


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


def _continue_token(page: JSONObject) -> str:
    metadata = page.get("metadata")
    token = metadata.get("continue") if isinstance(metadata, dict) else None
    return token if isinstance(token, str) else ""


__all__ = ["DEFAULT_PAGE_SIZE", "ObjectList", "PageFetcher", "fill_list_items"]
