"""``dynaclient api-resources``: the resources the server serves, at each group's preferred version."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dynaclient.cli.connection import connect
from dynaclient.cli.printing import write_columns
from dynaclient.discovery.discovery import Discovery
from dynaclient.discovery.restmapper import RESTMapper


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``api-resources``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "api-resources",
        help="list the resource types the server serves",
        description="List the resource types the server serves, at each group's preferred version.",
    )
    parser.add_argument("--api-group", help="only this group ('' for the core group)")
    parser.add_argument("--namespaced", choices=("true", "false"), help="only namespaced, or only cluster-scoped")
    parser.add_argument("-o", "--output", choices=("name", "wide"), help="name: resource.group only; wide: verbs too")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the table (or names)."""
    with connect(args) as client:
        discovery = client.mapper.discovery if isinstance(client.mapper, RESTMapper) else Discovery(client.api_client)
        resources = [
            r
            for r in discovery.preferred_resources()
            if (args.api_group is None or r.group == args.api_group)
            and (args.namespaced is None or r.namespaced == (args.namespaced == "true"))
        ]
    if args.output == "name":
        sys.stdout.writelines(f"{r.resource}{'.' + r.group if r.group else ''}\n" for r in resources)
        return 0
    header = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"] + (
        ["VERBS", "CATEGORIES"] if args.output else []
    )
    rows = []
    for r in resources:
        row = [
            r.resource,
            ",".join(r.short_names),
            f"{r.group}/{r.version}" if r.group else r.version,
            str(r.namespaced).lower(),
            r.kind,
        ]
        if args.output:
            row += [",".join(r.verbs), ",".join(r.categories)]
        rows.append(row)
    write_columns(sys.stdout, [header, *rows])
    return 0


__all__ = ["register", "run"]
