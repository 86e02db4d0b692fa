"""OpenAPI v3 documents: fetched from a server through an :class:`~dynaclient.APIClient`, or saved files.

``GET /openapi/v3`` answers a discovery document (kube-openapi ``pkg/handler3/handler.go``) mapping each key to
``{"serverRelativeURL": "/openapi/v3/<key>?hash=<H>"}``. Its keys are not only group-versions (``api``,
``apis/apps``, ``version``, ``logs``, ``openid/v1/jwks`` also appear); only ``api/v1`` and
``apis/<group>/<version>`` hold types, and each of those documents is self-contained (KEP-2896: "leaf node specs
... include all referenced types"). The hash is the SHA-512 of the served JSON, upper-case hex (``computeETag``),
so a document read is checked against it. The server-relative URL is requested as a path plus its ``hash`` query,
so a client whose server URL has a path prefix (behind a proxy) re-bases it, as client-go's
``openapi/groupversion.go`` does.

Saved files use the naming of kubernetes/kubernetes ``api/openapi-spec/v3/``: ``api__v1_openapi.json``,
``apis__apps__v1_openapi.json``; ``version.json`` holds the server's ``/version`` answer.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from dynaclient.client import APIClient, decode_json
from dynaclient.codegen.naming import is_builtin
from dynaclient.exceptions import DynaclientError
from dynaclient.request import Request

_GROUP_VERSION_KEY = re.compile(r"^(api/v1|apis/[^/]+/[^/]+)$")
_FILE_SUFFIX = "_openapi.json"
VERSION_FILE = "version.json"


class OpenAPIError(DynaclientError):
    """An OpenAPI document is missing, malformed, or does not match its hash; the message names it.

    Thread-safety: immutable once raised.
    """


@dataclass(frozen=True)
class OpenAPIDocument:
    """One group-version's OpenAPI v3 document.

    Attributes:
        key: the discovery key, ``api/v1`` or ``apis/<group>/<version>``.
        hash: the SHA-512 (upper-case hex) of the document's bytes as served, which the server publishes too.
        schemas: ``components.schemas``, by component name.

    Thread-safety: immutable (treat the schemas as read-only).
    """

    key: str
    hash: str
    schemas: Mapping[str, Any]

    @property
    def group_version(self) -> str:
        """The API group-version: ``v1`` for ``api/v1``, ``apps/v1`` for ``apis/apps/v1``.

        >>> OpenAPIDocument("apis/apps/v1", "", {}).group_version
        'apps/v1'
        """
        return "v1" if self.key == "api/v1" else self.key.removeprefix("apis/")


@dataclass(frozen=True)
class OpenAPISource:
    """The documents types are generated from, and the server version they came from.

    Attributes:
        server_version: the server's ``gitVersion`` (``v1.34.4``), or ``unknown``.
        documents: the group-version documents, sorted by key.
        raw: each document's bytes as served, by key (kept to save them).

    Thread-safety: immutable.
    """

    server_version: str
    documents: tuple[OpenAPIDocument, ...]
    raw: Mapping[str, bytes] = field(default_factory=dict, repr=False)

    def select(self, group_versions: Iterable[str]) -> OpenAPISource:
        """Return only the documents of ``group_versions`` (``v1``, ``apps/v1``, ...).

        Raises:
            OpenAPIError: a group-version has no document.
        """
        keys = set(_keys_of([document.key for document in self.documents], group_versions))
        return self._only(document for document in self.documents if document.key in keys)

    def builtin(self) -> OpenAPISource:
        """Return only the documents of built-in group-versions (those without custom resource components).

        >>> crd = OpenAPIDocument("apis/example.org/v1", "", {"org.example.v1.Widget": {}})
        >>> [d.key for d in OpenAPISource("v1.34.4", (OpenAPIDocument("api/v1", "", {}), crd)).builtin().documents]
        ['api/v1']
        """
        return self._only(document for document in self.documents if all(map(is_builtin, document.schemas)))

    def _only(self, documents: Iterable[OpenAPIDocument]) -> OpenAPISource:
        kept = tuple(documents)
        raw = {document.key: self.raw[document.key] for document in kept if document.key in self.raw}
        return OpenAPISource(self.server_version, kept, raw)

    def save(self, directory: str | Path) -> None:
        """Write every document's bytes as served, and ``version.json``, into ``directory``."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        (path / VERSION_FILE).write_text(json.dumps({"gitVersion": self.server_version}) + "\n")
        for key, body in sorted(self.raw.items()):
            (path / (key.replace("/", "__") + _FILE_SUFFIX)).write_bytes(body)


