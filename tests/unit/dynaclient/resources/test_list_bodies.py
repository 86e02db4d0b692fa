from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynaclient._buffers import BufferPool
from dynaclient.resources import _list_bodies
from dynaclient.resources._list_bodies import ListDecoder, decode_items_in_pieces, list_head

NASTY = [
    '},{"metadata":{',  # the boundary text itself, inside a string (escaped there)
    "},{",
    'ünïcødé "quoted" \\ back',
    "x" * 50,
]

_STRINGS = st.sampled_from(NASTY) | st.text(max_size=12)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | _STRINGS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_STRINGS, children, max_size=3),
    max_leaves=8,
)


def json_of_view(data: bytes | memoryview) -> Any:
    """The stdlib decoder, given what a ListDecoder gives its decoder: bytes, or a view of the body's items."""
    return json.loads(bytes(data))


def item(index: int, extra: Any, nested: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {"extra": extra}
    if nested:  # nested objects that open like items: a split there must never be trusted
        spec["templates"] = [{"metadata": {"name": "t1"}}, {"metadata": {"name": "t2"}}]
    return {"metadata": {"name": f"o{index}", "labels": {"i": str(index)}}, "spec": spec}


def body_of(items: list[dict[str, Any]], **dumps: Any) -> bytes:
    listing = {"kind": "ThingList", "apiVersion": "v1", "metadata": {"resourceVersion": "5"}, "items": items}
    return json.dumps(listing, **dumps).encode()


STALE = (
    b'  },{"metadata":{"name":"stale"}},{"metadata":{"name":"stale"}}'
    b'],"kind":"StaleList","metadata":{"continue":"stale"}}  \n'
) * 100
"""What an earlier body may have left in a reused buffer past the new body's end: boundaries, a list's tail."""


class StaleBodies(BufferPool):
    """Hands every decoder a buffer already full of misleading bytes, as a buffer reused after a longer body is.

    Thread-safety: thread-safe.
    """

    def take(self) -> bytearray:
        return bytearray(STALE)


@pytest.fixture(autouse=True, params=["fresh buffers", "reused buffers"])
def small_pieces(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    monkeypatch.setattr(_list_bodies, "PIECE_BYTES", 64)
    monkeypatch.setattr(_list_bodies, "_MAX_LAST_PIECE", 10_000)
    monkeypatch.setattr(_list_bodies, "HEAD_BYTES", 256)  # small bodies start decoding before they are complete
    if request.param == "reused buffers":  # a decoder must never read past the body it was fed
        monkeypatch.setattr(_list_bodies, "_BODIES", StaleBodies(keep=0, largest=0))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_VALUES, st.booleans()), max_size=12), st.booleans())
def test_pieces_decode_to_exactly_what_the_whole_body_decodes_to(specs: list[tuple[Any, bool]], compact: bool) -> None:
    items = [item(index, extra, nested) for index, (extra, nested) in enumerate(specs)]
    body = body_of(items, separators=(",", ":")) if compact else body_of(items)
    decoded = decode_items_in_pieces(body, json_of_view)
    assert decoded is None or decoded == json.loads(body)
    if compact:
        assert decoded == json.loads(body)  # the layout the server sends is always decoded in pieces


def test_pieces_are_decoded_separately() -> None:
    items = [item(index, "x" * 40, nested=False) for index in range(20)]
    sizes: list[int] = []

    def decode(data: bytes | memoryview) -> Any:
        sizes.append(len(data))
        return json_of_view(data)

    assert decode_items_in_pieces(body_of(items, separators=(",", ":")), decode) == {
        "kind": "ThingList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": "5"},
        "items": items,
    }
    assert len(sizes) > 5  # the envelope, then many pieces


def test_unstructured_items_open_with_api_version_and_kind() -> None:
    items = [{"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": f"o{i}"}} for i in range(30)]
    body = body_of(items, separators=(",", ":"))
    assert decode_items_in_pieces(body, json_of_view) == json.loads(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"items":[],"metadata":{}}',
        b'{"kind":"L","metadata":{},"items":[],"extra":1}',
        b'{"kind":"L","metadata":{}}',
        b"[1, 2]",
        b'{"kind":"L","metadata":{},"items":[{"metadata":{}},{"metadata":{}}',
    ],
)
def test_other_shapes_are_left_to_the_whole_body_decoder(body: bytes) -> None:
    assert decode_items_in_pieces(body, json_of_view) is None


