"""Build the :class:`~dynaclient.resources.dynamic.DynamicClient` the global options ask for."""

from __future__ import annotations

import argparse

from dynaclient.client import APIClient
from dynaclient.config import load_incluster_config, load_kubeconfig
from dynaclient.connect import (
    KUBECTL_PROXY_URL,
    client_from_config,
    default_candidates,
    detect_api_client,
    kubectl_proxy_client,
    kubectl_raw_client,
)
from dynaclient.exceptions import ConfigError
from dynaclient.resources.dynamic import DynamicClient

TRANSPORTS = ("auto", "kubeconfig", "in-cluster", "proxy", "kubectl")


def add_connection_options(parser: argparse.ArgumentParser, *, with_defaults: bool = True) -> None:
    """Add ``--kubeconfig``, ``--context``, ``--namespace``/``-n``, ``--transport`` and ``--proxy-url``.

    The top-level parser holds the defaults; each command's parser takes the same options ``with_defaults=False``
    so that they may come before or after the command (``dynaclient -n prod get pods``, ``get pods -n prod``).
    """
    group = parser.add_argument_group("connection", argument_default=None if with_defaults else argparse.SUPPRESS)
    group.add_argument("--kubeconfig", help="the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    group.add_argument("--context", help="the kubeconfig context (default: its current context)")
    group.add_argument(
        "-n", "--namespace", help="the namespace (default: the context's namespace, or the pod's in-cluster)"
    )
    group.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default="auto" if with_defaults else argparse.SUPPRESS,
        help="how to reach the API server: auto tries in-cluster, the kubeconfig, a kubectl proxy, then kubectl "
        "(with --kubeconfig or --context, auto means kubeconfig)",
    )
    group.add_argument(
        "--proxy-url",
        default=KUBECTL_PROXY_URL if with_defaults else argparse.SUPPRESS,
        help="the kubectl proxy for --transport=proxy",
    )


def connect(args: argparse.Namespace) -> DynamicClient:
    """Return a client over the transport the options choose; its default namespace is ``-n`` if given.

    Raises:
        ConfigError: the configuration is missing or invalid, or auto-detection found no way to the server.
    """
    transport = args.transport
    if transport == "auto" and (args.kubeconfig or args.context):
        transport = "kubeconfig"
    api_client = _api_client(transport, args)
    if args.namespace:
        api_client.namespace = args.namespace
    elif transport in ("proxy", "kubectl"):
        api_client.namespace = _kubeconfig_namespace(args)
    return DynamicClient.from_api_client(api_client)


def _api_client(transport: str, args: argparse.Namespace) -> APIClient:
    if transport == "kubeconfig":
        return client_from_config(load_kubeconfig(args.kubeconfig, args.context))
    if transport == "in-cluster":
        return client_from_config(load_incluster_config(), name="in-cluster")
    if transport == "proxy":
        return kubectl_proxy_client(args.proxy_url)
    if transport == "kubectl":
        return kubectl_raw_client(args.kubeconfig, args.context)
    return detect_api_client(default_candidates(proxy_url=args.proxy_url))


def _kubeconfig_namespace(args: argparse.Namespace) -> str:
    """The context's namespace for transports that carry none themselves (kubectl's own default)."""
    try:
        return load_kubeconfig(args.kubeconfig, args.context).namespace
    except ConfigError:
        return "default"


__all__ = ["TRANSPORTS", "add_connection_options", "connect"]
