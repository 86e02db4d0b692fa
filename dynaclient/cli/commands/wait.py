"""``dynaclient wait RESOURCE/NAME --for=condition=X|delete|create``."""

from __future__ import annotations

import argparse
from typing import Any

from dynaclient.cli.commands.common import duration, scoped, split_resource_name
from dynaclient.cli.connection import connect
from dynaclient.exceptions import ResourceRequestError, WaitTimeoutError
from dynaclient.wait import Condition, condition_true, is_created, is_ready

DEFAULT_WAIT_TIMEOUT = 30.0
"""kubectl wait's default ``--timeout``."""


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``wait``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "wait",
        help="wait for a condition on objects",
        description="Wait until each object meets the condition: --for=condition=Available (or "
        "condition=Ready=False), --for=delete, --for=create, or --for=ready (kstatus rules).",
    )
    parser.add_argument("objects", metavar="RESOURCE/NAME", nargs="+", help="the objects (deployment.apps/web)")
    parser.add_argument(
        "--for",
        dest="condition",
        required=True,
        metavar="CONDITION",
        help="condition=TYPE[=STATUS], delete, create or ready",
    )
    parser.add_argument("--timeout", type=duration, default=DEFAULT_WAIT_TIMEOUT, help="per object (default 30s)")
    parser.set_defaults(run=run)
    return parser


def parse_condition(text: str) -> Condition | None:
    """Return the condition ``--for`` names; ``None`` for ``delete``.

    >>> str(parse_condition("condition=Available")), str(parse_condition("condition=Ready=false"))
    ('condition Available', 'condition Ready=false')
    """
    if text == "delete":
        return None
    if text == "create":
        return is_created
    if text == "ready":
        return is_ready
    kind, _, rest = text.partition("=")
    if kind != "condition" or not rest:
        raise ResourceRequestError(f"--for={text}: use condition=TYPE[=STATUS], delete, create or ready")
    condition_type, _, status = rest.partition("=")
    return condition_true(condition_type, status or "True")


def run(args: argparse.Namespace) -> int:
    """Wait for each object in turn; print ``kind/name condition met``; exit 1 on the first timeout."""
    condition = parse_condition(args.condition)
    with connect(args) as client:
        for arg in args.objects:
            resource, name = split_resource_name(arg)
            if not name:
                raise ResourceRequestError(f"{arg}: name the object as RESOURCE/NAME")
            resources = scoped(client, resource, args)
            api = resources.api_resource
            ref = f"{api.kind.lower()}{'.' + api.group if api.group else ''}/{name}"
            if condition not in (None, is_created):
                resources.get(name, metadata_only=True)  # as kubectl: a missing object is an error, not a wait
            try:
                if condition is None:
                    resources.wait_for_deletion(name, args.timeout)
                else:
                    resources.wait_for(name, condition, args.timeout)
            except WaitTimeoutError as exc:
                raise WaitTimeoutError(f"timed out waiting for the condition on {ref}: {exc}", last=exc.last) from exc
            print(f"{ref} condition met")  # noqa: T201
    return 0


__all__ = ["DEFAULT_WAIT_TIMEOUT", "parse_condition", "register", "run"]
