"""DynamicClient lists over a scripted transport: continue tokens, page size, expiry and restarts, decoding."""

from __future__ import annotations

import pytest

from dynaclient.exceptions import DecodeError, GoneError
from dynaclient.resources.listing import DEFAULT_PAGE_SIZE
from dynaclient.resources.requests import METADATA_LIST_ACCEPT
from tests.unit.dynaclient.resources.scripted_client import answer, client, expired, page


def test_list_follows_continue_tokens_and_drops_the_resource_version_on_later_pages() -> None:
    dyn, transport = client(
        ("GET", "/api/v1/namespaces/ns/pods?limit=2&resourceVersion=5", page(["a", "b"], token="t1")),
        ("GET", "/api/v1/namespaces/ns/pods?continue=t1&limit=2", page(["c", "d"], rv="11", token="t2")),
        ("GET", "/api/v1/namespaces/ns/pods?continue=t2&limit=2", page([], rv="12")),
    )
    pods = dyn.resource("pods").namespace("ns").list(limit=2, resource_version="5")
    assert [pod["metadata"]["name"] for pod in pods] == ["a", "b", "c", "d"]
    assert pods.resource_version == "10"
    assert transport.steps == []


def test_list_uses_client_go_page_size_by_default_and_fills_api_version_and_kind() -> None:
    body = {
        "kind": "DeploymentList",
        "apiVersion": "apps/v1",
        "metadata": {"resourceVersion": "3"},
        "items": [{"metadata": {"name": "a"}}, {"kind": "Other", "metadata": {"name": "b"}}],
    }
    dyn, _ = client(("GET", f"/apis/apps/v1/deployments?limit={DEFAULT_PAGE_SIZE}", answer(body)))
    items = list(dyn.resource("deployments").list())
    assert [(item.get("apiVersion"), item["kind"]) for item in items] == [("apps/v1", "Deployment"), (None, "Other")]


def test_list_resource_version_is_known_after_one_request_and_iteration_reuses_that_page() -> None:
    dyn, transport = client(
        ("GET", "/api/v1/pods?limit=1", page(["a"], rv="7", token="t")),
        ("GET", "/api/v1/pods?continue=t&limit=1", page(["b"], rv="8")),
    )
    pods = dyn.resource("pods").list(limit=1)
    assert transport.sent == []
    assert pods.resource_version == "7"
    assert len(transport.sent) == 1
    assert [pod["metadata"]["name"] for pod in pods] == ["a", "b"]
    assert pods.resource_version == "7"


def test_to_list_returns_one_list_with_the_first_page_metadata_and_every_item() -> None:
    dyn, _ = client(
        ("GET", "/api/v1/pods?limit=1", page(["a"], rv="7", token="t")),
        ("GET", "/api/v1/pods?continue=t&limit=1", page(["b"], rv="8")),
    )
    whole = dyn.resource("pods").list(limit=1).to_list()
    assert whole["kind"] == "PodList"
    assert whole["metadata"] == {"resourceVersion": "7"}
    assert [item["metadata"]["name"] for item in whole["items"]] == ["a", "b"]


def test_an_expired_continue_token_raises_gone_by_default() -> None:
    dyn, _ = client(
        ("GET", "/api/v1/pods?limit=1", page(["a"], token="t")),
        ("GET", "/api/v1/pods?continue=t&limit=1", expired()),
    )
    pods = iter(dyn.resource("pods").list(limit=1))
    assert next(pods)["metadata"]["name"] == "a"
    with pytest.raises(GoneError):
        next(pods)


def test_an_expired_continue_token_restarts_with_one_unpaged_list_when_asked() -> None:
    dyn, transport = client(
        ("GET", "/api/v1/pods?limit=1&resourceVersion=0", page(["a"], rv="7", token="t")),
        ("GET", "/api/v1/pods?continue=t&limit=1", expired()),
        ("GET", "/api/v1/pods?resourceVersion=0", page(["a", "b"], rv="9")),
    )
    pods = dyn.resource("pods").list(limit=1, resource_version="0", restart_on_expired=True)
    assert [pod["metadata"]["name"] for pod in pods] == ["a", "a", "b"]
    assert pods.restarted
    assert pods.resource_version == "9"
    assert transport.steps == []


def test_to_list_after_a_restart_holds_only_the_fresh_list() -> None:
    dyn, _ = client(
        ("GET", "/api/v1/pods?limit=1", page(["a"], rv="7", token="t")),
        ("GET", "/api/v1/pods?continue=t&limit=1", expired()),
        ("GET", "/api/v1/pods", page(["a", "b"], rv="9")),
    )
    whole = dyn.resource("pods").list(limit=1, restart_on_expired=True).to_list()
    assert [item["metadata"]["name"] for item in whole["items"]] == ["a", "b"]
    assert whole["metadata"]["resourceVersion"] == "9"


def test_an_expired_first_page_is_never_restarted() -> None:
    dyn, _ = client(("GET", "/api/v1/pods?limit=1&resourceVersion=3&resourceVersionMatch=Exact", expired()))
    pods = dyn.resource("pods").list(limit=1, resource_version="3", resource_version_match="Exact")
    with pytest.raises(GoneError):
        list(pods)


def test_a_list_is_iterated_once() -> None:
    dyn, _ = client(("GET", "/api/v1/pods?limit=500", page([])))
    pods = dyn.resource("pods").list()
    assert list(pods) == []
    with pytest.raises(RuntimeError, match="iterated once"):
        list(pods)


def test_a_list_whose_items_are_not_objects_is_a_decode_error() -> None:
    dyn, _ = client(("GET", "/api/v1/pods?limit=500", answer({"kind": "PodList", "items": ["x"]})))
    with pytest.raises(DecodeError, match="an item is not a JSON object"):
        list(dyn.resource("pods").list())


def test_a_null_items_list_reads_as_empty() -> None:
    dyn, _ = client(("GET", "/api/v1/pods?limit=500", answer({"kind": "PodList", "items": None})))
    assert dyn.resource("pods").list().to_list()["items"] == []


def test_metadata_only_list_asks_for_partial_object_metadata() -> None:
    dyn, transport = client(("GET", "/api/v1/pods?limit=500", page([], kind="PartialObjectMetadataList")))
    list(dyn.resource("pods").list(metadata_only=True))
    assert transport.sent[0].accept == METADATA_LIST_ACCEPT
