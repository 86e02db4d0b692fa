"""Read a list body's parts without decoding all of it: its metadata, and its items in pieces.

The API server writes a list in one of two layouts (checked against kube-apiserver v1.34):

* built-in types, ``{"kind":..,"apiVersion":..,"metadata":{..},"items":[..]}``: the list structs declare
  ``TypeMeta``, ``ListMeta`` and ``Items`` in that order and ``encoding/json`` keeps it;
* custom resources (unstructured lists), sorted keys: ``{"apiVersion":..,"items":[..],"kind":..,"metadata":{..}}``.

Two uses follow:

* :func:`list_metadata` reads a complete body's ``metadata`` (at its head or at its tail), so that a pager learns
  the next continue token before the body is decoded.
* :class:`ListDecoder` decodes a list's items while the body arrives, a megabyte at a time, so that decoding
  overlaps the transfer and a decoder whose memory grows with the document (orjson) can decode a list of any size.
  A piece ends where ``},`` is followed by the opening of the first item up to its ``"metadata":{``. A split there
  is never inside a string (the unescaped quote would end it), and a split inside a nested array leaves the piece
  unbalanced, so it fails to decode: the piece is then extended to the next such place, a few times, before the
  decoder gives up and the caller decodes the whole body. Pieces that all decode hold exactly the items the whole
  array holds: the array's text is their texts joined by commas, and JSON parses one way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from dynaclient._buffers import BufferPool

PIECE_BYTES = 1024 * 1024
"""About how many bytes of items are decoded at a time."""

_MAX_EXTENSIONS = 8  # a piece that does not decode is extended this many times before the decoder gives up
_MAX_LAST_PIECE = 2 * PIECE_BYTES
HEAD_BYTES = 16 * 1024
"""A list's head (kind, apiVersion, metadata with the continue token) is looked for in this many first bytes."""
_METADATA_FIRST = re.compile(rb'\{\s*(?:"(?:kind|apiVersion)"\s*:\s*"[^"\\]*"\s*,\s*){0,2}"metadata"\s*:\s*')
_ITEMS_AFTER_METADATA = re.compile(rb'\s*,\s*"items"\s*:\s*\[\s*')
_ITEMS_FIRST = re.compile(rb'\{\s*"apiVersion"\s*:\s*"[^"\\]*"\s*,\s*"items"\s*:\s*\[\s*')
_ITEMS_KEY = b'"items"'
_FIRST_ITEM = re.compile(rb'\{(?:\s*"(?:apiVersion|kind)"\s*:\s*"[^"\\]*"\s*,)*\s*"metadata"\s*:\s*\{')
_METADATA_KEY = b'"metadata":'
_SPACE = b" \t\r\n"
_OBJECT_DECODER = json.JSONDecoder()
_BODIES = BufferPool(keep=3, largest=4 * PIECE_BYTES)
"""List page bodies, written over page after page (an unpaginated list's larger body is not kept)."""

Body = bytes | bytearray

Decode = Callable[[bytes | memoryview], Any]
"""A JSON decoder of bytes or a memoryview (the items of a list are given to it in place, as a view of the body)."""


def list_head(body: Body, end: int | None = None) -> tuple[dict[str, Any], int] | None:
    """Return the ``metadata`` object at the head of a list body and the offset just past it.

    Only ``kind`` and ``apiVersion`` (in either order) may come before ``metadata``; ``None`` for any other shape.
    The metadata's strings are read as Latin-1, so offsets are byte offsets; list metadata is ASCII. The body ends
    at ``end`` (by default, at its length).

    >>> list_head(b'{"kind":"PodList","apiVersion":"v1","metadata":{"continue":"abc"},"items":[]}')
    ({'continue': 'abc'}, 65)
    >>> list_head(b'{"items":[],"metadata":{}}') is None
    True
    """
    end = len(body) if end is None else end
    head = _METADATA_FIRST.match(body, 0, min(HEAD_BYTES, end))
    if head is None:
        return None
    return _object_at(body, head.end(), end)


