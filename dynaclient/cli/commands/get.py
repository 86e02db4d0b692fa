"""``dynaclient get`` and ``dynaclient watch``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dynaclient.cli.commands.common import duration, require_namespace_flag_usage, scoped, split_resource_name
from dynaclient.cli.connection import connect
from dynaclient.cli.printing import object_name, print_objects, print_table, to_yaml
from dynaclient.exceptions import NotFoundError, ResourceRequestError, UnsupportedRequestError
from dynaclient.objects import get_name, get_namespace
from dynaclient.resources.client import ResourceClient
from dynaclient.resources.dynamic import DynamicClient
from dynaclient.resources.requests import resource_path
from dynaclient.wait import resumed_watch

TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
"""Ask for the server's table (the columns kubectl prints), JSON otherwise."""


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "resource", metavar="RESOURCE", help="a resource type (pods, deploy, deployments.apps), or TYPE/NAME"
    )
    parser.add_argument("names", metavar="NAME", nargs="*", help="object names (default: all)")
    parser.add_argument("-A", "--all-namespaces", action="store_true", help="list across all namespaces")
    parser.add_argument("-l", "--selector", help="a label selector (app=web,tier!=db)")
    parser.add_argument("--field-selector", help="a field selector (metadata.name=web)")


def register_get(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``get``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "get", help="print objects", description="Print objects as a table (the server's columns), JSON, YAML or names."
    )
    _add_selection(parser)
    parser.add_argument("-o", "--output", choices=("json", "yaml", "name", "wide"), help="the output format")
    parser.add_argument("--show-managed-fields", action="store_true", help="keep metadata.managedFields in json/yaml")
    parser.set_defaults(run=run_get)
    return parser


def register_watch(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``watch``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "watch",
        help="print objects and then every change",
        description="Print the current objects as ADDED events, then every change, resuming after watch timeouts "
        "and expired resourceVersions, until interrupted or --timeout.",
    )
    _add_selection(parser)
    parser.add_argument(
        "-o",
        "--output",
        choices=("json", "yaml", "name"),
        default="name",
        help="name: one 'EVENT kind/name' line per event; json: one event object per line",
    )
    parser.add_argument("--timeout", type=duration, help="stop after this long (30s, 5m)")
    parser.set_defaults(run=run_watch)
    return parser


def _selection(args: argparse.Namespace) -> tuple[str, list[str]]:
    require_namespace_flag_usage(args)
    resource, name = split_resource_name(args.resource)
    if name:
        others = [split_resource_name(arg) for arg in args.names]
        if any(other[0] != resource or not other[1] for other in others):
            raise ResourceRequestError("with TYPE/NAME, every argument must be TYPE/NAME of the same type")
        return resource, [name, *(other[1] for other in others)]
    return resource, list(args.names)


def run_get(args: argparse.Namespace) -> int:
    """Print the objects ``args`` select; exit 1 if a named one is missing."""
    with connect(args) as client:
        resource, names = _selection(args)
        resources = scoped(client, resource, args)
        if args.output in ("json", "yaml", "name"):
            objects, missing = _fetch(resources, names, args)
            if objects or not names:
                print_objects(
                    sys.stdout,
                    objects,
                    resources.api_resource,
                    args.output,
                    single=bool(names),
                    managed_fields=args.show_managed_fields,
                )
        else:
            rows, missing = _print_tables(client, resources, names, args)
            if not rows and not names:
                print(_no_resources(resources), file=sys.stderr)  # noqa: T201
        for error in missing:
            print(f"Error from server (NotFound): {error.message}", file=sys.stderr)  # noqa: T201
        return 1 if missing else 0


def _fetch(
    resources: ResourceClient, names: list[str], args: argparse.Namespace
) -> tuple[list[dict[str, Any]], list[NotFoundError]]:
    if not names:
        return list(resources.list(label_selector=args.selector, field_selector=args.field_selector)), []
    objects: list[dict[str, Any]] = []
    missing: list[NotFoundError] = []
    for name in names:
        try:
            objects.append(resources.get(name))
        except NotFoundError as exc:
            missing.append(exc)
    return objects, missing


def _print_tables(
    client: DynamicClient, resources: ResourceClient, names: list[str], args: argparse.Namespace
) -> tuple[int, list[NotFoundError]]:
    query = [
        (key, value)
        for key, value in (("labelSelector", args.selector), ("fieldSelector", args.field_selector))
        if value
    ]
    paths = [resource_path(resources.api_resource, resources.namespace_name, name) for name in names or [""]]
    tables, missing = [], []
    for path in paths:
        try:
            try:
                tables.append(client.request("GET", path, query=tuple(query), accept=TABLE_ACCEPT))
            except UnsupportedRequestError:  # a transport that carries only plain JSON (kubectl --raw)
                tables.append(name_age_table(client.request("GET", path, query=tuple(query))))
        except NotFoundError as exc:
            missing.append(exc)
    merged = dict(tables[0]) if tables else {}
    if tables:
        merged["rows"] = [row for table in tables for row in table.get("rows") or ()]
    with_namespace = bool(args.all_namespaces and resources.api_resource.namespaced)
    return print_table(sys.stdout, merged, wide=args.output == "wide", with_namespace=with_namespace), missing


def name_age_table(answer: dict[str, Any]) -> dict[str, Any]:
    """Build the NAME and AGE table kubectl prints for a list or object when the server's table is unavailable.

    >>> name_age_table({"metadata": {"name": "a", "creationTimestamp": "2026-01-01T00:00:00Z"}})["rows"][0]["cells"]
    ['a', '2026-01-01T00:00:00Z']
    """
    objects = answer.get("items") if "items" in answer else [answer]
    columns = [
        {"name": "Name", "type": "string", "format": "name"},
        {"name": "Age", "type": "string", "format": "date"},
    ]
    rows = [
        {"cells": [get_name(obj), (obj.get("metadata") or {}).get("creationTimestamp", "")], "object": obj}
        for obj in objects or ()
    ]
    return {"kind": "Table", "columnDefinitions": columns, "rows": rows}


def _no_resources(resources: ResourceClient) -> str:
    if resources.namespace_name:
        return f"No resources found in {resources.namespace_name} namespace."
    return "No resources found"


def run_watch(args: argparse.Namespace) -> int:
    """Print events until interrupted or the timeout passes."""
    with connect(args) as client:
        resource, names = _selection(args)
        if len(names) > 1:
            raise ResourceRequestError("watch takes at most one name")
        resources = scoped(client, resource, args)
        fields = {"metadata.name": names[0]} if names else args.field_selector
        for event in resumed_watch(
            resources, label_selector=args.selector, field_selector=fields, timeout=args.timeout
        ):
            if event.type == "BOOKMARK":
                continue
            if args.output == "json":
                line = json.dumps({"type": event.type, "object": event.object}, sort_keys=True, separators=(",", ":"))
                print(line, flush=True)  # noqa: T201
            elif args.output == "yaml":
                print("---\n" + to_yaml({"type": event.type, "object": event.object}), end="", flush=True)  # noqa: T201
            else:
                where = f"{get_namespace(event.object)} " if args.all_namespaces else ""
                print(f"{event.type:<8} {where}{object_name(event.object, resources.api_resource)}", flush=True)  # noqa: T201
    return 0


__all__ = ["TABLE_ACCEPT", "register_get", "register_watch", "run_get", "run_watch"]
