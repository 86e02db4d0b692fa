from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from dynaclient.exceptions import ContinueTokenLoopError, GoneError
from dynaclient.resources.listing import EncodedPage, ObjectList, TokenCallback, ignore_token, peek_continue_token
from dynaclient.resources.options import ListOptions


def body(names: list[str], token: str = "", **extra: Any) -> bytes:
    metadata = {"resourceVersion": "1", **({"continue": token} if token else {})}
    items = [{"metadata": {"name": name}} for name in names]
    return json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": metadata, "items": items, **extra}).encode()


class Pages:
    """Serves page bodies by continue token and records which tokens were asked for, from any thread."""

    def __init__(self, pages: dict[str | None, bytes]) -> None:
        self.pages = pages
        self.asked: list[str | None] = []
        self.lock = threading.Lock()
        self.asked_for: dict[str | None, threading.Event] = {token: threading.Event() for token in pages}

    def __call__(self, options: ListOptions, on_token: TokenCallback = ignore_token) -> EncodedPage:
        with self.lock:
            self.asked.append(options.continue_token)
        self.asked_for[options.continue_token].set()
        page = self.pages[options.continue_token]
        if page == b"gone":
            raise GoneError({"reason": "Expired", "message": "continue token expired"}, code=410)
        return EncodedPage(page)


def test_the_next_page_is_requested_before_the_current_page_is_consumed() -> None:
    pages = Pages({None: body(["a", "b"], token="t"), "t": body(["c"])})
    names = iter(ObjectList(pages, ListOptions(limit=2)))
    assert next(names)["metadata"]["name"] == "a"
    assert pages.asked_for["t"].wait(10), "page 2 was not requested while page 1 was being read"
    assert [obj["metadata"]["name"] for obj in names] == ["b", "c"]
    assert pages.asked == [None, "t"]


def test_the_next_page_is_requested_as_soon_as_the_current_pages_head_names_it() -> None:
    # The server prepares page 2 while page 1 still arrives: page 1's fetch waits until page 2 was asked for.
    pages = Pages({None: body(["a"], token="t"), "t": body(["b"], token="u"), "u": body(["c"])})
    early: list[bool] = []

    def fetch(options: ListOptions, on_token: TokenCallback) -> EncodedPage:
        if options.continue_token is None:
            on_token("t")  # what the reader does once the body's first 16 KiB are in
            early.append(pages.asked_for["t"].wait(10))
        return pages(options, on_token)

    assert [obj["metadata"]["name"] for obj in ObjectList(fetch, ListOptions(limit=1))] == ["a", "b", "c"]
    assert early == [True]
    assert sorted(pages.asked, key=str) == [None, "t", "u"]  # each page once: the early start is not repeated


def test_without_prefetch_pages_are_requested_on_demand() -> None:
    pages = Pages({None: body(["a", "b"], token="t"), "t": body(["c"])})
    names = iter(ObjectList(pages, ListOptions(limit=2), prefetch=False))
    assert next(names)["metadata"]["name"] == "a"
    assert next(names)["metadata"]["name"] == "b"
    assert pages.asked == [None]
    assert next(names)["metadata"]["name"] == "c"
    assert pages.asked == [None, "t"]


def test_a_head_that_disagrees_with_the_decoded_page_is_not_trusted() -> None:
    # Duplicate keys: the head says "early", the decoded page (last key wins) says "late".
    misleading = body(["a"], token="early", metadata={"continue": "late"})
    pages = Pages({None: misleading, "early": body(["wrong"]), "late": body(["b"])})
    assert [obj["metadata"]["name"] for obj in ObjectList(pages, ListOptions(limit=1))] == ["a", "b"]
    assert pages.asked[0] is None
    assert "late" in pages.asked


def test_an_expired_prefetched_page_raises_where_it_is_reached() -> None:
    pages = Pages({None: body(["a"], token="t"), "t": b"gone"})
    names = iter(ObjectList(pages, ListOptions(limit=1)))
    assert next(names)["metadata"]["name"] == "a"
    with pytest.raises(GoneError):
        next(names)


def test_a_list_left_unfinished_does_not_wait_for_its_prefetch() -> None:
    release = threading.Event()
    pages = Pages({None: body(["a"], token="t"), "t": body(["b"])})

    def slow(options: ListOptions, on_token: TokenCallback) -> EncodedPage:
        if options.continue_token == "t":
            release.wait(10)
        return pages(options)

    names = ObjectList(slow, ListOptions(limit=1)).pages()
    assert next(names)["items"][0]["metadata"]["name"] == "a"
    names.close()  # returns at once although page 2 is still being fetched
    release.set()


