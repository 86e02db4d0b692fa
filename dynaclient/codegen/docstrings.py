"""Schema descriptions as docstrings: wrapped to the line length, valid Python, and passing ruff's pydocstyle rules.

A class docstring starts with a one-line summary ending in a period (ruff D415), then a blank line (D205): the
description's first sentence when it fits on the line, else the class name and its module. A key's description is
the docstring under its annotation (the attribute docstring editors show). A text with backslashes goes in a raw
docstring, triple quotes become triple single quotes, tabs are expanded, and characters ruff reports as ambiguous
(RUF001, RUF002) are replaced by their ASCII look-alikes.
"""

from __future__ import annotations

import re
import textwrap

_LINE_LENGTH = 120
# A line that pydocstyle would read as a Google section header ("Example:") in a text that is not written as one.
_SECTION_HEADER = re.compile(r"^(\s*)(Example|Examples|Note|Notes|Warning|Warnings)(:\s*)$", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)`'\"])\.(?:\s+|$)")
_ASCII_LOOKALIKES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2010": "-",
        "\u2011": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u00b4": "'",
        "\u2032": "'",
        "\u00d7": "x",
        "\u2212": "-",
    }
)


def class_docstring(name: str, module: str, description: str, indent: str) -> list[str]:
    """The lines of a class docstring (indented by ``indent``).

    >>> lines = class_docstring("Pod", "core/v1", "Pod is a collection of containers. It runs on a host.", "    ")
    >>> [line.strip().strip('"') for line in lines]
    ['Pod is a collection of containers.', '', 'It runs on a host.', '']
    >>> class_docstring("Pod", "core/v1", "", "")[0].strip('"')
    'Pod (core/v1).'
    """
    text = _clean(description)
    if text and "\n" not in text and text[-1].isalnum():
        text += "."  # a one-sentence description without its period
    first, rest = _first_sentence(text)
    summary = first if first and len(indent) + 6 + len(first) <= _LINE_LENGTH else ""
    if not summary:
        summary, rest = f"{name} ({module}).", text
    body = _wrap(rest, indent)
    quotes = _opening(text)
    if not body:
        return [f'{indent}{quotes}{summary}"""']
    return [f"{indent}{quotes}{summary}", "", *body, f'{indent}"""']


def field_docstring(description: str, indent: str) -> list[str]:
    """The lines of a key's docstring; none without a description.

    >>> field_docstring("The image name.", "    ")[0].strip()[3:-3]
    'The image name.'
    >>> field_docstring("", "    ")
    []
    """
    text = _clean(description)
    if not text:
        return []
    quotes = _opening(text)
    one_line = f'{indent}{quotes}{text}"""'
    if "\n" not in text and len(one_line) <= _LINE_LENGTH and text[0] != '"' and text[-1] not in '"\\':
        return [one_line]
    body = _wrap(text, indent)
    body[0] = f"{indent}{quotes}{body[0][len(indent) :]}"
    return [*body, f'{indent}"""']


def _opening(text: str) -> str:
    # Backslashes stay as they are in a raw docstring (ruff D301); the closing quotes never follow one.
    return 'r"""' if "\\" in text else '"""'


def _clean(text: str) -> str:
    text = text.translate(_ASCII_LOOKALIKES).expandtabs(4).replace('"""', "'''")
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _first_sentence(text: str) -> tuple[str, str]:
    match = _SENTENCE_END.search(text)
    if match is None or "\n" in text[: match.start()]:
        return "", text
    return text[: match.start() + 1], text[match.end() :].strip()


def _wrap(text: str, indent: str) -> list[str]:
    lines: list[str] = []
    text = _SECTION_HEADER.sub(lambda match: f"{match[1]}For {match[2].lower()}{match[3]}", text)
    for line in text.splitlines():
        stripped = line.lstrip()
        if not stripped:
            if lines and lines[-1]:
                lines.append("")
            continue
        lead = indent + line[: len(line) - len(stripped)]
        lines += textwrap.wrap(
            stripped,
            width=max(_LINE_LENGTH - len(lead), 40),
            initial_indent=lead,
            subsequent_indent=lead,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [lead]
    while lines and not lines[-1]:
        lines.pop()
    return lines


__all__ = ["class_docstring", "field_docstring"]
