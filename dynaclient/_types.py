"""Type aliases shared by every dynaclient module."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

JSONObject = dict[str, Any]
"""A Kubernetes object, list or Status as decoded JSON: plain dicts, lists, strings, numbers, bools, None."""

# ObjectT: the type of the objects a resource client returns, a generated TypedDict (dynaclient.types.core.v1.Pod)
# or, by default, JSONObject. It only informs the type checker: the objects are the same plain dicts either way.
if TYPE_CHECKING:
    # The default (PEP 696) keeps unparameterised uses (`ResourceClient`) meaning `ResourceClient[JSONObject]`.
    # typing.TypeVar takes `default=` from Python 3.13 only; type checkers read typing_extensions' (a mypy
    # dependency), while at run time the TypeVar needs no default, so no run-time dependency is added.
    from typing_extensions import TypeVar

    ObjectT = TypeVar("ObjectT", bound=Mapping[str, Any], default=JSONObject)
else:
    from typing import TypeVar

    ObjectT = TypeVar("ObjectT", bound=Mapping[str, Any])

__all__ = ["JSONObject", "ObjectT"]
