"""The ``dynaclient`` console script: parser, dispatch, kubectl's error lines and exit codes.

Every command is a ``register(subparsers)`` function in :mod:`dynaclient.cli.commands`; a new command (``logs``,
``exec``, ``port-forward``) is one more module and one more entry in :data:`~dynaclient.cli.commands.COMMANDS`.

Exit codes follow kubectl: 0 on success, 1 on any error (a usage error, an error from the server, a wait that
timed out), 130 when interrupted. Errors are one line on stderr: ``Error from server (NotFound): ...`` for what
the server refused, ``error: ...`` for everything else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from dynaclient.cli.commands import COMMANDS
from dynaclient.cli.connection import add_connection_options
from dynaclient.exceptions import APIError, DynaclientError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse with kubectl's exit code (1) for usage errors.

    Thread-safety: not thread-safe (argparse parsers are not); built once per run.
    """

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"error: {message}\nSee '{self.prog} --help' for usage.\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``dynaclient`` and all its commands."""
    parser = _Parser(
        prog="dynaclient",
        description="A dynamic Kubernetes client on the command line: any resource, over any transport.",
    )
    add_connection_options(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)
    for register in COMMANDS:
        add_connection_options(register(subparsers), with_defaults=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except APIError as exc:
        print(f"Error from server ({exc.reason or exc.code}): {exc.message or exc}", file=sys.stderr)  # noqa: T201
    except DynaclientError as exc:
        cause = exc.__cause__
        if isinstance(cause, APIError):  # a manifest the server refused: kubectl's wording, with file and document
            print(f"Error from server ({cause.reason or cause.code}): {exc}", file=sys.stderr)  # noqa: T201
        else:
            print(f"error: {exc}", file=sys.stderr)  # noqa: T201
    return EXIT_ERROR


def run() -> NoReturn:
    """The console-script entry point."""
    sys.exit(main())


__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "build_parser", "main", "run"]
