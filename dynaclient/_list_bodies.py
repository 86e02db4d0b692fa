"""Read a list body's parts without decoding all of it: the leading metadata, and the items in pieces.

The API server writes every list as ``{"kind":..,"apiVersion":..,"metadata":{..},"items":[..]}``: apimachinery's
list types declare ``TypeMeta``, then ``ListMeta``, then ``Items``, and ``encoding/json`` keeps that order (sorted
keys for unstructured lists put ``items`` after ``apiVersion``, ``kind`` and ``metadata`` too). Two uses follow:

* :func:`list_head` reads the ``metadata`` at the head of a body, so a pager learns the next continue token
  before the body is decoded.
* :func:`decode_items_in_pieces` decodes a large list's items a megabyte at a time, so that a decoder whose memory
  grows with the document (orjson) can decode a list of any size. A piece ends where the text ``},`` is followed by
  the opening of the first item up to its ``"metadata":{``; a piece that is not a run of whole items fails to
  decode (a split inside a string leaves it unterminated, a split inside an item leaves it unbalanced), and then
  the caller decodes the whole body instead. Pieces that all decode give exactly the items the whole array holds:
  the array's text is their texts joined by commas, and JSON parses one way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

PIECE_BYTES = 1024 * 1024
"""About how many bytes of items are decoded at a time."""

_MAX_LAST_PIECE = 2 * PIECE_BYTES
_HEAD_BYTES = 16 * 1024
_LIST_HEAD = re.compile(rb'\{\s*(?:"(?:kind|apiVersion)"\s*:\s*"[^"\\]*"\s*,\s*){0,2}"metadata"\s*:\s*')
_ITEMS_OPEN = re.compile(rb'\s*,\s*"items"\s*:\s*\[\s*')
_FIRST_ITEM = re.compile(rb'\{(?:\s*"(?:apiVersion|kind)"\s*:\s*"[^"\\]*"\s*,)*\s*"metadata"\s*:\s*\{')
_METADATA_DECODER = json.JSONDecoder()


def list_head(body: bytes) -> tuple[dict[str, Any], int] | None:
    """Return the ``metadata`` object at the head of a list body and the offset just past it.

    Only ``kind`` and ``apiVersion`` (in either order) may come before ``metadata``; ``None`` for any other shape.
    The metadata's strings are read as Latin-1, so offsets are byte offsets; list metadata is ASCII.

    >>> list_head(b'{"kind":"PodList","apiVersion":"v1","metadata":{"continue":"abc"},"items":[]}')
    ({'continue': 'abc'}, 65)
    >>> list_head(b'{"items":[],"metadata":{}}') is None
    True
    """
    head = _LIST_HEAD.match(body, 0, _HEAD_BYTES)
    if head is None:
        return None
    start = head.end()
    try:
        metadata, end = _METADATA_DECODER.raw_decode(body[start : start + _HEAD_BYTES].decode("latin-1"))
    except ValueError:
        return None
    return (metadata, start + end) if isinstance(metadata, dict) else None


class ListDecoder:
    """Decodes a list body as it arrives: each megabyte of complete items is decoded when it is in.

    :meth:`feed` the chunks, then :meth:`finish`; ``None`` from it means the body is not a list of the expected
    layout, or a piece did not decode: decode :attr:`body` whole then.

    Thread-safety: used by one thread at a time (it may be fed in one and finished in another).

    Example:
        >>> decoder = ListDecoder(json.loads)
        >>> for chunk in (b'{"kind":"L","metadata":{},"items":[{"metadata":{"n":1}},', b'{"metadata":{"n":2}}]}'):
        ...     decoder.feed(chunk)
        >>> decoder.finish()
        {'kind': 'L', 'metadata': {}, 'items': [{'metadata': {'n': 1}}, {'metadata': {'n': 2}}]}
    """

    def __init__(self, decode: Callable[[bytes], Any]) -> None:
        self._decode = decode
        self._body = bytearray()
        self._envelope: dict[str, Any] | None = None
        self._items: list[Any] = []
        self._start = 0  # where the next undecoded item begins, once the envelope is decoded
        self._boundary: bytes | None = None
        self._failed = False

    @property
    def body(self) -> bytes:
        """Every byte fed so far."""
        return bytes(self._body)

    @property
    def head(self) -> bytes:
        """The first bytes fed (up to 16 KiB: enough for a list's metadata)."""
        return bytes(self._body[:_HEAD_BYTES])

    def feed(self, chunk: bytes) -> None:
        """Add a chunk of the body; decode the pieces it completes."""
        self._body += chunk
        if not self._failed:
            try:
                self._advance()
            except ValueError:
                self._failed = True

    def finish(self) -> dict[str, Any] | None:
        """Decode what is left; return the whole list, or ``None`` (decode :attr:`body` whole instead)."""
        if self._failed:
            return None
        try:
            self._advance(final=True)
            stop = _items_stop(self._body, self._start) if self._envelope is not None else None
            if self._envelope is None or stop is None or stop - self._start > _MAX_LAST_PIECE:
                return None
            if stop > self._start:
                self._items.extend(self._decode(b"[" + self._body[self._start : stop] + b"]"))
        except ValueError:
            return None
        self._envelope["items"] = self._items
        return self._envelope

    def _advance(self, *, final: bool = False) -> None:
        body = self._body
        if self._envelope is None:
            if not final and len(body) < _HEAD_BYTES:
                return  # the head may not be complete yet
            head = list_head(bytes(body[:_HEAD_BYTES]))
            opened = _ITEMS_OPEN.match(body, head[1]) if head is not None else None
            if head is None or opened is None:
                raise ValueError("not a list body")
            envelope = self._decode(bytes(body[: head[1]]) + b"}")
            if not isinstance(envelope, dict):
                raise ValueError("not a list body")
            self._envelope, self._start = envelope, opened.end()
            first = _FIRST_ITEM.match(body, self._start, self._start + _HEAD_BYTES)
            self._boundary = b"}," + bytes(body[first.start() : first.end()]) if first is not None else None
        if self._boundary is None:
            return
        while (split := body.find(self._boundary, self._start + PIECE_BYTES)) >= 0:
            self._items.extend(self._decode(b"[" + body[self._start : split + 1] + b"]"))
            self._start = split + 2


def decode_items_in_pieces(body: bytes, decode: Callable[[bytes], Any]) -> dict[str, Any] | None:
    """Decode a whole list body with :class:`ListDecoder`; ``None`` when it cannot (decode it whole then).

    >>> body = b'{"kind":"L","metadata":{},"items":[{"metadata":{"n":1}},{"metadata":{"n":2}}]}'
    >>> decode_items_in_pieces(body, json.loads)
    {'kind': 'L', 'metadata': {}, 'items': [{'metadata': {'n': 1}}, {'metadata': {'n': 2}}]}
    """
    decoder = ListDecoder(decode)
    decoder.feed(body)
    return decoder.finish()


def _items_stop(body: bytes | bytearray, start: int) -> int | None:
    """Return the offset of the ``]`` that closes the items when the body ends with ``]}`` (and whitespace)."""
    end = _skip_space_back(body, len(body))
    if end - 1 < start or body[end - 1] != ord("}"):
        return None
    stop = _skip_space_back(body, end - 1) - 1
    return stop if stop >= start and body[stop] == ord("]") else None


def _skip_space_back(body: bytes | bytearray, end: int) -> int:
    while end > 0 and body[end - 1] in b" \t\r\n":
        end -= 1
    return end


__all__ = ["PIECE_BYTES", "ListDecoder", "decode_items_in_pieces", "list_head"]
