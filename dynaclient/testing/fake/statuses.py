"""The failure ``Status`` objects the fake answers with, worded as kube-apiserver words them.

Messages follow apimachinery ``pkg/api/errors/errors.go`` (``NewNotFound``, ``NewAlreadyExists``, ``NewConflict``,
``NewInvalid``, ``NewBadRequest``, ``NewForbidden``, ``NewResourceExpired``), so code that inspects ``reason``,
``code``, ``details`` or even the message sees what the real server sends.
"""

from __future__ import annotations

from typing import Any

from dynaclient._types import JSONObject

CONFLICT_MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


class StatusError(Exception):
    """A request failed; ``status`` is the ``Status`` object to answer with.

    Thread-safety: immutable once raised.
    """

    def __init__(self, status: JSONObject) -> None:
        super().__init__(status.get("message", ""))
        self.status = status

    @property
    def code(self) -> int:
        """The HTTP status code."""
        return int(self.status["code"])


def failure(code: int, reason: str, message: str, details: JSONObject | None = None) -> StatusError:
    """A failure ``Status`` with this code, reason (``""`` for none) and message."""
    status: JSONObject = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "code": code,
    }
    if reason:
        status["reason"] = reason
    if details is not None:
        status["details"] = details
    return StatusError(status)


def _details(group: str, resource: str, name: str, **extra: Any) -> JSONObject:
    details: JSONObject = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = resource
    details.update(extra)
    return details


def qualified(group: str, resource: str) -> str:
    """``resource.group``, or ``resource`` for the core group."""
    return f"{resource}.{group}" if group else resource


def not_found(group: str, resource: str, name: str) -> StatusError:
    """404 NotFound."""
    message = f'{qualified(group, resource)} "{name}" not found'
    return failure(404, "NotFound", message, _details(group, resource, name))


def already_exists(group: str, resource: str, name: str) -> StatusError:
    """409 AlreadyExists."""
    message = f'{qualified(group, resource)} "{name}" already exists'
    return failure(409, "AlreadyExists", message, _details(group, resource, name))


def conflict(group: str, resource: str, name: str, why: str = CONFLICT_MODIFIED) -> StatusError:
    """409 Conflict."""
    message = f'Operation cannot be fulfilled on {qualified(group, resource)} "{name}": {why}'
    return failure(409, "Conflict", message, _details(group, resource, name))


def apply_conflict(conflicts: list[tuple[str, str]]) -> StatusError:
    """409 Conflict of a server-side apply: ``(manager, field)`` pairs."""
    count = f"{len(conflicts)} conflict{'s' if len(conflicts) > 1 else ''}"
    lines = [f'conflict with "{manager}": {field}' for manager, field in conflicts]
    message = f"Apply failed with {count}: " + "\n".join(lines)
    causes = [
        {"reason": "FieldManagerConflict", "message": f'conflict with "{manager}"', "field": field}
        for manager, field in conflicts
    ]
    return failure(409, "Conflict", message, {"causes": causes})


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> StatusError:
    """422 Invalid; ``causes`` are ``(field, reason, message)`` with reasons like ``FieldValueRequired``."""
    summary = ", ".join(f"{field}: {message}" for field, _, message in causes)
    body = f"[{summary}]" if len(causes) > 1 else summary
    message = f'{kind}.{group} "{name}" is invalid: {body}' if group else f'{kind} "{name}" is invalid: {body}'
    details = _details(group, kind, name)
    details["causes"] = [{"reason": reason, "message": message, "field": field} for field, reason, message in causes]
    return failure(422, "Invalid", message, details)


def bad_request(message: str) -> StatusError:
    """400 BadRequest."""
    return failure(400, "BadRequest", message)


def forbidden(group: str, resource: str, name: str, why: str) -> StatusError:
    """403 Forbidden."""
    message = f'{qualified(group, resource)} "{name}" is forbidden: {why}'
    return failure(403, "Forbidden", message, _details(group, resource, name))


def expired(message: str) -> StatusError:
    """410 Expired (a resourceVersion or continue token older than the compaction)."""
    return failure(410, "Expired", message)


def unsupported_media_type(content_type: str) -> StatusError:
    """415 UnsupportedMediaType."""
    return failure(415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {content_type}")


def method_not_allowed(message: str) -> StatusError:
    """405 MethodNotAllowed."""
    return failure(405, "MethodNotAllowed", message)


__all__ = [
    "CONFLICT_MODIFIED",
    "StatusError",
    "already_exists",
    "apply_conflict",
    "bad_request",
    "conflict",
    "expired",
    "failure",
    "forbidden",
    "invalid",
    "method_not_allowed",
    "not_found",
    "qualified",
    "unsupported_media_type",
]
