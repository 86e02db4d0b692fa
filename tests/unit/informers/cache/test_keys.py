from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from informers import DeletedFinalStateUnknown, KeyFuncError, meta_namespace_key, split_meta_namespace_key


@pytest.mark.parametrize(
    ("obj", "key"),
    [
        ({"metadata": {"namespace": "default", "name": "web"}}, "default/web"),
        ({"metadata": {"name": "node-1"}}, "node-1"),
        ({"metadata": {"namespace": "", "name": "node-1"}}, "node-1"),
        ({"metadata": {"namespace": None, "name": "node-1"}}, "node-1"),
        (DeletedFinalStateUnknown("prod/gone", {"metadata": {"name": "other"}}), "prod/gone"),
    ],
    ids=["namespaced", "cluster-scoped", "empty-namespace", "null-namespace", "tombstone-passes-its-key"],
)
def test_meta_namespace_key_builds_client_go_keys(obj: Any, key: str) -> None:
    assert meta_namespace_key(obj) == key


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (["not", "a", "dict"], "object has no metadata: cannot compute a key"),
        ({"kind": "Pod"}, "object has no metadata: cannot compute a key"),
        ({"metadata": "web"}, "object has no metadata: cannot compute a key"),
        ({"metadata": {"namespace": "default"}}, "object has no metadata.name"),
        ({"metadata": {"name": ""}}, "object has no metadata.name"),
        ({"metadata": {"name": 7}}, "no metadata.name (got int)"),
        ({"metadata": {"name": "web", "namespace": 3}}, "metadata.namespace of 'web' is a int"),
    ],
    ids=["not-a-dict", "no-metadata", "metadata-not-a-dict", "no-name", "empty-name", "name-not-str", "ns-not-str"],
)
def test_meta_namespace_key_rejects_objects_without_a_usable_key(obj: Any, message: str) -> None:
    with pytest.raises(KeyFuncError, match=re.escape(message)):
        meta_namespace_key(obj)


def test_key_errors_are_value_errors_so_generic_handlers_catch_them() -> None:
    with pytest.raises(ValueError, match="no metadata"):
        meta_namespace_key({})


@pytest.mark.parametrize(
    ("key", "parts"),
    [("default/web", ("default", "web")), ("node-1", ("", "node-1"))],
    ids=["namespaced", "cluster-scoped"],
)
def test_split_meta_namespace_key_returns_namespace_and_name(key: str, parts: tuple[str, str]) -> None:
    assert split_meta_namespace_key(key) == parts


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("a/b/c", "has more than one '/'"),
        ("", "has an empty namespace or name"),
        ("default/", "has an empty namespace or name"),
        ("/web", "has an empty namespace or name"),
    ],
    ids=["two-slashes", "empty", "empty-name", "empty-namespace"],
)
def test_split_meta_namespace_key_rejects_malformed_keys_naming_them(key: str, message: str) -> None:
    with pytest.raises(KeyFuncError, match=f"unexpected key format: {key!r} {message}"):
        split_meta_namespace_key(key)


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=20)


@given(namespace=st.one_of(st.just(""), names), name=names)
def test_every_key_made_from_an_object_splits_back_into_its_parts(namespace: str, name: str) -> None:
    key = meta_namespace_key({"metadata": {"namespace": namespace, "name": name}})
    assert split_meta_namespace_key(key) == (namespace, name)


def test_tombstone_repr_shows_the_key_but_never_the_object() -> None:
    tombstone = DeletedFinalStateUnknown("ns/creds", {"data": {"password": "hunter2"}})
    assert "hunter2" not in repr(tombstone)
    assert repr(tombstone) == "DeletedFinalStateUnknown(key='ns/creds')"
