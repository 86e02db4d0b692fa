"""Helpers the commands share: durations, resource arguments, progress on stderr."""

from __future__ import annotations

import argparse
import re
import sys

from dynaclient.exceptions import ResourceRequestError
from dynaclient.resources.client import ResourceClient
from dynaclient.resources.dynamic import DynamicClient

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?$")


def duration(text: str) -> float:
    """Parse a Go-style duration (``30s``, ``5m``, ``1h30m``; a bare number is seconds) into seconds.

    >>> duration("1m30s"), duration("90"), duration("0.5s")
    (90.0, 90.0, 0.5)
    """
    try:
        return float(text)
    except ValueError:
        pass
    match = _DURATION.match(text)
    if not text or match is None:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r} (use 30s, 5m or 1h)")
    hours, minutes, seconds = (float(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def split_resource_name(arg: str) -> tuple[str, str]:
    """Split ``RESOURCE/NAME`` (``deployment.apps/web``) into its parts; the name may be empty.

    >>> split_resource_name("deployments.apps/web"), split_resource_name("pods")
    (('deployments.apps', 'web'), ('pods', ''))
    """
    resource, _, name = arg.partition("/")
    return resource, name


def scoped(client: DynamicClient, resource: str, args: argparse.Namespace) -> ResourceClient:
    """The client of ``resource`` in the namespace the options choose (``-A``: all; else ``-n`` or the default)."""
    resources = client.resource(resource)
    if not resources.api_resource.namespaced or getattr(args, "all_namespaces", False):
        return resources
    return resources.namespace(client.default_namespace)


def progress(message: str) -> None:
    """Write a line of progress to stderr (stdout stays for results)."""
    print(message, file=sys.stderr, flush=True)  # noqa: T201


def require_namespace_flag_usage(args: argparse.Namespace) -> None:
    """Refuse ``-A`` together with a name, as kubectl does.

    Raises:
        ResourceRequestError: both were given.
    """
    if getattr(args, "all_namespaces", False) and getattr(args, "names", None):
        raise ResourceRequestError("a resource cannot be retrieved by name across all namespaces")


__all__ = ["duration", "progress", "require_namespace_flag_usage", "scoped", "split_resource_name"]