def test_a_lists_pages_are_fetched_by_at_most_two_workers_which_end_with_the_list() -> None:
    tokens: list[str | None] = [None, *(f"t{n}" for n in range(1, 12)), None]
    pages = Pages({token: body([f"o{n}"], token=tokens[n + 1] or "") for n, token in enumerate(tokens[:-1])})
    fetchers: set[threading.Thread] = set()

    def fetch(options: ListOptions, on_token: TokenCallback) -> EncodedPage:
        fetchers.add(threading.current_thread())
        if options.continue_token is not None:  # the reader names the next page early, while this one arrives
            on_token(tokens[tokens.index(options.continue_token) + 1])
        return pages(options, on_token)

    names = [obj["metadata"]["name"] for obj in ObjectList(fetch, ListOptions(limit=1))]
    assert names == [f"o{n}" for n in range(12)]
    workers = fetchers - {threading.current_thread()}
    assert 1 <= len(workers) <= 2  # eleven pages fetched ahead, not eleven threads
    assert {worker.name for worker in workers} == {"dynaclient-list-page"}
    for worker in workers:
        worker.join(10)
        assert not worker.is_alive(), "a worker outlived its list"


@pytest.mark.parametrize(
    ("head", "token"),
    [
        (
            b'{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9","continue":"eyJ2Ijo"},"items":[',
            "eyJ2Ijo",
        ),
        (b'{\n  "apiVersion": "v1",\n  "kind": "PodList",\n  "metadata": {"continue": "x"}', "x"),
        (b'{"metadata":{"continue":"x"},"items":[]}', "x"),
        (b'{"kind":"PodList","metadata":{"continue":""},"items":[]}', None),
        (b'{"kind":"PodList","metadata":{"continue":5},"items":[]}', None),
        (b'{"kind":"PodList","items":[],"metadata":{"continue":"x"}}', "x"),
        (
            b'{"apiVersion":"x/v1","items":[{"metadata":{"continue":"no"}}],"kind":"XList","metadata":{"continue":"t"}}\n',
            "t",
        ),
        (b'{"kind":"PodList","items":[{"metadata":{"continue":"no"}}]}', None),
        (b'{"kind":"PodList","metadata":{"continue":"x"', None),
        (b"not json", None),
        (b"", None),
    ],
)
def test_peek_continue_token_reads_only_the_lists_own_metadata(head: bytes, token: str | None) -> None:
    assert peek_continue_token(head) == token


def test_a_2xx_status_saying_expired_restarts_the_list_when_asked() -> None:
    def expired_on_decode(_: bytes) -> dict[str, Any]:
        raise GoneError({"reason": "Expired", "message": "continue token expired"}, code=410)

    def fetch(options: ListOptions, on_token: TokenCallback) -> EncodedPage:
        if options.continue_token == "t":
            return EncodedPage(b'{"kind":"Status","code":410}', expired_on_decode)
        if options.limit == 0:
            return EncodedPage(body(["a", "b"]))
        return EncodedPage(body(["a"], token="t"))

    pods = ObjectList(fetch, ListOptions(limit=1), restart_on_expired=True)
    assert [obj["metadata"]["name"] for obj in pods] == ["a", "a", "b"]
    assert pods.restarted


def test_a_continue_token_that_comes_back_raises_instead_of_listing_for_ever() -> None:
    # Before: a server answering "continue: a" then "continue: b" then "a" again made the list yield for ever.
    pages = {None: "a", "a": "b", "b": "a"}
    fetched: list[str | None] = []

    def fetch(options: ListOptions, on_token: TokenCallback) -> EncodedPage:
        fetched.append(options.continue_token)
        body = {"kind": "PodList", "metadata": {"continue": pages[options.continue_token]}, "items": [{}]}
        return EncodedPage(json.dumps(body).encode())

    with pytest.raises(ContinueTokenLoopError, match=r"PodList.*after 3 pages"):
        list(ObjectList(fetch, ListOptions(), prefetch=False))
    assert fetched == [None, "a", "b"]
    with pytest.raises(ContinueTokenLoopError):
        list(ObjectList(fetch, ListOptions()))  # and with the page fetched ahead
