"""``dynaclient apply -f`` and ``dynaclient delete -f``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dynaclient.cli.commands.common import duration, progress
from dynaclient.cli.connection import connect
from dynaclient.exceptions import ResourceRequestError
from dynaclient.manifests import DEFAULT_FIELD_MANAGER, ApplySet, apply_manifests, delete_manifests, load_paths
from dynaclient.manifests.applying import DEFAULT_TIMEOUT


def _add_files(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f",
        "--filename",
        action="append",
        required=True,
        metavar="PATH",
        help="a file, a directory of .yaml/.yml/.json files, or - for stdin (repeatable)",
    )
    parser.add_argument("-R", "--recursive", action="store_true", help="descend into subdirectories of -f")
    parser.add_argument("--timeout", type=duration, default=DEFAULT_TIMEOUT, help="the longest to wait, in all (5m)")


def register_apply(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``apply``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "apply",
        help="server-side apply manifests as one set",
        description="Server-side apply every object of the files as one set: a server-side dry run first, then "
        "Namespaces and CRDs, then a dry run of what needed them, then the rest; custom resources wait for their "
        "CRD to be Established. With --prune --applyset, objects that left the set are deleted (kubectl's "
        "ApplySet labels and annotations).",
    )
    _add_files(parser)
    parser.add_argument("--field-manager", default=DEFAULT_FIELD_MANAGER, help="the field manager")
    parser.add_argument("--force-conflicts", action="store_true", help="take over fields other managers own")
    parser.add_argument(
        "--dry-run", choices=("none", "server"), default="none", help="server: check only, write nothing"
    )
    parser.add_argument("--wait", action="store_true", help="wait until every object is ready (kstatus rules)")
    parser.add_argument("--prune", action="store_true", help="delete members of the ApplySet no longer in the files")
    parser.add_argument(
        "--applyset",
        metavar="[secret/|configmap/]NAME",
        help="the ApplySet parent, in the namespace of -n (required by --prune)",
    )
    parser.add_argument("--applyset-tooling", help="the tooling annotation (kubectl/v1.33.0 to share with kubectl)")
    parser.set_defaults(run=run_apply)
    return parser


def register_delete(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``delete``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "delete",
        help="delete the objects of manifests",
        description="Delete every object of the files in reverse apply order and wait until they are gone.",
    )
    _add_files(parser)
    parser.add_argument(
        "--cascade",
        choices=("background", "foreground", "orphan"),
        default="background",
        help="how dependents are deleted",
    )
    parser.add_argument("--wait", choices=("true", "false"), default="true", help="wait until the objects are gone")
    parser.add_argument("--ignore-not-found", action="store_true", help="a missing object is not an error")
    parser.add_argument("--dry-run", choices=("none", "server"), default="none", help="server: check only")
    parser.set_defaults(run=run_delete)
    return parser


def _applyset(args: argparse.Namespace, namespace: str) -> ApplySet | None:
    if not args.prune and not args.applyset:
        return None
    if not (args.prune and args.applyset):
        raise ResourceRequestError("--prune and --applyset go together")
    kind, _, name = args.applyset.rpartition("/")
    kinds = {"": "Secret", "secret": "Secret", "secrets": "Secret", "configmap": "ConfigMap", "configmaps": "ConfigMap"}
    if kind.lower() not in kinds:
        raise ResourceRequestError(f"--applyset {args.applyset}: the parent must be a secret or a configmap")
    tooling = {"tooling": args.applyset_tooling} if args.applyset_tooling else {}
    return ApplySet(name, namespace, kinds[kind.lower()], **tooling)  # type: ignore[arg-type]


def run_apply(args: argparse.Namespace) -> int:
    """Apply the files; print ``kind/name action`` lines (progress on stderr)."""
    manifests = load_paths(args.filename, recursive=args.recursive)
    with connect(args) as client:
        result = apply_manifests(
            client,
            manifests,
            field_manager=args.field_manager,
            force=args.force_conflicts,
            dry_run=args.dry_run == "server",
            namespace=args.namespace,
            applyset=_applyset(args, client.default_namespace),
            wait=args.wait,
            timeout=args.timeout,
            progress=progress,
        )
    suffix = " (server dry run)" if args.dry_run == "server" else ""
    for applied in result.applied:
        print(f"{applied.planned.ref} {applied.action}{suffix}")  # noqa: T201
    for pruned in result.pruned:
        print(f"{pruned} pruned")  # noqa: T201
    return 0


def run_delete(args: argparse.Namespace) -> int:
    """Delete the files' objects; exit 1 if one was missing (unless --ignore-not-found)."""
    manifests = load_paths(args.filename, recursive=args.recursive)
    with connect(args) as client:
        result = delete_manifests(
            client,
            manifests,
            namespace=args.namespace,
            propagation_policy=args.cascade.capitalize(),
            wait=args.wait == "true",
            timeout=args.timeout,
            dry_run=args.dry_run == "server",
            progress=progress,
        )
    suffix = " (server dry run)" if args.dry_run == "server" else ""
    for item in result.deleted:
        print(f"{item.ref} deleted{suffix}")  # noqa: T201
    if args.ignore_not_found:
        return 0
    for item in result.missing:
        where = f"{item.manifest.source} document {item.manifest.document}"
        print(f"Error from server (NotFound): {where}: {item.description} not found", file=sys.stderr)  # noqa: T201
    return 1 if result.missing else 0


__all__ = ["register_apply", "register_delete", "run_apply", "run_delete"]
