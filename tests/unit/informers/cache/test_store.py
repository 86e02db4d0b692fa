from __future__ import annotations

import threading
from typing import Any

import pytest

from dynaclient import JSONObject
from informers import (
    NAMESPACE_INDEX,
    DeletedFinalStateUnknown,
    IndexConflictError,
    IndexNotFoundError,
    KeyFuncError,
    MutationDetectedError,
    ReplaceDiff,
    Store,
    StoreReader,
    label_index,
    namespace_index,
)


def pod(name: str, namespace: str = "default", rv: str = "1", **labels: str) -> JSONObject:
    return {"metadata": {"name": name, "namespace": namespace, "resourceVersion": rv, "labels": labels}}


def indexed_store(**kwargs: Any) -> Store:
    return Store({NAMESPACE_INDEX: namespace_index, "app": label_index("app")}, **kwargs)


def test_add_returns_none_for_a_new_key_and_the_previous_object_for_an_existing_one() -> None:
    store = Store()
    first, second = pod("web", rv="1"), pod("web", rv="2")
    assert store.add(first) is None
    assert store.update(second) is first
    assert store.get_by_key("default/web") is second


def test_get_finds_the_cached_object_from_a_metadata_only_object() -> None:
    store = Store()
    web = pod("web")
    store.add(web)
    assert store.get({"metadata": {"name": "web", "namespace": "default"}}) is web
    assert store.get({"metadata": {"name": "web", "namespace": "other"}}) is None


def test_list_and_list_keys_are_sorted_by_key_whatever_the_insertion_order() -> None:
    store = Store()
    for name, namespace in [("b", "x"), ("a", "y"), ("c", "x"), ("node", "")]:
        store.add(pod(name, namespace))
    assert store.list_keys() == ["node", "x/b", "x/c", "y/a"]
    assert [meta["metadata"]["name"] for meta in store.list()] == ["node", "b", "c", "a"]
    assert len(store) == 4
    assert "x/b" in store
    assert "x/z" not in store


def test_delete_returns_the_removed_object_and_accepts_a_tombstone() -> None:
    store = indexed_store()
    web, db = pod("web", app="web"), pod("db")
    store.add(web)
    store.add(db)
    assert store.delete(pod("web")) is web
    assert store.delete(DeletedFinalStateUnknown("default/db", db)) is db
    assert store.delete(pod("web")) is None
    assert store.list() == []
    assert store.list_index_values(NAMESPACE_INDEX) == []
    assert store.list_index_values("app") == []


def test_writes_reject_objects_without_a_key() -> None:
    store = Store()
    with pytest.raises(KeyFuncError):
        store.add({"kind": "Pod"})


def test_by_index_returns_matching_objects_sorted_by_key() -> None:
    store = indexed_store()
    objs = [pod("c", app="web"), pod("a", app="web"), pod("b", app="db"), pod("d", "prod", app="web")]
    for obj in objs:
        store.add(obj)
    assert store.by_index("app", "web") == [objs[1], objs[0], objs[3]]
    assert store.index_keys("app", "web") == ["default/a", "default/c", "prod/d"]
    assert store.index_keys(NAMESPACE_INDEX, "prod") == ["prod/d"]
    assert store.list_index_values("app") == ["db", "web"]
    assert store.by_index("app", "nothing") == []


def test_an_update_moves_the_object_between_index_values() -> None:
    store = indexed_store()
    store.add(pod("a", app="web"))
    store.update(pod("a", rv="2", app="db"))
    assert store.index_keys("app", "web") == []
    assert store.index_keys("app", "db") == ["default/a"]
    assert store.list_index_values("app") == ["db"]


@pytest.mark.parametrize(
    "query",
    [
        lambda store: store.by_index("missing", "x"),
        lambda store: store.index_keys("missing", "x"),
        lambda store: store.list_index_values("missing"),
    ],
    ids=["by_index", "index_keys", "list_index_values"],
)
def test_queries_on_an_unknown_index_raise_index_not_found(query: Any) -> None:
    with pytest.raises(IndexNotFoundError, match="'missing'"):
        query(indexed_store())


