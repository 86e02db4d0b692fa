from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from dynaclient import JSONObject
from informers import LABELS_INDEX, NAMESPACE_INDEX, Store, label_index, labels_index, namespace_index
from informers.cache.index import IndexFunc

INDEXERS: dict[str, IndexFunc] = {
    NAMESPACE_INDEX: namespace_index,
    "app": label_index("app"),
    LABELS_INDEX: labels_index,
}

namespaces = st.sampled_from(["", "default", "prod", "kube-system"])
names = st.sampled_from(["a", "b", "c", "web", "db"])
label_sets = st.dictionaries(
    st.sampled_from(["app", "tier", "env"]), st.sampled_from(["", "web", "db", "x"]), max_size=3
)


@st.composite
def objects(draw: st.DrawFn) -> JSONObject:
    metadata: JSONObject = {"name": draw(names), "labels": draw(label_sets)}
    namespace = draw(namespaces)
    if namespace:
        metadata["namespace"] = namespace
    metadata["resourceVersion"] = str(draw(st.integers(1, 5)))
    return {"metadata": metadata}


def key_of(obj: JSONObject) -> str:
    metadata = obj["metadata"]
    return f"{metadata['namespace']}/{metadata['name']}" if metadata.get("namespace") else str(metadata["name"])


class StoreMachine(RuleBasedStateMachine):
    """Random writes keep the store equal to a plain dict model, and every index equal to a recomputation."""

    def __init__(self) -> None:
        super().__init__()
        self.store = Store(INDEXERS, detect_mutation=True)
        self.model: dict[str, JSONObject] = {}

    @rule(obj=objects())
    def add(self, obj: JSONObject) -> None:
        previous = self.store.add(obj)
        assert previous is self.model.get(key_of(obj))
        self.model[key_of(obj)] = obj

    @rule(obj=objects())
    def delete(self, obj: JSONObject) -> None:
        previous = self.store.delete(obj)
        assert previous is self.model.pop(key_of(obj), None)

    @rule(objs=st.lists(objects(), max_size=8), version=st.integers(0, 99))
    def replace(self, objs: list[JSONObject], version: int) -> None:
        items = {key_of(obj): obj for obj in objs}
        diff = self.store.replace(items, str(version))
        assert {key for key, _ in diff.added} == items.keys() - self.model.keys()
        assert {key: old for key, old in diff.deleted} == {k: v for k, v in self.model.items() if k not in items}
        order = list(items)
        for pairs in (diff.added, diff.updated, diff.unchanged):
            keys = [pair[0] for pair in pairs]
            assert keys == sorted(keys, key=order.index)
        assert {key for key, *_ in diff.updated + diff.unchanged} == items.keys() & self.model.keys()
        for key, old, new in diff.updated + diff.unchanged:
            assert old is self.model[key]
            assert new is items[key]
        self.model = items
        assert self.store.resource_version == str(version)

    @precondition(lambda self: "extra" not in self.store.indexers)
    @rule()
    def add_indexer(self) -> None:
        self.store.add_indexers({"extra": label_index("tier")})

    @invariant()
    def items_match_the_model_in_key_order(self) -> None:
        assert self.store.list_keys() == sorted(self.model)
        assert self.store.list() == [self.model[key] for key in sorted(self.model)]
        assert len(self.store) == len(self.model)

    @invariant()
    def every_index_equals_a_recomputation_from_the_items(self) -> None:
        for name, func in self.store.indexers.items():
            expected: dict[str, set[str]] = {}
            for key, obj in self.model.items():
                for value in func(obj):
                    expected.setdefault(value, set()).add(key)
            assert self.store.list_index_values(name) == sorted(expected)
            for value, keys in expected.items():
                assert self.store.index_keys(name, value) == sorted(keys)
                assert self.store.by_index(name, value) == [self.model[key] for key in sorted(keys)]

    @invariant()
    def no_stored_object_was_modified(self) -> None:
        self.store.check_mutations()


StoreMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
test_store_matches_a_model_under_random_writes = StoreMachine.TestCase
