from __future__ import annotations

import json
import threading

from dynaclient import APIClient, APIResource, DynamicClient, GroupVersionKind, GroupVersionResource, Request, Response
from dynaclient.transport import BaseTransport
from informers import ResourceListWatch

CONFIGMAPS = APIResource("", "v1", "configmaps", "ConfigMap", namespaced=True)


class Pages(BaseTransport):
    """Answers list requests by their query string; records them in order (requests come from two threads)."""

    name = "pages"

    def __init__(self, answers: dict[str, tuple[list[str], str]]) -> None:
        self.answers = answers
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def send(self, request: Request) -> Response:
        query = request.url_path.partition("?")[2]
        with self.lock:
            self.sent.append(query)
        names, token = self.answers[query]
        metadata = {"resourceVersion": "7", **({"continue": token} if token else {})}
        items = [{"metadata": {"name": name}} for name in names]
        body = {"kind": "ConfigMapList", "apiVersion": "v1", "metadata": metadata, "items": items}
        return Response.from_bytes(200, json.dumps(body, separators=(",", ":")).encode())

    def close(self) -> None:
        pass


class Mapper:
    def resource_for(self, resource: str | GroupVersionResource | GroupVersionKind) -> APIResource:
        return CONFIGMAPS


def list_watch(transport: Pages) -> ResourceListWatch:
    client = DynamicClient(APIClient(transport), Mapper())
    return ResourceListWatch(client.resource("configmaps").namespace("ns"), label_selector="app=web")


def page(lw: ResourceListWatch, token: str | None, rv: str | None = None) -> tuple[list[str], str]:
    listed = lw.list_page(limit=2, continue_token=token, resource_version=rv, resource_version_match=None)
    assert listed.resource_version == "7"
    return [item["metadata"]["name"] for item in listed.items], listed.continue_token


ANSWERS = {
    "labelSelector=app%3Dweb&limit=2&resourceVersion=5": (["a", "b"], "t1"),
    "continue=t1&labelSelector=app%3Dweb&limit=2": (["c", "d"], "t2"),
    "continue=t2&labelSelector=app%3Dweb&limit=2": (["e"], ""),
}


def test_the_pages_of_one_list_are_read_ahead_and_handed_out_in_order() -> None:
    transport = Pages(ANSWERS)
    lw = list_watch(transport)
    assert page(lw, None, rv="5") == (["a", "b"], "t1")
    assert page(lw, "t1") == (["c", "d"], "t2")
    assert page(lw, "t2") == (["e"], "")
    assert transport.sent == list(ANSWERS)


def test_a_continue_token_it_is_not_reading_ahead_is_fetched_on_its_own() -> None:
    transport = Pages(ANSWERS)
    lw = list_watch(transport)
    assert page(lw, "t2") == (["e"], "")
    assert transport.sent == ["continue=t2&labelSelector=app%3Dweb&limit=2"]


def test_a_fresh_list_drops_the_pages_read_ahead() -> None:
    transport = Pages(ANSWERS)
    lw = list_watch(transport)
    assert page(lw, None, rv="5") == (["a", "b"], "t1")
    assert page(lw, None, rv="5") == (["a", "b"], "t1")  # a relist from the start, as after an error
    assert page(lw, "t1") == (["c", "d"], "t2")
    assert transport.sent.count("labelSelector=app%3Dweb&limit=2&resourceVersion=5") == 2
