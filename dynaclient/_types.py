"""Type aliases shared by every dynaclient module."""

from __future__ import annotations

from typing import Any

JSONObject = dict[str, Any]
"""A Kubernetes object, list or Status as decoded JSON: plain dicts, lists, strings, numbers, bools, None."""

__all__ = ["JSONObject"]
