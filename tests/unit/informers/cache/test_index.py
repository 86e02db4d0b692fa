from __future__ import annotations

from typing import Any

import pytest

from dynaclient import JSONObject
from informers import IndexConflictError, IndexNotFoundError, label_index, labels_index, namespace_index
from informers.cache.index import Indices


def pod(name: str, namespace: str = "default", **labels: str) -> JSONObject:
    return {"metadata": {"name": name, "namespace": namespace, "labels": labels}}


@pytest.mark.parametrize(
    ("obj", "values"),
    [
        (pod("a", "prod"), ["prod"]),
        ({"metadata": {"name": "node-1"}}, [""]),
        ({"metadata": {"name": "x", "namespace": 5}}, []),
        ({"kind": "Pod"}, [""]),
    ],
    ids=["namespaced", "cluster-scoped-under-empty", "bad-namespace-type", "no-metadata"],
)
def test_namespace_index_follows_meta_namespace_index_func(obj: JSONObject, values: list[str]) -> None:
    assert namespace_index(obj) == values


@pytest.mark.parametrize(
    ("obj", "values"),
    [
        (pod("a", app="web"), ["web"]),
        (pod("a", app=""), [""]),
        (pod("a", tier="db"), []),
        ({"metadata": {"name": "a", "labels": None}}, []),
        ({"metadata": {"name": "a", "labels": {"app": 1}}}, []),
    ],
    ids=["has-label", "empty-value-is-indexed", "other-label", "null-labels", "non-string-value"],
)
def test_label_index_indexes_only_objects_carrying_the_label(obj: JSONObject, values: list[str]) -> None:
    assert label_index("app")(obj) == values


def test_label_index_function_is_named_after_its_label_for_debugging() -> None:
    assert label_index("app").__name__ == "label_index('app')"


def test_labels_index_gives_every_label_as_sorted_key_value_pairs() -> None:
    assert labels_index(pod("a", tier="db", app="web")) == ["app=web", "tier=db"]
    assert labels_index({"metadata": {"name": "a"}}) == []


def multi(obj: JSONObject) -> list[str]:
    values: list[str] = obj["metadata"].get("annotations", {}).get("users", "").split(",")
    return [value for value in values if value]


def users(name: str, value: str) -> JSONObject:
    return {"metadata": {"name": name, "annotations": {"users": value}}}


def build(*objs: JSONObject) -> Indices:
    return Indices.build({"by_user": multi}, [(obj["metadata"]["name"], obj) for obj in objs])


def test_an_object_with_several_values_is_found_under_each() -> None:
    indices = build(users("a", "ernie,bert"), users("b", "bert"))
    assert indices.keys("by_user", "bert") == {"a", "b"}
    assert indices.keys("by_user", "ernie") == {"a"}
    assert indices.values("by_user") == ["bert", "ernie"]


def test_values_whose_last_key_leaves_are_removed_from_the_index() -> None:
    indices = build(users("a", "ernie,bert"), users("b", "bert"))
    indices.assign("a", indices.compute("a", users("a", "oscar")))
    indices.assign("b", {})
    assert indices.values("by_user") == ["oscar"]
    assert indices.keys("by_user", "bert") == set()


def test_duplicate_values_from_an_index_function_count_once() -> None:
    indices = build(users("a", "bert,bert"))
    indices.assign("a", {})
    assert indices.values("by_user") == []


def test_unknown_index_names_raise_a_lookup_error_naming_the_index() -> None:
    indices = build()
    with pytest.raises(IndexNotFoundError, match="index with name 'nope' does not exist"):
        indices.keys("nope", "x")
    with pytest.raises(LookupError):
        indices.values("nope")


@pytest.mark.parametrize(
    ("result", "message"),
    [("web", "got a str"), (None, "got a NoneType"), ([1], "got a int value")],
    ids=["single-string", "none", "non-string-value"],
)
def test_index_functions_returning_the_wrong_type_fail_naming_index_and_key(result: Any, message: str) -> None:
    indices = Indices({"broken": lambda obj: result})
    with pytest.raises(TypeError, match=message) as caught:
        indices.compute("default/web", pod("web"))
    assert caught.value.__notes__ == ["while computing index 'broken' for key 'default/web'"]


def test_absorbing_an_index_that_exists_raises_a_conflict() -> None:
    indices = build()
    with pytest.raises(IndexConflictError, match=r"indices \['by_user'\] already exist"):
        indices.absorb(build())


def test_neighbours_with_the_same_values_share_them_and_absorbing_an_index_keeps_them_apart() -> None:
    indices = Indices.build({"namespace": namespace_index}, [("a", pod("a", app="web")), ("b", pod("b", app="db"))])
    indices.absorb(Indices.build({"app": label_index("app")}, [("a", pod("a", app="web")), ("b", pod("b", app="db"))]))

    indices.assign("a", {})

    assert (indices.keys("app", "web"), indices.keys("app", "db")) == (set(), {"b"})
    assert indices.keys("namespace", "default") == {"b"}
