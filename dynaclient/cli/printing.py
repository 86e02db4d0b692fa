"""Print objects as kubectl does: ``-o json``, ``-o yaml``, ``-o name``, and the server's tables (default, wide)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

import yaml

from dynaclient._json_values import parse_time
from dynaclient._types import JSONObject
from dynaclient.discovery.discovery import APIResource
from dynaclient.objects import get_name, get_namespace

OUTPUTS = ("json", "yaml", "name", "wide")


def as_list(items: Iterable[JSONObject]) -> JSONObject:
    """Wrap objects in the ``List`` kubectl prints for several objects."""
    return {"apiVersion": "v1", "items": list(items), "kind": "List", "metadata": {"resourceVersion": ""}}


def to_json(obj: Any) -> str:
    """JSON as kubectl prints it: keys sorted (Go maps), four-space indentation."""
    return json.dumps(obj, indent=4, sort_keys=True, ensure_ascii=False)


def to_yaml(obj: Any) -> str:
    """YAML as kubectl prints it: keys sorted, block style, no line folding."""
    return yaml.safe_dump(obj, default_flow_style=False, sort_keys=True, allow_unicode=True, width=1 << 30)


def object_name(obj: JSONObject, resource: APIResource) -> str:
    """``kind.group/name`` (``deployment.apps/web``, ``configmap/settings``), as ``-o name`` prints it.

    >>> object_name({"metadata": {"name": "web"}}, APIResource("apps", "v1", "deployments", "Deployment", True))
    'deployment.apps/web'
    """
    group = f".{resource.group}" if resource.group else ""
    return f"{resource.kind.lower()}{group}/{get_name(obj)}"


def print_objects(
    out: TextIO,
    objects: Sequence[JSONObject],
    resource: APIResource,
    output: str,
    *,
    single: bool,
    managed_fields: bool = False,
) -> None:
    """Print ``objects`` as ``json``, ``yaml`` or ``name``; one object named on the command line prints bare.

    ``metadata.managedFields`` is left out unless ``managed_fields`` (kubectl ``--show-managed-fields``).
    """
    if not managed_fields:
        objects = [without_managed_fields(obj) for obj in objects]
    if output == "name":
        out.writelines(object_name(obj, resource) + "\n" for obj in objects)
        return
    document: Any = objects[0] if single and len(objects) == 1 else as_list(objects)
    out.write(to_json(document) + "\n" if output == "json" else to_yaml(document))


def without_managed_fields(obj: JSONObject) -> JSONObject:
    """Return ``obj`` without ``metadata.managedFields`` (a shallow copy; ``obj`` is left as it is).

    >>> without_managed_fields({"metadata": {"name": "a", "managedFields": []}})
    {'metadata': {'name': 'a'}}
    """
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or "managedFields" not in metadata:
        return obj
    return {**obj, "metadata": {k: v for k, v in metadata.items() if k != "managedFields"}}


def print_table(
    out: TextIO, table: JSONObject, *, wide: bool, with_namespace: bool, now: datetime | None = None
) -> int:
    """Print a ``meta.k8s.io/v1`` Table as kubectl does (priority-0 columns, or all when ``wide``); return the rows.

    ``date`` columns become ages (``5m``), and ``with_namespace`` adds a NAMESPACE column first.
    """
    columns = [c for c in table.get("columnDefinitions") or () if wide or not c.get("priority")]
    indexes = [i for i, c in enumerate(table.get("columnDefinitions") or ()) if wide or not c.get("priority")]
    header = [str(c.get("name", "")).upper() for c in columns]
    rows = []
    clock = now or datetime.now(UTC)
    for row in table.get("rows") or ():
        cells = row.get("cells") or []
        line = [
            _cell(cells[i] if i < len(cells) else "", columns[n].get("format"), clock) for n, i in enumerate(indexes)
        ]
        if with_namespace:
            line.insert(0, get_namespace(row.get("object") or {}))
        rows.append(line)
    if with_namespace:
        header.insert(0, "NAMESPACE")
    if rows:
        write_columns(out, [header, *rows])
    return len(rows)


def write_columns(out: TextIO, lines: Sequence[Sequence[str]]) -> None:
    """Write aligned columns separated by three spaces (kubectl's tabwriter settings)."""
    widths = [max(len(line[i]) for line in lines if i < len(line)) for i in range(max(map(len, lines)))]
    for line in lines:
        out.write("   ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() + "\n")


def _cell(value: Any, column_format: str | None, now: datetime) -> str:
    if column_format == "date" and isinstance(value, str) and value:
        created = parse_time(value)
        return human_duration((now - created).total_seconds()) if created is not None else value
    if value is None:
        return "<none>"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def human_duration(seconds: float) -> str:
    """Format an age as kubectl does (apimachinery ``util/duration.HumanDuration``).

    >>> [human_duration(s) for s in (5, 119, 130, 600, 3 * 3600 + 60, 30 * 3600, 9 * 86400, 800 * 86400)]
    ['5s', '119s', '2m10s', '10m', '3h1m', '30h', '9d', '2y70d']
    """
    s = int(seconds)
    if s < 0:
        return "0s"
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if s < 120:
        return f"{s}s"
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    if days < 365 * 8:
        return f"{days // 365}y{days % 365}d" if days % 365 else f"{days // 365}y"
    return f"{days // 365}y"


__all__ = [
    "OUTPUTS",
    "as_list",
    "human_duration",
    "object_name",
    "print_objects",
    "print_table",
    "to_json",
    "to_yaml",
    "without_managed_fields",
    "write_columns",
]