def list_metadata(body: Body, end: int | None = None) -> dict[str, Any] | None:
    """Return the ``metadata`` of a complete list body, from its head or, in sorted-key lists, its tail.

    ``None`` when neither place holds one; the caller decodes the body to be sure of anything else. The body ends
    at ``end`` (by default, at its length).

    >>> list_metadata(b'{"apiVersion":"x/v1","items":[{"metadata":{}}],"kind":"XList","metadata":{"continue":"t"}}')
    {'continue': 't'}
    >>> list_metadata(b'{"kind":"L","metadata":{"continue":"h"},"items":[{"metadata":{"continue":"no"}}]}')
    {'continue': 'h'}
    """
    end = len(body) if end is None else end
    head = list_head(body, end)
    if head is not None:
        return head[0]
    key = body.rfind(_METADATA_KEY, 0, end)
    tail = _object_at(body, _skip_space(body, key + len(_METADATA_KEY), end), end) if key >= 0 else None
    last = _skip_space_back(body, end) - 1
    if tail is None or _skip_space(body, tail[1], end) != last or body[last : last + 1] != b"}":
        return None  # the last "metadata" is not the list's own, closing the body
    return tail[0]


class ListDecoder:
    """Decodes a list body as it arrives: each megabyte of complete items is decoded once it is in.

    :meth:`feed` the chunks, then :meth:`finish`; ``None`` from it means the body is not a list of a known layout or
    its items could not be split: decode :attr:`body` whole then. After a successful :meth:`finish` the body is
    released (:attr:`body` is empty) and :meth:`finish` returns the same list again.

    The body is written into a buffer taken from a small pool and given back by a successful :meth:`finish`, so a
    list's pages are written over the same memory one after another (:mod:`dynaclient._buffers`); a decoder reads
    only the bytes it was fed, never what an earlier body left past them.

    Thread-safety: used by one thread at a time (it may be fed in one and finished in another).

    Example:
        >>> from dynaclient._json_decoding import loads
        >>> decoder = ListDecoder(loads)
        >>> for chunk in (b'{"kind":"L","metadata":{},"items":[{"metadata":{"n":1}},', b'{"metadata":{"n":2}}]}'):
        ...     decoder.feed(chunk)
        >>> decoder.finish()
        {'kind': 'L', 'metadata': {}, 'items': [{'metadata': {'n': 1}}, {'metadata': {'n': 2}}]}
    """

    def __init__(self, decode: Decode) -> None:
        self._decode = decode
        self._body = _BODIES.take()  # written from its start; what lies past _length is an earlier body's
        self._length = 0
        self._prefix: bytes | None = None  # the envelope before the items (sorted layout: up to "items")
        self._head_metadata: dict[str, Any] | None = None  # read by _open when the metadata leads
        self._sorted = False
        self._items: list[Any] = []
        self._start = 0  # where the next undecoded item begins, once the prefix is known
        self._searched = 0  # the next piece ends at a boundary at or after this offset
        self._extensions = 0  # times the current piece was extended past a boundary inside an item
        self._boundary: bytes | None = None
        self._failed = False
        self._result: dict[str, Any] | None = None

    @property
    def body(self) -> bytes:
        """Every byte fed so far (empty once :meth:`finish` has succeeded)."""
        return bytes(memoryview(self._body)[: self._length])

    def metadata(self) -> dict[str, Any] | None:
        """Return the list's ``metadata`` from the body fed so far (see :func:`list_metadata`)."""
        if self._result is not None:
            metadata = self._result.get("metadata")
            return metadata if isinstance(metadata, dict) else None
        if self._head_metadata is not None:
            return self._head_metadata
        return list_metadata(self._body, self._length)

    def feed(self, chunk: bytes | memoryview) -> None:
        """Add a chunk of the body; decode the pieces it completes."""
        length = self._length
        self._length = end = length + len(chunk)
        if end <= len(self._body):
            self._body[length:end] = chunk  # over an earlier body's bytes, in place
        else:
            self._body[length:] = chunk
        if not self._failed:
            try:
                self._advance(final=False)
            except (ValueError, RecursionError):
                self._failed = True

    def finish(self) -> dict[str, Any] | None:
        """Decode what is left; return the whole list, or ``None`` (decode :attr:`body` whole instead)."""
        if self._result is None and not self._failed:
            try:
                self._result = self._finish()
            except (ValueError, RecursionError):
                self._failed = True
            if self._result is not None:
                _BODIES.give(self._body)
                self._body, self._length = bytearray(), 0
        return self._result

    def _finish(self) -> dict[str, Any] | None:
        self._advance(final=True)
        if self._prefix is None:
            return None
        body, start, length = self._body, self._start, self._length
        if self._sorted:  # {"apiVersion":..,"items":[..],"kind":..,"metadata":{..}}
            stop = body.rfind(b'],"kind":', start, length)
            envelope = self._decode(self._prefix + bytes(body[stop + 2 : length])) if stop >= start else None
        else:  # {"kind":..,"apiVersion":..,"metadata":{..},"items":[..]}
            end = _skip_space_back(body, length)
            stop = _skip_space_back(body, end - 1) - 1
            closed = body[end - 1 : end] == b"}" and stop >= start and body[stop : stop + 1] == b"]"
            envelope = self._decode(self._prefix + b"}") if closed else None
        if not isinstance(envelope, dict) or stop - start > _MAX_LAST_PIECE:
            return None  # not a list; or no boundary was found, and one piece that large would defeat the purpose
        if stop > start:
            self._items.extend(self._decode_array(start, stop))
        before = {key: value for key, value in envelope.items() if not self._sorted or key < "items"}
        return before | {"items": self._items} | {key: value for key, value in envelope.items() if key not in before}

    def _advance(self, *, final: bool) -> None:
        body, length = self._body, self._length
        if self._prefix is None:
            if not final and length < HEAD_BYTES:
                return  # the head may not be complete yet
            self._open(body, length)
        if self._boundary is None:
            return
        while (split := body.find(self._boundary, max(self._start + PIECE_BYTES, self._searched), length)) >= 0:
            try:
                items = self._decode_array(self._start, split + 1)
            except ValueError:  # the split was inside an item: extend the piece to the next boundary
                self._extensions += 1
                if self._extensions > _MAX_EXTENSIONS:
                    raise
                self._searched = split + 1
                continue
            self._items.extend(items)
            self._start = self._searched = split + 2
            self._extensions = 0
        self._searched = max(self._start + PIECE_BYTES, self._searched, length - len(self._boundary) + 1)

    def _decode_array(self, start: int, end: int) -> Any:
        """Decode the items in ``body[start:end]`` as one array, in place: the body is not copied.

        The byte before ``start`` (the array's ``[`` or the comma before the piece) and the one at ``end`` (its
        ``]`` or the comma after) are replaced by the brackets while the decoder reads, and then restored.
        """
        body = self._body
        opened, closed = body[start - 1], body[end]
        body[start - 1], body[end] = 0x5B, 0x5D  # b"[", b"]"
        try:
            with memoryview(body)[start - 1 : end + 1] as piece:
                return self._decode(piece)
        finally:
            body[start - 1], body[end] = opened, closed

    def _open(self, body: bytearray, length: int) -> None:
        head = list_head(body, length)
        opened = _ITEMS_AFTER_METADATA.match(body, head[1], length) if head is not None else None
        if head is not None and opened is not None:
            self._prefix, self._start, self._head_metadata = bytes(body[: head[1]]), opened.end(), head[0]
        elif (opened := _ITEMS_FIRST.match(body, 0, min(HEAD_BYTES, length))) is not None:
            self._prefix = bytes(body[: body.rfind(_ITEMS_KEY, 0, opened.end())])
            self._sorted, self._start = True, opened.end()
        else:
            raise ValueError("not a list body")
        first = _FIRST_ITEM.match(body, self._start, min(self._start + HEAD_BYTES, length))
        self._boundary = b"}," + bytes(body[first.start() : first.end()]) if first is not None else None


