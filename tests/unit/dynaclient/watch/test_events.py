from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynaclient._types import JSONObject
from dynaclient.exceptions import APIError, DecodeError, GoneError, NotFoundError, ServerError, WatchFrameTooLargeError
from dynaclient.request import Response
from dynaclient.watch.events import (
    MAX_FRAME_BYTES,
    WatchDecoder,
    WatchEvent,
    WatchEventType,
    decode_watch_events,
    iter_watch_events,
)

_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
_OBJECTS = st.builds(
    lambda rv, extra: {"metadata": {"resourceVersion": rv, "name": "ü-\n-😀"}, "spec": extra},
    st.integers(min_value=1).map(str),
    st.dictionaries(st.text(max_size=5), _JSON_VALUES, max_size=3),
)
_EVENTS = st.builds(WatchEvent, st.sampled_from(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]), _OBJECTS)

_BAD_STRUCTURED_FRAMES = [
    b'{"type":"UPDATED","object":{}}',
    b'{"type":"added","object":{}}',
    b'{"type":null,"object":{}}',
    b'{"object":{}}',
    b'{"type":"ADDED"}',
    b'{"type":"ADDED","object":null}',
    b'{"type":"ADDED","object":[]}',
    b'{"type":"ERROR","object":"gone"}',
    b"[1,2]",
    b'"ADDED"',
    b"42",
    b"null",
]


def _is_valid_frame(line: bytes) -> bool:
    try:
        decoded = json.loads(line)
    except ValueError:
        return False
    return (
        isinstance(decoded, dict)
        and decoded.get("type") in get_args(WatchEventType)
        and isinstance(decoded.get("object"), dict)
    )


_GARBAGE = st.one_of(
    st.sampled_from(_BAD_STRUCTURED_FRAMES),
    st.binary(min_size=1, max_size=40).filter(lambda b: b"\n" not in b and bool(b.strip()) and not _is_valid_frame(b)),
)


def _cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(data)) for cut in cuts})
    return [data[start:end] for start, end in zip([0, *points], [*points, len(data)], strict=True)]


def _collect(events: Iterable[WatchEvent], seen: list[WatchEvent]) -> None:
    for event in events:
        seen.append(event)


def test_watch_event_exposes_the_resource_version() -> None:
    assert WatchEvent("MODIFIED", {"metadata": {"resourceVersion": "12"}}).resource_version == "12"
    assert WatchEvent("ERROR", {"kind": "Status", "code": 500}).resource_version == ""


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        ({"kind": "Status", "code": 410, "reason": "Expired", "message": "too old resource version"}, GoneError),
        ({"kind": "Status", "code": 500, "reason": "Expired", "message": "too old"}, GoneError),
        ({"kind": "Status", "code": 404, "reason": "NotFound"}, NotFoundError),
        ({"kind": "Status", "reason": "InternalError"}, ServerError),
    ],
    ids=["gone-410", "expired-as-500-before-1.18", "not-found", "no-code"],
)
def test_error_events_raise_the_typed_api_error(status: JSONObject, error_type: type[APIError]) -> None:
    event = WatchEvent("ERROR", status)
    with pytest.raises(error_type) as info:
        event.raise_for_error()
    assert info.value.status is status
    with pytest.raises(error_type):
        list(decode_watch_events([WatchEvent("ADDED", {}).encode(), event.encode()]))


@pytest.mark.parametrize("event_type", ["ADDED", "MODIFIED", "DELETED", "BOOKMARK"])
def test_non_error_events_do_not_raise(event_type: WatchEventType) -> None:
    WatchEvent(event_type, {"code": 410, "reason": "Expired"}).raise_for_error()


def test_encode_writes_one_compact_newline_terminated_frame() -> None:
    frame = WatchEvent("DELETED", {"metadata": {"name": "a"}}).encode()
    assert frame == b'{"type":"DELETED","object":{"metadata":{"name":"a"}}}\n'


