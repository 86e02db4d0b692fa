"""Typed reads from one mapping of a kubeconfig file, with errors that name the file and the key path."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from dynaclient.exceptions import KubeconfigError


def describe(value: object) -> str:
    """Name the YAML type of ``value`` for an error message, never the value itself (it may be a secret).

    >>> describe([1]), describe("x"), describe(None)
    ('a list', 'a string', 'null')
    """
    if value is None:
        return "null"
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }
    return names.get(type(value), f"a {type(value).__name__}")


class Fields:
    """One mapping of a kubeconfig, read field by field with type checks.

    An absent key and an empty string both read as ``None`` (clientcmd treats them alike). Integers and
    booleans are accepted where a string is expected, as sigs.k8s.io/yaml converts them for string fields.

    Thread-safety: confined to the loading thread.
    """

    def __init__(self, data: object, *, path: str, key: str) -> None:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise KubeconfigError(f"expected a mapping, got {describe(data)}", path=path, key=key or None)
        self._data: dict[Any, Any] = data
        self.path = path
        self.key = key

    def key_of(self, name: str) -> str:
        """Return the full key path of field ``name``."""
        return f"{self.key}.{name}" if self.key else name

    def error(self, name: str, message: str) -> KubeconfigError:
        """Build the error for field ``name`` (not raised)."""
        return KubeconfigError(message, path=self.path, key=self.key_of(name))

    def has(self, name: str) -> bool:
        """Whether field ``name`` is present and not null."""
        return self._data.get(name) is not None

    def raw(self, name: str) -> Any:
        """Return field ``name`` unchecked."""
        return self._data.get(name)

    def string(self, name: str) -> str | None:
        """Return string field ``name``, or ``None`` when absent or empty."""
        value = self._data.get(name)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if value is None or isinstance(value, str):
            return value or None
        raise self.error(name, f"expected a string, got {describe(value)}")

    def boolean(self, name: str) -> bool:
        """Return boolean field ``name``; absent reads as ``False``."""
        value = self._data.get(name)
        if value is None or isinstance(value, bool):
            return bool(value)
        raise self.error(name, f"expected true or false, got {describe(value)}")

    def base64(self, name: str) -> bytes | None:
        """Return the bytes of base64 field ``name`` (line breaks allowed, as Go's decoder skips them)."""
        text = self.string(name)
        if text is None:
            return None
        try:
            return base64.b64decode(text.replace("\n", "").replace("\r", ""), validate=True)
        except (binascii.Error, ValueError):
            raise self.error(name, "not valid base64") from None

    def strings(self, name: str) -> tuple[str, ...]:
        """Return list-of-strings field ``name``; absent reads as empty."""
        values = self.sequence(name)
        for index, value in enumerate(values):
            if not isinstance(value, str):
                raise self.error(f"{name}[{index}]", f"expected a string, got {describe(value)}")
        return tuple(values)

    def string_map(self, name: str) -> dict[str, str]:
        """Return mapping-of-strings field ``name``; absent reads as empty."""
        child = self.child(name)
        return {str(key): value for key in child.names() if (value := child.string(str(key))) is not None}

    def sequence(self, name: str) -> list[Any]:
        """Return list field ``name``; absent reads as empty."""
        value = self._data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(name, f"expected a list, got {describe(value)}")
        return value

    def child(self, name: str) -> Fields:
        """Return mapping field ``name``; absent reads as an empty mapping."""
        return Fields(self._data.get(name), path=self.path, key=self.key_of(name))

    def children(self, name: str) -> list[Fields]:
        """Return list-of-mappings field ``name``, each item keyed ``name[index]``."""
        return [
            Fields(item, path=self.path, key=f"{self.key_of(name)}[{index}]")
            for index, item in enumerate(self.sequence(name))
        ]

    def names(self) -> list[Any]:
        """Return the keys of this mapping."""
        return list(self._data)


__all__ = ["Fields", "describe"]
