r"""``python -m dynaclient.codegen``: write TypedDict modules from a server's OpenAPI v3, or from saved documents.

Examples::

    # the custom resources of one group-version, built-in types imported from dynaclient.types
    python -m dynaclient.codegen --group-version sawtooth.hyperledger.org/v1alpha1 --import-builtins \
        --package myproject.k8s --output src/myproject/k8s
    # every group-version the server serves, saving the documents read
    python -m dynaclient.codegen --package myproject.k8s --output src/myproject/k8s --save-documents openapi/
    # from saved documents (kubernetes/kubernetes api/openapi-spec/v3 has the same file names)
    python -m dynaclient.codegen --from-documents openapi/ --package myproject.k8s --output src/myproject/k8s
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dynaclient.codegen import OpenAPISource, fetch_source, generate, load_source, write_package
from dynaclient.config import load_kubeconfig
from dynaclient.connect import client_from_config
from dynaclient.exceptions import DynaclientError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dynaclient.codegen",
        description="Generate TypedDict modules from the OpenAPI v3 a Kubernetes API server publishes.",
    )
    parser.add_argument("--output", required=True, help="the package directory to write (stale modules are removed)")
    parser.add_argument("--package", required=True, help="the dotted name the package is imported as")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--kubeconfig", help="the kubeconfig (default: KUBECONFIG or ~/.kube/config)")
    source.add_argument("--from-documents", metavar="DIR", help="read saved documents instead of a server")
    parser.add_argument("--context", help="the kubeconfig context (default: the current one)")
    parser.add_argument(
        "--group-version",
        action="append",
        default=[],
        metavar="GV",
        help="only this group-version (v1, apps/v1, example.org/v1alpha1); repeatable; default: all",
    )
    parser.add_argument(
        "--import-builtins",
        action="store_true",
        help="import built-in types (meta/v1 ...) from dynaclient.types instead of generating them",
    )
    parser.add_argument("--builtins-only", action="store_true", help="skip the group-versions of custom resources")
    parser.add_argument("--save-documents", metavar="DIR", help="also save the documents read, to regenerate offline")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the generator; return the exit status (``1`` with a message on stderr when it fails)."""
    args = _parser().parse_args(argv)
    try:
        source = _source(args)
        if args.builtins_only:
            source = source.builtin()
        if args.save_documents:
            source.save(args.save_documents)
        files = generate(source, args.package, generate_builtins=not args.import_builtins)
        paths = write_package(files, args.output)
    except (DynaclientError, OSError) as exc:
        sys.stderr.write(f"dynaclient.codegen: {exc}\n")
        return 1
    sys.stdout.write(f"wrote {len(paths)} files to {args.output} ({source.server_version})\n")
    return 0


def _source(args: argparse.Namespace) -> OpenAPISource:
    group_versions = args.group_version or None
    if args.from_documents:
        source = load_source(args.from_documents)
        return source if group_versions is None else source.select(group_versions)
    with client_from_config(load_kubeconfig(args.kubeconfig, args.context)) as api_client:
        return fetch_source(api_client, group_versions)


if __name__ == "__main__":
    sys.exit(main())