def test_decoder_joins_frames_split_across_chunks_and_splits_many_per_chunk() -> None:
    decoder = WatchDecoder()
    first, second, third = (WatchEvent("ADDED", {"metadata": {"resourceVersion": str(n)}}) for n in (1, 2, 3))
    stream = first.encode() + second.encode() + third.encode()
    assert decoder.feed(stream[:5]) == []
    assert decoder.feed(b"") == []
    assert decoder.feed(stream[5:-10]) == [first, second]
    assert decoder.feed(stream[-10:]) == [third]
    assert decoder.close() == []
    assert not decoder.truncated


def test_decoder_skips_blank_lines_and_accepts_crlf_and_a_last_frame_without_newline() -> None:
    decoder = WatchDecoder()
    events = decoder.feed(b'\n  \n{"type":"ADDED","object":{}}\r\n\n{"type":"DELETED","object":{}}')
    assert events == [WatchEvent("ADDED", {})]
    assert decoder.close() == [WatchEvent("DELETED", {})]


def test_close_drops_a_frame_cut_short_by_the_end_of_the_stream() -> None:
    decoder = WatchDecoder()
    event = WatchEvent("ADDED", {"metadata": {"resourceVersion": "5"}})
    assert decoder.feed(event.encode() + event.encode()[:20]) == [event]
    assert decoder.close() == []
    assert decoder.truncated


@pytest.mark.parametrize("rest", [b"garbage", b'{"type":"NOPE","object":{}}'], ids=["not-json", "bad-type"])
def test_close_raises_for_a_complete_but_invalid_last_frame(rest: bytes) -> None:
    decoder = WatchDecoder()
    decoder.feed(rest)
    with pytest.raises(DecodeError, match="watch frame 1"):
        decoder.close()


@pytest.mark.parametrize("frame", _BAD_STRUCTURED_FRAMES, ids=lambda frame: frame.decode())
def test_invalid_frames_raise_a_decode_error_naming_the_frame(frame: bytes) -> None:
    with pytest.raises(DecodeError, match=r"^watch frame 2 ") as info:
        list(decode_watch_events([WatchEvent("ADDED", {}).encode().strip(), frame]))
    assert isinstance(info.value, ValueError)


def test_decode_errors_show_only_the_start_of_a_long_frame() -> None:
    frame = b"not json " + b"s3cr3t" * 1000
    with pytest.raises(DecodeError) as info:
        list(decode_watch_events([frame]))
    message = str(info.value)
    assert message.startswith("watch frame 1 is not JSON: b'not json s3cr3t")
    assert f"({len(frame)} bytes)" in message
    assert len(message) < 150


def test_a_broken_decoder_returns_earlier_events_then_keeps_raising() -> None:
    decoder = WatchDecoder()
    good = WatchEvent("ADDED", {})
    assert decoder.feed(good.encode() + b"{oops\n" + good.encode()) == [good]
    for _ in range(2):
        with pytest.raises(DecodeError, match="watch frame 2 is not JSON"):
            decoder.feed(good.encode())
    with pytest.raises(DecodeError, match="watch frame 2"):
        decoder.close()


def test_iter_watch_events_reads_a_response_body() -> None:
    events = [WatchEvent("ADDED", {"metadata": {"resourceVersion": "1"}}), WatchEvent("BOOKMARK", {})]
    body = b"".join(event.encode() for event in events)
    closed: list[bool] = []
    response = Response(200, {}, [body[:7], body[7:]], close=lambda: closed.append(True))
    assert list(iter_watch_events(response.iter_chunks())) == events
    assert closed == [True]


def test_iter_watch_events_stops_at_an_error_frame() -> None:
    seen: list[WatchEvent] = []
    added = WatchEvent("ADDED", {})
    gone = WatchEvent("ERROR", {"kind": "Status", "code": 410, "reason": "Gone"})
    with pytest.raises(GoneError):
        _collect(iter_watch_events([added.encode() + gone.encode() + added.encode()]), seen)
    assert seen == [added]


