"""AsyncObjectList fetches ahead: the next page is requested once the current page's head names its token."""

from __future__ import annotations

import asyncio
import json

from dynaclient.aio.listing import AsyncObjectList, TokenCallback
from dynaclient.resources.listing import EncodedPage, FetchedPage
from dynaclient.resources.options import ListOptions

PAGES = 4


class FakeServer:
    """Serves PAGES pages of one item; each body ends only when the test releases it."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.release = {str(index): asyncio.Event() for index in range(PAGES)}

    async def fetch(self, options: ListOptions, on_token: TokenCallback) -> FetchedPage:
        index = int(options.continue_token or "0")
        following = str(index + 1) if index + 1 < PAGES else ""
        self.started.append(str(index))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            on_token(following or None)  # the head is in
            await self.release[str(index)].wait()  # the rest of the body
        finally:
            self.in_flight -= 1
        self.finished.append(str(index))
        body = {"kind": "L", "apiVersion": "v1", "metadata": {"continue": following}, "items": [{"n": index}]}
        return EncodedPage(json.dumps(body).encode())


def test_the_next_page_is_requested_while_the_current_body_arrives() -> None:
    async def scenario() -> tuple[FakeServer, list[int]]:
        server = FakeServer()
        for event in server.release.values():
            event.set()  # bodies end at once: the order of starts is what is checked
        listing: AsyncObjectList[dict[str, int]] = AsyncObjectList(server.fetch, ListOptions(limit=1))
        return server, [item["n"] async for item in listing]

    server, items = asyncio.run(scenario())
    assert items == list(range(PAGES))
    assert server.started == [str(index) for index in range(PAGES)]
    assert server.most_in_flight <= 2, "at most one page ahead of the one being read"


def test_page_two_starts_before_page_one_ends_and_an_abandoned_list_leaves_no_fetch_running() -> None:
    async def scenario() -> FakeServer:
        server = FakeServer()
        listing: AsyncObjectList[dict[str, int]] = AsyncObjectList(server.fetch, ListOptions(limit=1))
        pages = listing.pages()
        first = asyncio.ensure_future(anext(pages))
        for _ in range(20):  # each turn of the loop runs the fetches until they wait (no clock involved)
            if "1" in server.started:
                break
            await asyncio.sleep(0)
        assert server.started == ["0", "1"], "page 1 is requested while page 0's body arrives"
        assert server.finished == []
        server.release["0"].set()
        assert [item["n"] for item in (await first)["items"]] == [0]
        assert server.started == ["0", "1"], "no second page ahead while page 1 is not taken"
        await pages.aclose()
        assert server.in_flight == 0, "closing the list cancels the page fetched ahead"
        return server

    asyncio.run(scenario())


def test_without_prefetch_pages_are_fetched_one_after_the_other() -> None:
    async def scenario() -> FakeServer:
        server = FakeServer()
        for event in server.release.values():
            event.set()
        listing: AsyncObjectList[dict[str, int]] = AsyncObjectList(server.fetch, ListOptions(limit=1), prefetch=False)
        assert [item["n"] async for item in listing] == list(range(PAGES))
        return server

    assert asyncio.run(scenario()).most_in_flight == 1
