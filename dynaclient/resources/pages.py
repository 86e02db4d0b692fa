"""One page of a list, shared by the sync and asyncio lists: the fetched page, its continue token, its items.

A fetched page is held as its body (:class:`EncodedPage`) or streamed through a decoder (:class:`StreamedPage`);
either names its continue token before the whole page is decoded, so the next page can be asked for early. Items
are filled in place like apimachinery's ``unstructuredJSONScheme.decodeToList``; the next page's options follow
client-go ``tools/pager/pager.go``. The pagers are :mod:`dynaclient.resources.listing` and
:mod:`dynaclient.aio.listing`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from dynaclient._types import JSONObject
from dynaclient.exceptions import DecodeError
from dynaclient.resources._list_bodies import ListDecoder, list_metadata
from dynaclient.resources.options import ListOptions

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


def ignore_token(token: str | None) -> None:
    """A token callback for fetches that start nothing ahead."""


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
    metadata = page.get("metadata")
    token = metadata.get("continue") if isinstance(metadata, dict) else None
    return token if isinstance(token, str) else ""


__all__ = [
    "EncodedPage",
    "FetchedPage",
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
