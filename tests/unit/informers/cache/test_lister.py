from __future__ import annotations

import logging

import pytest

from dynaclient import GroupResource, NotFoundError, SelectorError
from informers import NAMESPACE_INDEX, Lister, Store, namespace_index
from informers.testing import make_object


def names(objects: list[dict[str, object]]) -> list[str]:
    return [obj["metadata"]["name"] for obj in objects]  # type: ignore[index]


@pytest.fixture
def store() -> Store:
    store = Store({NAMESPACE_INDEX: namespace_index})
    for name, namespace, labels in [
        ("web", "prod", {"app": "web", "tier": "front"}),
        ("db", "prod", {"app": "db"}),
        ("web", "dev", {"app": "web"}),
        ("node-1", "", {"role": "worker"}),
    ]:
        store.add(make_object(name, namespace, "1", labels))
    return store


def test_get_finds_a_namespaced_object_and_a_cluster_scoped_one(store: Store) -> None:
    lister = Lister(store)
    assert lister.get("web", namespace="dev") is store.get_by_key("dev/web")
    assert lister.get("node-1") is store.get_by_key("node-1")
    assert lister.get("node-1", namespace="") is store.get_by_key("node-1")


@pytest.mark.parametrize(
    ("resource", "message", "group"),
    [
        (GroupResource("apps", "deployments"), 'deployments.apps "api" not found', "apps"),
        (GroupResource("", "pods"), 'pods "api" not found', ""),
        ("widgets", 'widgets "api" not found', ""),
        ("", '"api" not found', ""),
    ],
    ids=["grouped", "core", "plain-name", "unnamed"],
)
def test_a_missing_object_raises_not_found_with_a_server_like_status(
    store: Store, resource: GroupResource | str, message: str, group: str
) -> None:
    with pytest.raises(NotFoundError) as caught:
        Lister(store, resource).get("api", namespace="prod")
    error = caught.value
    assert (error.code, error.reason, error.message) == (404, "NotFound", message)
    assert error.details["name"] == "api"
    assert error.details["group"] == group
    assert isinstance(error, LookupError)


@pytest.mark.parametrize(
    ("namespace", "selector", "expected"),
    [
        (None, None, ["web", "node-1", "db", "web"]),
        ("", "", ["web", "node-1", "db", "web"]),
        ("prod", None, ["db", "web"]),
        ("prod", "app=web", ["web"]),
        (None, "app=web", ["web", "web"]),
        (None, {"app": ["web", "db"], "tier": "front"}, ["web"]),
        (None, "app notin (web)", ["node-1", "db"]),
        ("staging", None, []),
    ],
    ids=["all", "empty", "namespace", "namespace-and-labels", "labels", "mapping", "notin", "unknown-namespace"],
)
def test_list_filters_by_namespace_and_label_selector_in_key_order(
    store: Store, namespace: str | None, selector: str | dict[str, object] | None, expected: list[str]
) -> None:
    assert names(Lister(store).list(namespace, selector)) == expected


def test_list_scans_with_a_warning_when_the_store_has_no_namespace_index(caplog: pytest.LogCaptureFixture) -> None:
    store = Store()
    store.add(make_object("a", "prod"))
    store.add(make_object("b", "dev"))
    with caplog.at_level(logging.WARNING, logger="informers.lister"):
        assert names(Lister(store, "pods").list("prod")) == ["a"]
    assert "has no 'namespace' index: listing namespace 'prod' scans every object" in caplog.text


def test_an_invalid_selector_is_a_selector_error(store: Store) -> None:
    with pytest.raises(SelectorError):
        Lister(store).list(label_selector="app in (web")


def test_the_repr_names_the_resource_and_counts_the_cache(store: Store) -> None:
    assert repr(Lister(store, GroupResource("apps", "deployments"))) == "<Lister deployments.apps (4 cached)>"
