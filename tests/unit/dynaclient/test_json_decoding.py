from __future__ import annotations

import gc
import json
import math
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynaclient import _json_decoding
from dynaclient._json_decoding import FAST_MAX_BYTES, LARGE_BODY_BYTES, collection_paused, loads

_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


@pytest.fixture
def collector_enabled() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def _rejecting(data: bytes | memoryview) -> Any:
    raise ValueError("the fast decoder gives up")


@given(_JSON_VALUES)
def test_orjson_and_the_stdlib_decode_every_document_to_the_same_values(value: Any) -> None:
    import orjson

    data = json.dumps(value).encode()

    assert loads(data, fast=orjson.loads) == loads(data, fast=None) == json.loads(data)


@pytest.mark.parametrize(
    ("document", "check"),
    [
        (b"[NaN]", lambda value: math.isnan(value[0])),
        (b"[1e400]", lambda value: math.isinf(value[0])),
        (b'["\\ud800"]', lambda value: value == ["\ud800"]),
        (b'\xef\xbb\xbf{"a": 1}', lambda value: value == {"a": 1}),
    ],
    ids=["nan", "infinity", "lone-surrogate", "byte-order-mark"],
)
def test_a_document_the_fast_decoder_rejects_is_decoded_by_the_stdlib(
    document: bytes, check: Callable[[Any], bool]
) -> None:
    assert check(loads(document, fast=_rejecting))


def test_orjson_decodes_an_integer_beyond_64_bits_to_a_float_of_the_same_value() -> None:
    import orjson

    decoded = loads(b"[18446744073709551616]", fast=orjson.loads)

    assert (decoded, type(decoded[0])) == ([2**64], float)


def test_the_fast_decoder_answers_when_it_can() -> None:
    assert loads(b"{}", fast=lambda data: "fast") == "fast"


def test_a_body_above_the_fast_decoders_limit_goes_to_the_stdlib() -> None:
    body = b"[" + b" " * FAST_MAX_BYTES + b"1]"

    assert loads(body, fast=lambda data: "fast") == [1]


@pytest.mark.parametrize("fast", [None, _rejecting], ids=["stdlib", "fast-rejects"])
def test_a_document_that_is_not_json_raises_the_stdlib_error(fast: Callable[[bytes | memoryview], Any] | None) -> None:
    with pytest.raises(json.JSONDecodeError, match="Expecting value"):
        loads(b"<html>", fast=fast)


def test_a_large_body_is_decoded_with_the_collector_paused_and_it_is_resumed_after(collector_enabled: None) -> None:
    states: list[bool] = []

    def spying(data: bytes | memoryview) -> Any:
        states.append(gc.isenabled())
        return json.loads(bytes(data))

    loads(b"[" + b" " * LARGE_BODY_BYTES + b"1]", fast=spying)
    loads(b"[1]", fast=spying)

    assert states == [False, True]
    assert gc.isenabled()


def test_the_collector_is_resumed_when_decoding_fails(collector_enabled: None) -> None:
    with pytest.raises(ValueError, match="Expecting value"):
        loads(b"<" * LARGE_BODY_BYTES, fast=None)

    assert gc.isenabled()


def test_overlapping_pauses_resume_the_collector_only_when_the_last_one_ends(collector_enabled: None) -> None:
    first, second = collection_paused(), collection_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    during = gc.isenabled()
    second.__exit__(None, None, None)

    assert (during, gc.isenabled()) == (False, True)


def test_a_collector_the_application_disabled_stays_disabled() -> None:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        if was_enabled:
            gc.enable()


def _large_list(count: int = 2000) -> bytes:
    body = json.dumps([{"metadata": {"name": f"o{index}", "labels": {"a": "b"}}} for index in range(count)])
    assert len(body) >= LARGE_BODY_BYTES
    return body.encode()


def test_what_a_large_decode_allocated_goes_to_the_oldest_generation_without_a_walk(collector_enabled: None) -> None:
    decoded = loads(_large_list(), fast=None)

    assert any(obj is decoded for obj in gc.get_objects(generation=2))
    assert not any(obj is decoded for obj in gc.get_objects(generation=0))


@pytest.mark.parametrize("case", ["promotion off", "objects frozen by the process", "collector disabled"])
def test_nothing_is_promoted_when_promotion_is_off_or_would_undo_the_process_own_choice(
    case: str, collector_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
    if case == "promotion off":
        monkeypatch.setattr(_json_decoding, "_PROMOTE", False)
    elif case == "objects frozen by the process":
        monkeypatch.setattr(gc, "get_freeze_count", lambda: 12)
    else:
        gc.disable()
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))

    loads(_large_list(), fast=None)
    with collection_paused(promote=True):
        pass

    assert calls == ([] if case != "promotion off" else ["freeze", "unfreeze"])


def test_a_finalizer_run_by_the_young_collection_may_decode_a_large_body(collector_enabled: None) -> None:
    decoded: list[Any] = []

    class Cyclic:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:  # run by the pause's first collection, while the pause is being entered
            decoded.append(loads(_large_list(), fast=None))

    def decode() -> None:
        body = _large_list()
        Cyclic()  # young garbage, until the pause's collection finds it
        decoded.append(loads(body, fast=None))

    worker = threading.Thread(target=decode, daemon=True)
    worker.start()
    worker.join(timeout=30)

    assert not worker.is_alive(), "the pause's lock was held while the collection ran a finalizer"
    assert len(decoded) == 2


def test_the_environment_can_force_the_stdlib_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_json_decoding.DECODER_ENV, "json")

    assert _json_decoding._fast_loads() is None
