"""The root of every dynaclient error, and the escaping of terminal control characters in messages."""

from __future__ import annotations


class DynaclientError(Exception):
    r"""Base class of every error raised by dynaclient and informers.

    Text in a message may come from a server, a kubeconfig or an exec plugin; its terminal control characters are
    escaped as kubectl escapes them (cli-runtime ``printers.EscapeTerminal``: ESC as ``^[``, CR as ``\r``), so an
    ANSI sequence in a plugin's ``installHint`` or a server's message cannot rewrite the user's terminal.

    Thread-safety: immutable once raised.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(escape_terminal(arg) if isinstance(arg, str) else arg for arg in args))


def escape_terminal(text: str) -> str:
    r"""Escape the terminal control characters kubectl escapes in what it prints (cli-runtime terminal.go).

    >>> escape_terminal("hint\x1b[2J\x1b[31mred\rover")
    'hint^[[2J^[[31mred\\rover'
    """
    return text.translate(_TERMINAL_ESCAPES)


_TERMINAL_ESCAPES = str.maketrans({"\x1b": "^[", "\r": "\\r"})
