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


def decode_items_in_pieces(body: bytes, decode: Callable[[bytes], Any]) -> dict[str, Any] | None:
    """Decode a list body with ``decode`` applied to its envelope and to its items about a megabyte at a time.

    Returns:
        The decoded list, equal to decoding the whole body; ``None`` when the body is not a list of that shape or a
        piece does not decode (decode the whole body then).

    >>> body = b'{"kind":"L","metadata":{},"items":[{"metadata":{"n":1}},{"metadata":{"n":2}}]}'
    >>> decode_items_in_pieces(body, json.loads)
    {'kind': 'L', 'metadata': {}, 'items': [{'metadata': {'n': 1}}, {'metadata': {'n': 2}}]}
    """
    head = list_head(body)
    opened = _ITEMS_OPEN.match(body, head[1]) if head is not None else None
    stop = _items_stop(body, opened.end()) if opened is not None else None
    if head is None or opened is None or stop is None:
        return None
    start = opened.end()
    try:
        envelope = decode(body[: head[1]] + b"}")
        first = _FIRST_ITEM.match(body, start, min(stop, start + _HEAD_BYTES))
        if start == stop or first is None:
            envelope["items"] = decode(b"[" + body[start:stop] + b"]")
            return envelope if isinstance(envelope, dict) else None
        boundary = b"}," + body[first.start() : first.end()]
        items: list[Any] = []
        while start < stop:
            split = body.find(boundary, start + PIECE_BYTES, stop)
            if split < 0 and stop - start > _MAX_LAST_PIECE:
                return None  # no boundary (another layout): one piece this large would defeat the purpose
            end = stop if split < 0 else split + 1
            items.extend(decode(b"[" + body[start:end] + b"]"))
            start = end + 1
    except ValueError:
        return None
    envelope["items"] = items
    return envelope if isinstance(envelope, dict) else None


def _items_stop(body: bytes, start: int) -> int | None:
    """Return the offset of the ``]`` that closes the items when the body ends with ``]}`` (and whitespace)."""
    end = len(body.rstrip())
    if end < start + 2 or body[end - 1] != ord("}"):
        return None
    stop = len(body[: end - 1].rstrip()) - 1
    return stop if stop >= start and body[stop] == ord("]") else None


__all__ = ["PIECE_BYTES", "decode_items_in_pieces", "list_head"]
