from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynaclient import _list_bodies
from dynaclient._list_bodies import ListDecoder, decode_items_in_pieces, list_head

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


def item(index: int, extra: Any, nested: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {"extra": extra}
    if nested:  # nested objects that open like items: a split there must never be trusted
        spec["templates"] = [{"metadata": {"name": "t1"}}, {"metadata": {"name": "t2"}}]
    return {"metadata": {"name": f"o{index}", "labels": {"i": str(index)}}, "spec": spec}


def body_of(items: list[dict[str, Any]], **dumps: Any) -> bytes:
    listing = {"kind": "ThingList", "apiVersion": "v1", "metadata": {"resourceVersion": "5"}, "items": items}
    return json.dumps(listing, **dumps).encode()


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_list_bodies, "PIECE_BYTES", 64)
    monkeypatch.setattr(_list_bodies, "_MAX_LAST_PIECE", 10_000)
    monkeypatch.setattr(_list_bodies, "_HEAD_BYTES", 256)  # small bodies start decoding before they are complete


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_VALUES, st.booleans()), max_size=12), st.booleans())
def test_pieces_decode_to_exactly_what_the_whole_body_decodes_to(specs: list[tuple[Any, bool]], compact: bool) -> None:
    items = [item(index, extra, nested) for index, (extra, nested) in enumerate(specs)]
    body = body_of(items, separators=(",", ":")) if compact else body_of(items)
    decoded = decode_items_in_pieces(body, json.loads)
    assert decoded is None or decoded == json.loads(body)
    if compact and not any(nested for _, nested in specs):
        assert decoded == json.loads(body)  # the layout the server sends is always decoded in pieces


def test_pieces_are_decoded_separately() -> None:
    items = [item(index, "x" * 40, nested=False) for index in range(20)]
    sizes: list[int] = []

    def decode(data: bytes) -> Any:
        sizes.append(len(data))
        return json.loads(data)

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
    assert decode_items_in_pieces(body, json.loads) == json.loads(body)


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
    assert decode_items_in_pieces(body, json.loads) is None


def test_an_empty_list() -> None:
    assert decode_items_in_pieces(b'{"kind":"L","metadata":{},"items":[]}', json.loads) == {
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

    def decode(data: bytes) -> Any:
        pieces.append(len(data))
        return json.loads(data)

    decoder = ListDecoder(decode)
    position = 0
    for size in cuts:
        decoder.feed(body[position : position + size])
        position += size
    decoder.feed(body[position:])
    decoded_while_fed = len(pieces)
    assert decoder.body == body
    decoded = decoder.finish()
    assert decoded is None or decoded == json.loads(body)
    if not any(nested for _, nested in specs):
        assert decoded == json.loads(body)
        if len(items) >= 3:
            assert decoded_while_fed >= 2  # the envelope and a piece, before finish()