def fetch_source(api_client: APIClient, group_versions: Iterable[str] | None = None) -> OpenAPISource:
    """Fetch the server's version and the group-version documents of ``/openapi/v3`` (all, or ``group_versions``).

    Raises:
        APIError: the server refused a request (404 on ``/openapi/v3``: a server older than 1.27 without v3).
        OpenAPIError: a group-version asked for is not served, a document is not an OpenAPI v3 document, or its
            bytes do not match the hash it is listed with.
    """
    version = api_client.request("GET", "/version").get("gitVersion", "unknown")
    discovery = api_client.request("GET", "/openapi/v3")
    paths = discovery.get("paths")
    if not isinstance(paths, dict):
        raise OpenAPIError("GET /openapi/v3: the answer has no 'paths' map")
    keys = sorted(key for key in paths if _GROUP_VERSION_KEY.match(key))
    if group_versions is not None:
        keys = _keys_of(keys, group_versions)
    documents = []
    raw = {}
    for key in keys:
        url = urlsplit(str(paths[key].get("serverRelativeURL", f"/openapi/v3/{key}")))
        request = Request("GET", url.path, query=tuple(parse_qsl(url.query)))
        body = api_client.send(request).read()
        document = parse_document(key, body, what=f"GET {url.path}")
        expected = dict(parse_qsl(url.query)).get("hash")
        if expected is not None and expected.upper() != document.hash:
            raise OpenAPIError(f"GET {url.path}: the body's SHA-512 is not the hash {expected} it is listed with")
        documents.append(document)
        raw[key] = body
    return OpenAPISource(str(version), tuple(documents), raw)


def _keys_of(keys: list[str], group_versions: Iterable[str]) -> list[str]:
    """The discovery keys of ``group_versions``; raise naming those not served.

    >>> _keys_of(["api/v1", "apis/apps/v1"], ["apps/v1"])
    ['apis/apps/v1']
    """
    wanted = {"api/v1" if gv == "v1" else f"apis/{gv}" for gv in group_versions}
    missing = wanted - set(keys)
    if missing:
        served = ", ".join(OpenAPIDocument(key, "", {}).group_version for key in keys)
        names = ", ".join(sorted(OpenAPIDocument(key, "", {}).group_version for key in missing))
        raise OpenAPIError(f"no OpenAPI v3 document for {names}; served: {served}")
    return [key for key in keys if key in wanted]


def load_source(directory: str | Path) -> OpenAPISource:
    """Read saved documents (``api__v1_openapi.json``, ``apis__<group>__<version>_openapi.json``) and ``version.json``.

    Files of other keys (``apis__apps_openapi.json``, ``version_openapi.json``) are ignored.

    Raises:
        OpenAPIError: the directory holds no group-version document, or a document is malformed.
    """
    path = Path(directory)
    documents = []
    raw = {}
    for file in sorted(path.glob(f"*{_FILE_SUFFIX}")):
        key = file.name.removesuffix(_FILE_SUFFIX).replace("__", "/")
        if not _GROUP_VERSION_KEY.match(key):
            continue
        body = file.read_bytes()
        documents.append(parse_document(key, body, what=str(file)))
        raw[key] = body
    if not documents:
        raise OpenAPIError(f"{path}: no OpenAPI v3 group-version document (*{_FILE_SUFFIX})")
    version_file = path / VERSION_FILE
    version = "unknown"
    if version_file.is_file():
        version = str(_json_object(version_file.read_bytes(), what=str(version_file)).get("gitVersion", "unknown"))
    return OpenAPISource(version, tuple(documents), raw)


def parse_document(key: str, body: bytes, *, what: str) -> OpenAPIDocument:
    """Parse one group-version document; ``what`` names it in errors.

    Raises:
        OpenAPIError: the body is not JSON, not OpenAPI 3, or has no ``components.schemas`` map.

    >>> parse_document("api/v1", b'{"openapi": "3.0.0", "components": {"schemas": {}}}', what="x").hash[:8]
    '9C84CB1E'
    """
    document = _json_object(body, what=what)
    if not str(document.get("openapi", "")).startswith("3."):
        raise OpenAPIError(f"{what}: not an OpenAPI 3 document (openapi: {document.get('openapi')!r})")
    schemas = document.get("components", {}).get("schemas", {})
    if not isinstance(schemas, dict):
        raise OpenAPIError(f"{what}: components.schemas is not a map")
    return OpenAPIDocument(key, hashlib.sha512(body).hexdigest().upper(), schemas)


def _json_object(body: bytes, *, what: str) -> dict[str, Any]:
    try:
        return decode_json(body, what=what)
    except DynaclientError as exc:
        raise OpenAPIError(str(exc)) from exc


__all__ = ["OpenAPIDocument", "OpenAPIError", "OpenAPISource", "fetch_source", "load_source", "parse_document"]
