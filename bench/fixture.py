"""The objects under test: a fresh namespace holding N ConfigMaps with about 1 KiB of data and two labels each."""

from __future__ import annotations

import hashlib
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from bench.measure import json_size
from bench.target import RESOURCE, object_labels, object_name
from dynaclient import DynamicClient, JSONObject

PAYLOAD_BYTES = 1024
CREATE_WORKERS = 8


def payload(index: int) -> str:
    """Return about :data:`PAYLOAD_BYTES` of printable, object-specific data (hex digests, not one repeated byte).

    >>> len(payload(7)), payload(7) == payload(7), payload(7) == payload(8)
    (1024, True, False)
    """
    digest = hashlib.sha256(str(index).encode()).hexdigest()
    return (digest * (PAYLOAD_BYTES // len(digest) + 1))[:PAYLOAD_BYTES]


def configmap(index: int, group_count: int, *, small: bool = False) -> JSONObject:
    """Return fixture ConfigMap ``index`` (``small``: without the payload)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": object_name(index), "labels": object_labels(index, group_count)},
        "data": {"seq": "0"} if small else {"payload": payload(index), "seq": "0"},
    }


def create_fixture(
    client: DynamicClient,
    objects: int,
    group_count: int,
    prefix: str = "bench-",
    *,
    small: bool = False,
    workers: int = CREATE_WORKERS,
) -> tuple[str, int]:
    """Create a fresh namespace with ``objects`` ConfigMaps; return its name and the JSON bytes the server lists.

    Args:
        client: The client to create with.
        objects: How many ConfigMaps.
        group_count: Distinct values of the group label.
        prefix: Start of the namespace's name (a random suffix follows): ``bench-watch-`` for P3's copy.
        small: Create the ConfigMaps without their payload (the scale series' small objects).
        workers: Create requests in flight.

    Returns:
        The namespace and the compact JSON bytes of every object as listed (managedFields included).
    """
    namespace = f"{prefix}{uuid.uuid4().hex[:8]}"
    client.resource("namespaces").create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    configmaps = client.resource(RESOURCE).namespace(namespace)
    started = time.monotonic()
    with ThreadPoolExecutor(workers, thread_name_prefix="bench-create") as pool:
        created = pool.map(lambda i: configmaps.create(configmap(i, group_count, small=small)), range(objects))
        for done, _ in enumerate(created):
            if done and done % 10_000 == 0:
                print(f"bench: created {done}/{objects} objects", file=sys.stderr, flush=True)
    listed = list(configmaps.list())
    if len(listed) != objects:
        raise RuntimeError(f"fixture: listed {len(listed)} objects in {namespace}, created {objects}")
    elapsed = time.monotonic() - started
    print(f"bench: {objects} objects in {namespace} ({elapsed:.0f}s)", file=sys.stderr, flush=True)
    return namespace, json_size(listed)