def test_an_empty_list() -> None:
    assert decode_items_in_pieces(b'{"kind":"L","metadata":{},"items":[]}', json_of_view) == {
        "kind": "L",
        "metadata": {},
        "items": [],
    }


def test_list_head_gives_byte_offsets_past_non_ascii_metadata() -> None:
    body = '{"kind":"L","metadata":{"note":"é"},"items":[]}'.encode()
    head = list_head(body)
    assert head is not None
    assert body[head[1] :] == b',"items":[]}'


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_VALUES, st.booleans()), max_size=10), st.lists(st.integers(1, 200), max_size=30))
def test_a_body_fed_in_any_chunks_decodes_as_when_whole(specs: list[tuple[Any, bool]], cuts: list[int]) -> None:
    items = [item(index, extra, nested) for index, (extra, nested) in enumerate(specs)]
    body = body_of(items, separators=(",", ":"))
    pieces: list[int] = []

    def decode(data: bytes | memoryview) -> Any:
        pieces.append(len(data))
        return json_of_view(data)

    decoder = ListDecoder(decode)
    position = 0
    for size in cuts:
        decoder.feed(body[position : position + size])
        position += size
    decoder.feed(body[position:])
    decoded_while_fed = len(pieces)
    assert decoder.body == body
    decoded = decoder.finish()
    assert decoded == json.loads(body)
    if len(items) >= 3 and not any(nested for _, nested in specs):
        assert decoded_while_fed >= 1  # a piece, before finish()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_VALUES, st.booleans()), max_size=10), st.integers(1, 300))
def test_sorted_key_lists_of_custom_resources_decode_in_pieces_too(specs: list[tuple[Any, bool]], chunk: int) -> None:
    items = [
        {"apiVersion": "x.io/v1", "kind": "Thing", **item(i, extra, nested)} for i, (extra, nested) in enumerate(specs)
    ]
    listing = {"apiVersion": "x.io/v1", "items": items, "kind": "ThingList", "metadata": {"continue": "t"}}
    body = json.dumps(listing, separators=(",", ":"), sort_keys=True).encode() + b"\n"
    decoder = ListDecoder(json_of_view)
    for position in range(0, len(body), chunk):
        decoder.feed(body[position : position + chunk])
    assert decoder.metadata() == {"continue": "t"}
    decoded = decoder.finish()
    assert decoded == listing
    assert decoded is not None
    assert list(decoded) == ["apiVersion", "items", "kind", "metadata"]


def test_finish_is_idempotent_and_releases_the_body() -> None:
    decoder = ListDecoder(json_of_view)
    decoder.feed(body_of([item(0, None, False), item(1, None, False)], separators=(",", ":")))
    first = decoder.finish()
    assert first is not None
    assert len(first["items"]) == 2
    assert decoder.finish() is first
    assert decoder.body == b""
    assert decoder.metadata() == {"resourceVersion": "5"}


def test_a_body_nested_too_deeply_is_left_to_the_whole_body_decoder() -> None:
    deep = b'{"kind":"L","metadata":{},"items":[' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
    decoder = ListDecoder(json_of_view)
    decoder.feed(deep)
    assert decoder.finish() is None
    assert decoder.body == deep


def test_the_next_page_is_written_over_the_body_of_the_one_before(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = BufferPool(keep=1, largest=1 << 20)
    monkeypatch.setattr(_list_bodies, "_BODIES", pool)
    buffer = pool.take()
    pool.give(buffer)
    long, short = body_of([item(i, "x" * 40, False) for i in range(20)]), body_of([item(0, None, False)])
    for body in (long, short):
        decoder = ListDecoder(json_of_view)
        decoder.feed(body)
        assert decoder.body == body
        assert decoder.finish() == json.loads(body)
    assert pool.take() is buffer
    assert len(buffer) >= len(long)  # the short page was written over the long one's bytes, in the same memory