def test_resource_version_follows_writes_replaces_and_bookmarks() -> None:
    store = Store()
    assert store.resource_version == ""
    store.add(pod("a", rv="5"))
    assert store.resource_version == "5"
    store.delete({"metadata": {"name": "a", "namespace": "default", "resourceVersion": "6"}})
    assert store.resource_version == "6"
    store.delete(DeletedFinalStateUnknown("default/zzz", {}))
    assert store.resource_version == "6"
    store.replace({}, "10")
    assert store.resource_version == "10"
    store.update_resource_version("12")
    assert store.resource_version == "12"


def test_replace_reports_added_updated_deleted_and_unchanged_objects() -> None:
    store = indexed_store()
    kept, changed, gone = pod("kept", rv="1"), pod("changed", rv="1"), pod("gone", rv="1")
    for obj in (kept, changed, gone):
        store.add(obj)
    kept_again, changed_new, new = pod("kept", rv="1"), pod("changed", rv="2"), pod("new", rv="3")
    items = {"default/new": new, "default/kept": kept_again, "default/changed": changed_new}

    diff = store.replace(items, "3")

    assert diff == ReplaceDiff(
        added=(("default/new", new),),
        updated=(("default/changed", changed, changed_new),),
        deleted=(("default/gone", gone),),
        unchanged=(("default/kept", kept, kept_again),),
    )
    assert store.list_keys() == ["default/changed", "default/kept", "default/new"]
    assert store.get_by_key("default/kept") is kept_again


def test_replace_of_an_empty_store_adds_every_item_in_list_order_and_indexes_them() -> None:
    store = indexed_store()
    b, a, c = pod("b", app="web"), pod("a", "prod", app="db"), pod("c", app="web")
    items = {"default/b": b, "prod/a": a, "default/c": c}

    diff = store.replace(items, "9")

    assert diff == ReplaceDiff(added=(("default/b", b), ("prod/a", a), ("default/c", c)))
    assert store.list() == [b, c, a]
    assert store.resource_version == "9"
    assert store.index_keys("app", "web") == ["default/b", "default/c"]
    assert store.index_keys(NAMESPACE_INDEX, "prod") == ["prod/a"]
    # A second replace of the now full store diffs against it.
    assert store.replace({"default/b": b}, "10") == ReplaceDiff(
        deleted=(("default/c", c), ("prod/a", a)), unchanged=(("default/b", b, b),)
    )


def test_replace_compares_contents_when_objects_have_no_resource_version() -> None:
    store = Store()
    store.add({"metadata": {"name": "a"}, "spec": 1})
    store.add({"metadata": {"name": "b"}, "spec": 1})
    diff = store.replace({"a": {"metadata": {"name": "a"}, "spec": 1}, "b": {"metadata": {"name": "b"}, "spec": 2}}, "")
    assert [key for key, *_ in diff.unchanged] == ["a"]
    assert [key for key, *_ in diff.updated] == ["b"]


def test_replace_rebuilds_every_index() -> None:
    store = indexed_store()
    store.add(pod("old", app="web"))
    store.replace({"prod/new": pod("new", "prod", app="db")}, "2")
    assert store.list_index_values("app") == ["db"]
    assert store.list_index_values(NAMESPACE_INDEX) == ["prod"]


def test_diff_repr_gives_counts_and_never_object_contents() -> None:
    diff = Store().replace({"s": {"metadata": {"name": "s"}, "data": {"token": "hunter2"}}}, "1")
    assert repr(diff) == "ReplaceDiff(added=1, updated=0, deleted=0, unchanged=0)"


def test_store_repr_gives_sizes_and_never_object_contents() -> None:
    store = indexed_store()
    store.add({"metadata": {"name": "s", "resourceVersion": "4"}, "data": {"token": "hunter2"}})
    assert repr(store) == "Store(items=1, indices=['app', 'namespace'], resource_version='4')"