@given(events=st.lists(_EVENTS, max_size=8), cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=12))
def test_any_chunking_of_a_stream_reproduces_exactly_its_events(events: list[WatchEvent], cuts: list[int]) -> None:
    stream = b"".join(event.encode() for event in events)
    assert list(iter_watch_events(_cut(stream, cuts))) == events


@given(events=st.lists(_EVENTS, max_size=6), data=st.data())
def test_decode_watch_events_over_response_lines_reproduces_the_events(
    events: list[WatchEvent], data: st.DataObject
) -> None:
    stream = b"".join(event.encode() for event in events)
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=8))
    lines = Response(200, {}, _cut(stream, cuts)).iter_lines()
    assert list(decode_watch_events(lines)) == events


@given(
    before=st.lists(_EVENTS, max_size=4),
    garbage=_GARBAGE,
    after=st.lists(_EVENTS, max_size=3),
    cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=10),
)
def test_garbage_raises_decode_error_after_exactly_the_events_before_it(
    before: list[WatchEvent], garbage: bytes, after: list[WatchEvent], cuts: list[int]
) -> None:
    stream = b"".join(event.encode() for event in before) + garbage + b"\n"
    stream += b"".join(event.encode() for event in after)
    seen: list[WatchEvent] = []
    with pytest.raises(DecodeError, match=rf"^watch frame {len(before) + 1} "):
        _collect(iter_watch_events(_cut(stream, cuts)), seen)
    assert seen == before


def test_watch_event_is_an_immutable_value() -> None:
    event = WatchEvent("ADDED", {"a": 1})
    attribute: Any = "type"
    with pytest.raises(AttributeError):
        setattr(event, attribute, "DELETED")
    assert event == WatchEvent("ADDED", {"a": 1})


def test_a_frame_without_newline_past_the_cap_raises_a_typed_error_and_keeps_no_more_bytes() -> None:
    decoder = WatchDecoder(max_frame_bytes=1024)
    first = decoder.feed(b'{"type":"ADDED","object":{}}\n{"type":"ADDED","object":{"data":"')
    assert [event.type for event in first] == ["ADDED"]
    decoder.feed(b"x" * 900)
    with pytest.raises(WatchFrameTooLargeError, match="watch frame 2 is longer than the 1024-byte cap") as raised:
        decoder.feed(b"x" * 200)
    assert raised.value.limit == 1024
    assert not decoder._parts  # memory released at once
    with pytest.raises(WatchFrameTooLargeError):  # the stream is unusable: never a silent end
        decoder.close()


def test_a_complete_frame_past_the_cap_raises_after_the_events_before_it() -> None:
    decoder = WatchDecoder(max_frame_bytes=64)
    big = b'{"type":"ADDED","object":{"data":"' + b"x" * 100 + b'"}}'
    events = decoder.feed(b'{"type":"DELETED","object":{}}\n' + big + b"\n")
    assert [event.type for event in events] == ["DELETED"]
    with pytest.raises(WatchFrameTooLargeError):
        decoder.feed(b"")


def test_the_default_cap_is_client_gos_16_mib_and_a_frame_at_the_cap_passes() -> None:
    assert MAX_FRAME_BYTES == 16 * 1024 * 1024
    head, tail = b'{"type":"ADDED","object":{"data":"', b'"}}'
    frame = head + b"x" * (MAX_FRAME_BYTES - len(head) - len(tail)) + tail
    decoder = WatchDecoder()
    assert decoder.feed(frame[: MAX_FRAME_BYTES // 2]) == []
    assert len(decoder.feed(frame[MAX_FRAME_BYTES // 2 :] + b"\n")) == 1
    with pytest.raises(WatchFrameTooLargeError):
        list(iter_watch_events([frame, b"y"]))
