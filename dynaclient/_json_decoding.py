"""Decode JSON response bodies and watch frames: orjson when installed (the ``fast`` extra), else the stdlib.

Decoding is most of a list's client CPU. These measures make it cheaper without changing what comes out:

* ``orjson`` decodes about twice as fast as ``json`` and shares the key strings of every document (its key cache),
  where ``json`` shares them only within one document: an informer fed one watch frame per object keeps far fewer
  strings. Whatever orjson rejects (``NaN``, infinities, lone surrogates, a byte order mark) is decoded again by
  ``json``, so the values and the errors are the stdlib's. One difference remains: orjson makes an integer beyond
  64 bits a float, where ``json`` keeps an int of the same value. The API server sends no such integer but as a
  float64's digits (apimachinery ``pkg/util/json`` decodes every number to an int64 or a float64).
* orjson does not decode a body over :data:`FAST_MAX_BYTES` whole: its parser first builds a document tree of
  about 12 times the body's size (a 17 MB list peaked at 220 MB). A list that large (an informer's first list,
  served whole from the watch cache) has its items decoded by orjson a megabyte at a time
  (:func:`~dynaclient.resources._list_bodies.decode_items_in_pieces`); any other large body is decoded by ``json``.
* Python's cyclic garbage collector is paused while a large body is decoded. Decoding allocates thousands of dicts
  and lists per page, and each 700 allocations start a collection that walks the young objects, and every few
  rounds all of them: on a 10,000-object list that is as much CPU as the decoding itself. Decoded JSON holds no
  reference cycles, so pausing frees nothing later than it would have been. Pauses nest across threads: the
  collector is re-enabled when the last decoding thread finishes, and only if it was enabled when the first began.
* Pausing alone only defers that work: once the collector is back, each page is walked as young, then again as
  middle-aged, and it counts towards the next full collection. So a pause begins with a collection of the young
  generation (a few hundred objects at most: whatever was allocated since the last one), and when it ends what
  it allocated is moved to the oldest generation without being walked (``gc.freeze()`` then ``gc.unfreeze()``,
  two list splices). On a 10,000-ConfigMap list that took about a fifth off the client's CPU (docs/benchmarks.md,
  "Client CPU per list"). The cost: objects other threads allocated during the pause, and the middle generation's, are
  promoted too, so any reference cycle among them is reclaimed at the next full collection rather than sooner.
  Nothing is promoted when the application froze objects itself (``gc.get_freeze_count()``: a pre-fork server;
  unfreezing would undo that), nor when it disabled the collector. ``DYNACLIENT_GC_PROMOTE=0`` in the environment
  turns promotion off.

``DYNACLIENT_JSON_DECODER=json`` in the environment keeps the stdlib decoder even when orjson is installed.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from dynaclient.resources._list_bodies import decode_items_in_pieces

LARGE_BODY_BYTES = 64 * 1024
"""Bodies of at least this many bytes are decoded with the garbage collector paused."""

FAST_MAX_BYTES = 2 * 1024 * 1024
"""Bodies larger than this are not given to orjson whole (a 500-object page is below): a list's items are decoded
by it in pieces, anything else by ``json``."""


DECODER_ENV = "DYNACLIENT_JSON_DECODER"
"""Environment variable: ``json`` uses the stdlib decoder even when orjson is installed (for comparisons)."""


def _fast_loads() -> Callable[[bytes | memoryview], Any] | None:
    if os.environ.get(DECODER_ENV, "").strip().lower() == "json":
        return None
    try:
        orjson = importlib.import_module("orjson")  # optional: the ``fast`` extra
    except ImportError:
        return None
    fast: Callable[[bytes | memoryview], Any] = orjson.loads
    return fast


_FAST_LOADS = _fast_loads()

DECODER = "orjson" if _FAST_LOADS is not None else "json"
"""The JSON decoder in use: ``"orjson"`` when it is installed, else ``"json"``."""

PROMOTE_ENV = "DYNACLIENT_GC_PROMOTE"
"""Environment variable: ``0`` only pauses the collector while a large body is decoded, and promotes nothing."""

_PROMOTE = os.environ.get(PROMOTE_ENV, "").strip() != "0"
_pause_lock = threading.Lock()
_pauses = 0
_resume = False


@contextmanager
def collection_paused(*, promote: bool | None = None) -> Iterator[None]:
    """Pause the cyclic garbage collector for the block; blocks may nest and overlap across threads.

    For code that builds many long-lived objects at once: decoding a large body, or an informer replacing its
    cache with a list's objects. Keep the block short: no collection runs in any thread while it lasts.

    With ``promote`` (default: unless :data:`PROMOTE_ENV` is ``0``) what the block allocated goes to the oldest
    generation when the last overlapping block ends (see the module docstring). Nothing is promoted when the
    collector was disabled before the first block, or when the process has frozen objects itself.
    """
    global _pauses, _resume
    promote = _PROMOTE if promote is None else promote
    with _pause_lock:
        first = _pauses == 0
        if first:
            _resume = gc.isenabled()
            gc.disable()
        _pauses += 1
        collect_young = first and _resume and promote
    if collect_young:  # outside the lock: a collection may run finalizers, and they are other code
        gc.collect(0)
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _resume:
                if promote and gc.get_freeze_count() == 0:
                    gc.freeze()  # every tracked object to the permanent generation, and back to the oldest
                    gc.unfreeze()
                gc.enable()


def loads(
    data: bytes | memoryview, *, fast: Callable[[bytes | memoryview], Any] | None = _FAST_LOADS, pieces: bool = True
) -> Any:
    """Decode one JSON document, pausing the garbage collector for a large one.

    Args:
        data: the document: bytes, or a memoryview of contiguous bytes (a list decoder's piece, read in place).
        fast: the fast decoder to try first (orjson's when installed); ``None`` uses only the stdlib.
        pieces: let the fast decoder take a large list's items in pieces (``False`` when that already failed).

    Raises:
        ValueError: ``data`` is not JSON (the stdlib's ``JSONDecodeError``, or ``UnicodeDecodeError``).
        RecursionError: the document nests too deeply.

    >>> loads(b'{"kind": "Pod", "spec": {"replicas": 3}}')
    {'kind': 'Pod', 'spec': {'replicas': 3}}
    >>> loads(b'[NaN, 1]')
    [nan, 1]
    """
    if len(data) < LARGE_BODY_BYTES:
        return _decode(data, fast, pieces)
    with collection_paused():
        return _decode(data, fast, pieces)


def _decode(data: bytes | memoryview, fast: Callable[[bytes | memoryview], Any] | None, pieces: bool) -> Any:
    if fast is not None:
        if len(data) <= FAST_MAX_BYTES:
            try:
                return fast(data)
            except ValueError:  # orjson.JSONDecodeError is a ValueError; the stdlib decides and explains
                pass
        elif pieces and (decoded := decode_items_in_pieces(data, fast)) is not None:
            return decoded
    return json.loads(data if isinstance(data, bytes) else bytes(data))


__all__ = ["DECODER", "DECODER_ENV", "FAST_MAX_BYTES", "LARGE_BODY_BYTES", "PROMOTE_ENV", "collection_paused", "loads"]
