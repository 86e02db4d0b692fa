"""Which replica owns a key: rendezvous (highest random weight) hashing over the live members.

Every replica computes the same owner from the same member list, with no coordination: the owner of a key is the
member whose hash of ``member + key`` is highest. Removing a member moves only its own keys (each to the member
that scored second); adding one moves to it only the keys it now wins, about ``1/N`` of them. Unlike a ring with
virtual nodes there is nothing to tune, and the spread is as even as the hash.

The key is the controller's ``namespace/name``: it is what the work queue holds, it is known for an object that is
already deleted, and the owned objects of a key map to the same key, so they land on the same replica.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable


@functools.lru_cache(maxsize=1 << 16)
def owner(key: str, members: tuple[str, ...]) -> str | None:
    """Return the member that owns ``key`` among ``members`` (``None`` when there are none).

    A stable hash (BLAKE2b, 64 bits), not Python's salted ``hash``: every process must agree.

    >>> owner("default/a", ("r1", "r2", "r3")) == owner("default/a", ("r3", "r1", "r2"))
    True
    >>> owner("default/a", ())
    """
    best: str | None = None
    best_score = -1
    for member in members:
        digest = hashlib.blake2b(f"{member}\0{key}".encode(), digest_size=8).digest()
        score = int.from_bytes(digest, "big")
        if score > best_score or (score == best_score and best is not None and member > best):
            best, best_score = member, score
    return best


def assign(keys: Iterable[str], members: Iterable[str]) -> dict[str, list[str]]:
    """Split ``keys`` between ``members``: each member's keys, in the order given.

    >>> split = assign([f"ns/k{i}" for i in range(300)], ["r1", "r2", "r3"])
    >>> sorted(split), sum(len(keys) for keys in split.values())
    (['r1', 'r2', 'r3'], 300)
    """
    view = tuple(sorted(set(members)))
    split: dict[str, list[str]] = {member: [] for member in view}
    for key in keys:
        member = owner(key, view)
        if member is not None:
            split[member].append(key)
    return split


__all__ = ["assign", "owner"]
