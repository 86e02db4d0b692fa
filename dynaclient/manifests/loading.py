r"""Load Kubernetes objects from YAML or JSON: strings, files, directories; multi-document, ``List`` kinds.

Loading is pure parsing: it checks that each document is an object with ``apiVersion``, ``kind`` and
``metadata.name``, and nothing about the server. Every error is a :class:`~dynaclient.exceptions.ManifestError`
naming the source and the 1-based document index (and the line, for YAML syntax errors).

YAML is read as kubectl reads it (sigs.k8s.io/yaml): a duplicate key is an error, empty documents and comments
are skipped, and a timestamp stays a string (PyYAML would make it a ``datetime``, which is not JSON).

>>> [m.object["metadata"]["name"] for m in load_manifests('''
... # two documents and an empty one
... apiVersion: v1
... kind: ConfigMap
... metadata: {name: a}
... ---
... ---
... {"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "b"}}]}
... ''')]
['a', 'b']
>>> load_manifests("kind: ConfigMap\nmetadata: {name: a}", source="cm.yaml")
Traceback (most recent call last):
...
dynaclient.exceptions.ManifestError: cm.yaml document 1 (line 1): missing apiVersion
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dynaclient._types import JSONObject
from dynaclient.exceptions import ManifestError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
"""The files a directory contributes (kubectl ``-f DIR``)."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """One object and where it came from.

    Attributes:
        object: the object as written (a JSON-compatible dict).
        source: the file path, ``<string>`` or ``<stdin>``.
        document: the 1-based index of its YAML document in the source.
        line: the 1-based line where that document's content starts (0 when unknown).

    Thread-safety: immutable (the ``object`` dict is shared; treat it as read-only).
    """

    object: JSONObject
    source: str
    document: int
    line: int = 0

    def error(self, message: str) -> ManifestError:
        """Return a :class:`ManifestError` about this object, naming its source, document and line."""
        return ManifestError(message, source=self.source, document=self.document, line=self.line)

    @property
    def description(self) -> str:
        """``Kind namespace/name`` (or ``Kind name``), for messages."""
        metadata = self.object.get("metadata") or {}
        namespace = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
        return f"{self.object.get('kind')} {namespace}{metadata.get('name', '')}"


class _Loader(yaml.SafeLoader):
    """SafeLoader without timestamps, refusing duplicate keys (sigs.k8s.io/yaml strict decoding).

    Thread-safety: one loader per text, used by one thread.
    """

    yaml_implicit_resolvers = {  # noqa: RUF012 (PyYAML's own class attribute, replaced for this subclass)
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_manifests(text: str, *, source: str = "<string>") -> list[Manifest]:
    """Return the objects of a YAML or JSON text (several ``---`` documents; ``List`` kinds are expanded).

    Raises:
        ManifestError: a document does not parse, is not an object, or lacks ``apiVersion``, ``kind`` or
            ``metadata.name``.
    """
    manifests: list[Manifest] = []
    for document, line, data in _documents(text, source):
        if data is None:
            continue  # an empty document, or only comments
        manifests.extend(_objects(data, Manifest({}, source, document, line)))
    return manifests


def load_path(path: str | os.PathLike[str], *, recursive: bool = False) -> list[Manifest]:
    """Return the objects of a file, ``-`` (standard input), or a directory's ``.yaml``/``.yml``/``.json`` files.

    Directory files are read in name order; ``recursive`` descends into subdirectories (kubectl ``-R``).

    Raises:
        ManifestError: the path cannot be read, or a document is invalid (see :func:`load_manifests`).
    """
    if os.fspath(path) == "-":
        return load_manifests(sys.stdin.read(), source="<stdin>")
    root = Path(path)
    if root.is_dir():
        pattern = "**/*" if recursive else "*"
        files = sorted(p for p in root.glob(pattern) if p.is_file() and p.suffix in MANIFEST_SUFFIXES)
        return [manifest for file in files for manifest in load_path(file)]
    try:
        text = root.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read: {exc}", source=str(root)) from exc
    return load_manifests(text, source=str(root))


def load_paths(paths: list[str | os.PathLike[str]], *, recursive: bool = False) -> list[Manifest]:
    """Return the objects of several paths, in order (see :func:`load_path`)."""
    return [manifest for path in paths for manifest in load_path(path, recursive=recursive)]


def _documents(text: str, source: str) -> Iterator[tuple[int, int, Any]]:
    """Yield ``(document index, first line, data)``; a ``.json`` file is one JSON document."""
    if source.endswith(".json"):
        try:
            yield 1, 1, json.loads(text)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"invalid JSON: {exc.msg}", source=source, document=1, line=exc.lineno) from exc
        return
    loader = _Loader(text)
    document = 0
    try:
        while loader.check_node():
            document += 1
            node = loader.get_node()
            if node is not None:
                yield document, node.start_mark.line + 1, loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark is not None else 0
        raise ManifestError(f"invalid YAML: {problem}", source=source, document=max(document, 1), line=line) from exc
    finally:
        loader.dispose()


def _objects(data: Any, where: Manifest) -> Iterator[Manifest]:
    if not isinstance(data, dict):
        raise where.error(f"expected an object, got {type(data).__name__}")
    kind = data.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(data.get("items"), list):
        for index, item in enumerate(data["items"]):
            if not isinstance(item, dict):
                raise where.error(f"items[{index}]: expected an object, got {type(item).__name__}")
            yield _checked(Manifest(item, where.source, where.document, where.line), f"items[{index}]: ")
        return
    yield _checked(Manifest(data, where.source, where.document, where.line), "")


def _checked(manifest: Manifest, prefix: str) -> Manifest:
    obj = manifest.object
    for key in ("apiVersion", "kind"):
        if not isinstance(obj.get(key), str) or not obj[key]:
            raise manifest.error(f"{prefix}missing {key}")
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        raise manifest.error(f"{prefix}{obj['kind']}: missing metadata.name")
    return manifest


__all__ = ["MANIFEST_SUFFIXES", "Manifest", "load_manifests", "load_path", "load_paths"]
