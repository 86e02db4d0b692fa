"""Rebuild a kubectl run's response, or its failure, from its exit code, stdout and ``-v=6`` stderr.

client-go (``transport/round_trippers.go``) logs each response's status line at level 6, and kubectl
(``pkg/cmd/util/helpers.go``, ``StandardErrorMessage``) dumps an error Status as ``server response object: ...``;
without those, kubectl's ``Error from server (<Reason>): <message>`` line and the Status reason table are used.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from dynaclient._types import JSONObject
from dynaclient.exceptions import ConnectError, TLSError, TransportError, TransportTimeout
from dynaclient.request import JSON_CONTENT_TYPE, Response

JSON_HEADERS = {"content-type": JSON_CONTENT_TYPE}

# Status reasons and their codes (apimachinery pkg/apis/meta/v1/types.go and pkg/api/errors/errors.go); the first
# reason listed for a code is the one assumed when only the code is known (as NewGenericServerResponse does).
_REASON_CODES = {
    **{"BadRequest": 400, "Unauthorized": 401, "Forbidden": 403, "NotFound": 404, "MethodNotAllowed": 405},
    **{"NotAcceptable": 406, "Conflict": 409, "AlreadyExists": 409, "Gone": 410, "Expired": 410},
    **{"RequestEntityTooLarge": 413, "UnsupportedMediaType": 415, "Invalid": 422, "TooManyRequests": 429},
    **{"InternalError": 500, "ServerTimeout": 500, "ServiceUnavailable": 503, "Timeout": 504},
}
_CODE_REASONS = {code: reason for reason, code in reversed(_REASON_CODES.items())}

# klog's header, "I1121 04:41:47.735658   17329 file.go:560] ".
_KLOG_LINE = re.compile(r"^[IWEF]\d{4} [\d:.]+\s+\d+ [^\]]+\] ?")
_RESPONSE_LINES = (
    re.compile(r'"Response" verb="\w+" url="[^"]*" status="(\d{3})'),  # client-go 1.33 and later
    re.compile(r"\] [A-Z]+ \S+ (\d{3}) [^\n]* in \d+ milliseconds"),  # client-go 1.32 and earlier
)
_STATUS_DUMP = "server response object: %s["
# kubectl's messages (pkg/cmd/util/helpers.go checkErr, StandardErrorMessage); searched line-wise, since other
# programs (a kubectl dispatcher, exec credential plugins) may print lines before them.
_SERVER_ERROR = re.compile(r"^Error from server(?: \((\w+)\))?: (.*)", re.DOTALL | re.MULTILINE)
_UNAUTHORIZED = re.compile(r"^error: You must be logged in to the server \((.*)\)$", re.DOTALL | re.MULTILINE)
_INVALID = re.compile(r'^The (\S+) "([^"]*)" is invalid(?::\s*(.*))?$', re.DOTALL | re.MULTILINE)
_TIMEOUT_HINTS = ("deadline exceeded", "Client.Timeout", "i/o timeout", "handshake timeout")
_TLS_HINTS = ("x509:", "tls:", "certificate")
_CONNECT_HINTS = ("Unable to connect to the server", "The connection to the server", "connection refused")


@dataclass(frozen=True, slots=True)
class StderrDiagnosis:
    """What kubectl's stderr says: the last response status code, the Status dump, and its own message.

    Thread-safety: immutable.
    """

    code: int | None
    status: JSONObject | None
    message: str


def response_code(line: str) -> int | None:
    """Return the status code of a client-go response log line, or ``None`` for any other line."""
    for pattern in _RESPONSE_LINES:
        match = pattern.search(line)
        if match:
            return int(match.group(1))
    return None


def diagnose(stderr: str) -> StderrDiagnosis:
    r"""Split kubectl's stderr into the response code, the dumped Status and kubectl's own message.

    >>> diagnose('WARNING: version skew\n'
    ...           'I1121 04:41:47.735658   17 r.go:560] GET https://h/a 404 Not Found in 2 milliseconds\n'
    ...           'Error from server (NotFound): a not found\n')
    StderrDiagnosis(code=404, status=None, message='Error from server (NotFound): a not found')
    """
    status: JSONObject | None = None
    start = stderr.find(_STATUS_DUMP)
    if start >= 0:
        try:
            decoded, end = json.JSONDecoder().raw_decode(stderr, start + len(_STATUS_DUMP))
        except (ValueError, RecursionError):
            decoded, end = None, start
        if isinstance(decoded, dict):
            status = decoded
            stderr = stderr[: stderr.rfind("\n", 0, start) + 1] + stderr[end:].removeprefix("]")
    code = None
    message_lines = []
    for line in stderr.splitlines():
        if _KLOG_LINE.match(line):
            code = response_code(line) or code
        elif line.strip() and not line.startswith(("WARNING:", "Warning:")):
            message_lines.append(line.rstrip())
    return StderrDiagnosis(code, status, "\n".join(message_lines))


def finished_response(returncode: int, stdout: bytes, stderr: str) -> Response:
    """Build the response for a finished kubectl, or raise when no server answered."""
    diagnosis = diagnose(stderr)
    if returncode == 0:
        code = diagnosis.code if diagnosis.code is not None and 200 <= diagnosis.code < 300 else 200
        return Response.from_bytes(code, stdout, JSON_HEADERS)
    status = _error_status(diagnosis)
    if status is None:
        raise transport_failure(returncode, diagnosis.message)
    body = json.dumps(status, separators=(",", ":")).encode()
    return Response.from_bytes(int(status["code"]), body, JSON_HEADERS)


def _error_status(diagnosis: StderrDiagnosis) -> JSONObject | None:
    """Rebuild the server's error Status, or return ``None`` when kubectl failed before any answer."""
    code = diagnosis.code if diagnosis.code is not None and diagnosis.code >= 300 else None
    if diagnosis.status is not None:
        status: JSONObject = {"kind": "Status", "apiVersion": "v1", "metadata": {}, **diagnosis.status}
        status["code"] = code or status.get("code") or _REASON_CODES.get(str(status.get("reason")), 500)
        return status
    reason, message, details = _parse_message(diagnosis.message)
    if reason is None and code is None:
        return None
    reason = reason or _CODE_REASONS.get(code or 500, "")
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message}
    status |= {"reason": reason, "details": details} if details else {"reason": reason}
    return status | {"code": code or _REASON_CODES.get(reason, 500)}