def test_add_indexers_indexes_the_objects_already_cached() -> None:
    store = Store()
    store.add(pod("a", app="web"))
    store.add_indexers({"app": label_index("app")})
    store.add(pod("b", app="web"))
    assert store.index_keys("app", "web") == ["default/a", "default/b"]
    assert sorted(store.indexers) == ["app"]


def test_add_indexers_with_an_existing_name_raises_and_adds_nothing() -> None:
    store = indexed_store()
    store.add(pod("a", app="web"))
    with pytest.raises(IndexConflictError, match="'app'"):
        store.add_indexers({"app": label_index("app"), "tier": label_index("tier")})
    assert sorted(store.indexers) == ["app", "namespace"]
    with pytest.raises(IndexNotFoundError):
        store.list_index_values("tier")


def picky(obj: JSONObject) -> list[str]:
    if obj["metadata"]["name"] == "bad":
        raise RuntimeError("cannot index this one")
    return ["ok"]


@pytest.mark.parametrize(
    "write",
    [
        lambda store: store.add(pod("bad", rv="2")),
        lambda store: store.replace({"default/z": pod("z", rv="3"), "default/bad": pod("bad", rv="3")}, "3"),
    ],
    ids=["add", "replace"],
)
def test_a_failing_index_function_leaves_the_store_unchanged(write: Any) -> None:
    store = Store({"picky": picky})
    store.add(pod("a", rv="1"))
    with pytest.raises(RuntimeError, match="cannot index") as caught:
        write(store)
    assert caught.value.__notes__ == ["while computing index 'picky' for key 'default/bad'"]
    assert store.list_keys() == ["default/a"]
    assert store.index_keys("picky", "ok") == ["default/a"]
    assert store.resource_version == "1"


def test_add_indexers_with_a_failing_function_adds_no_index() -> None:
    store = Store()
    store.add(pod("bad"))
    with pytest.raises(RuntimeError, match="cannot index"):
        store.add_indexers({"app": label_index("app"), "picky": picky})
    assert store.indexers == {}


# -- mutation detection -------------------------------------------------------------------------------------------


def test_check_mutations_names_the_objects_modified_after_they_were_handed_out() -> None:
    store = Store(detect_mutation=True)
    store.replace({"default/a": pod("a"), "default/b": pod("b"), "default/c": pod("c")}, "1")
    store.get_by_key("default/c")["metadata"]["labels"]["x"] = "y"  # type: ignore[index]
    store.get_by_key("default/a")["spec"] = {}  # type: ignore[index]
    with pytest.raises(MutationDetectedError, match="'default/a', 'default/c'") as caught:
        store.check_mutations()
    assert caught.value.keys == ["default/a", "default/c"]


def test_mutation_detection_tells_true_from_one() -> None:
    store = Store(detect_mutation=True)
    store.add({"metadata": {"name": "a"}, "spec": {"paused": True}})
    store.get_by_key("a")["spec"]["paused"] = 1  # type: ignore[index]
    with pytest.raises(MutationDetectedError):
        store.check_mutations()


@pytest.mark.parametrize(
    ("write", "keys_after"),
    [
        (lambda store: store.update(pod("a", rv="2")), ["default/a"]),
        (lambda store: store.delete(pod("a")), []),
        (lambda store: store.replace({"default/b": pod("b")}, "2"), ["default/b"]),
    ],
    ids=["update", "delete", "replace"],
)
def test_a_write_over_a_modified_object_is_applied_then_raises(write: Any, keys_after: list[str]) -> None:
    store = Store(detect_mutation=True)
    store.add(pod("a"))
    store.list()[0]["metadata"]["labels"]["x"] = "y"
    with pytest.raises(MutationDetectedError, match="'default/a'"):
        write(store)
    assert store.list_keys() == keys_after
    store.check_mutations()  # the write replaced the records: nothing else is reported