def decode_items_in_pieces(body: bytes | memoryview, decode: Decode) -> dict[str, Any] | None:
    """Decode a whole list body with :class:`ListDecoder`; ``None`` when it cannot (decode it whole then).

    >>> body = b'{"apiVersion":"x/v1","items":[{"metadata":{"n":1}},{"metadata":{"n":2}}],"kind":"XList","metadata":{}}'
    >>> from dynaclient._json_decoding import loads
    >>> decode_items_in_pieces(body, loads)
    {'apiVersion': 'x/v1', 'items': [{'metadata': {'n': 1}}, {'metadata': {'n': 2}}], 'kind': 'XList', 'metadata': {}}
    """
    decoder = ListDecoder(decode)
    decoder.feed(body)
    return decoder.finish()


def _object_at(body: Body, start: int, end: int) -> tuple[dict[str, Any], int] | None:
    """Decode the JSON object at ``start`` (at most 16 KiB, and not past ``end``); return it and the offset past it."""
    try:
        value, stop = _OBJECT_DECODER.raw_decode(bytes(body[start : min(start + HEAD_BYTES, end)]).decode("latin-1"))
    except ValueError:
        return None
    return (value, start + stop) if isinstance(value, dict) else None


def _skip_space(body: Body, index: int, end: int) -> int:
    while index < end and body[index] in _SPACE:
        index += 1
    return index


def _skip_space_back(body: Body, end: int) -> int:
    while end > 0 and body[end - 1] in _SPACE:
        end -= 1
    return end


__all__ = ["HEAD_BYTES", "PIECE_BYTES", "Decode", "ListDecoder", "decode_items_in_pieces", "list_head", "list_metadata"]