def _parse_message(message: str) -> tuple[str | None, str, JSONObject]:
    """Read the Status reason, message and details from kubectl's ``StandardErrorMessage`` output.

    >>> _parse_message('Error from server (NotFound): configmaps "x" not found')
    ('NotFound', 'configmaps "x" not found', {})
    >>> _parse_message('The ConfigMap "B_" is invalid: metadata.name: Invalid value: "B_"')[2]
    {'kind': 'ConfigMap', 'name': 'B_', 'causes': [{'field': 'metadata.name', 'message': 'Invalid value: "B_"'}]}
    """
    if match := _SERVER_ERROR.search(message):
        return match.group(1) or "", match.group(2), {}
    if match := _UNAUTHORIZED.search(message):
        return "Unauthorized", match.group(1), {}
    if match := _INVALID.search(message):
        kind, name, text = match.group(1), match.group(2), match.group(3) or ""
        # kubectl prints one cause after the colon, or several as "* field: message" lines (MultilineError).
        causes = [line.removeprefix("* ").partition(": ") for line in text.splitlines() if line.strip()]
        details: JSONObject = {"kind": kind, "name": name}
        details["causes"] = [{"field": field, "message": cause} for field, _, cause in causes]
        return "Invalid", message[match.start() :].removeprefix("The "), details
    return None, message, {}


def summary(message: str) -> str:
    r"""The last line of kubectl's message, which says what failed (at most 500 characters).

    >>> summary("I1207 round_trippers.go] GET ... 200 OK\nerror: unexpected EOF\n")
    'error: unexpected EOF'
    >>> summary("")
    'no message'
    """
    return message.strip().splitlines()[-1][:500] if message.strip() else "no message"


def transport_failure(returncode: int, message: str) -> TransportError:
    """Classify a kubectl failure that carries no server answer."""
    last = summary(message)
    if any(hint in message for hint in _TIMEOUT_HINTS):
        return TransportTimeout(f"kubectl timed out reaching the server: {last}")
    if any(hint in message for hint in _TLS_HINTS):
        return TLSError(f"kubectl could not verify the server: {last}")
    if any(hint in message for hint in _CONNECT_HINTS):
        return ConnectError(f"kubectl could not reach the server: {last}")
    return TransportError(f"kubectl exited with code {returncode} without a server response: {last}")


__all__ = [
    "JSON_HEADERS",
    "StderrDiagnosis",
    "diagnose",
    "finished_response",
    "response_code",
    "summary",
]