def test_objects_modified_and_restored_are_not_reported() -> None:
    store = Store(detect_mutation=True)
    store.add(pod("a", app="web"))
    store.update(pod("a", rv="2", app="db"))
    store.delete(pod("a"))
    store.check_mutations()
    assert store.detects_mutation


def test_mutation_detection_is_off_by_default_and_costs_nothing() -> None:
    store = Store()
    store.add(pod("a"))
    store.list()[0]["spec"] = {}
    store.check_mutations()
    store.update(pod("a", rv="2"))
    assert not store.detects_mutation


@pytest.mark.parametrize(("value", "enabled"), [("1", True), ("true", True), ("0", False), ("", False)])
def test_the_environment_variable_turns_mutation_detection_on(
    monkeypatch: pytest.MonkeyPatch, value: str, enabled: bool
) -> None:
    monkeypatch.setenv("DYNACLIENT_DETECT_MUTATION", value)
    assert Store().detects_mutation is enabled
    assert Store(detect_mutation=False).detects_mutation is False


def test_mutation_errors_never_quote_object_contents() -> None:
    store = Store(detect_mutation=True)
    store.add({"metadata": {"name": "creds"}, "data": {"token": "c2VjcmV0"}})
    store.get_by_key("creds")["data"]["token"] = "aHVudGVyMg=="  # type: ignore[index]
    with pytest.raises(MutationDetectedError) as caught:
        store.check_mutations()
    assert "c2VjcmV0" not in str(caught.value)
    assert "aHVudGVyMg" not in str(caught.value)


# -- concurrency --------------------------------------------------------------------------------------------------


def generation(number: int, size: int = 200) -> dict[str, JSONObject]:
    objs = [pod(f"pod-{number}-{i}", f"ns-{i % 7}", rv=str(number), gen=str(number)) for i in range(size)]
    return {f"ns-{i % 7}/pod-{number}-{i}": obj for i, obj in enumerate(objs)}


def test_readers_see_all_of_one_relist_or_all_of_the_other_never_a_mix() -> None:
    store = Store({"gen": label_index("gen"), NAMESPACE_INDEX: namespace_index})
    generations = [generation(0), generation(1)]
    store.replace(generations[0], "0")
    stop = threading.Event()
    failures: list[str] = []
    reads: list[int] = []

    def read() -> None:
        while not stop.is_set():
            reads.append(1)
            objs = store.list()
            gens = {obj["metadata"]["labels"]["gen"] for obj in objs}
            if len(gens) != 1 or len(objs) != 200:
                failures.append(f"list saw generations {sorted(gens)} and {len(objs)} objects")
            values = store.list_index_values("gen")
            if len(values) != 1 or len(store.index_keys("gen", values[0])) not in (0, 200):
                failures.append(f"index saw generations {values}")

    readers = [threading.Thread(target=read, name=f"reader-{i}") for i in range(3)]
    for reader in readers:
        reader.start()
    try:
        for round_number in range(1, 60):
            diff = store.replace(generations[round_number % 2], str(round_number))
            assert (len(diff.added), len(diff.deleted)) == (200, 200)
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=10)
    assert failures == []
    assert reads
    assert not any(reader.is_alive() for reader in readers)


def test_concurrent_writers_keep_the_indices_consistent() -> None:
    store = indexed_store()

    def write(worker: int) -> None:
        for i in range(300):
            obj = pod(f"p{i % 20}", f"ns{worker}", rv=str(i), app=f"app{i % 3}")
            if i % 5 == 4:
                store.delete(obj)
            else:
                store.add(obj)

    writers = [threading.Thread(target=write, args=(worker,), name=f"writer-{worker}") for worker in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=10)
    by_app = {value: store.index_keys("app", value) for value in store.list_index_values("app")}
    expected: dict[str, list[str]] = {}
    for key in store.list_keys():
        expected.setdefault(store.get_by_key(key)["metadata"]["labels"]["app"], []).append(key)  # type: ignore[index]
    assert by_app == expected


def test_the_store_satisfies_the_reader_protocol() -> None:
    reader: StoreReader = Store()
    assert reader.list() == []
