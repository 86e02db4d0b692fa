"""A transport that runs ``kubectl`` once per request, for machines where only kubectl can reach the cluster.

GET, POST, PUT and DELETE go through ``kubectl get|create|replace|delete --raw``; kubectl has no ``patch --raw``,
so PATCH becomes ``kubectl patch <resource>.<version>.<group> <name>``. What kubectl cannot carry raises
:class:`~dynaclient.exceptions.UnsupportedRequestError`: HEAD and OPTIONS, apply patches, extra headers, bodies that
are not JSON, and an ``Accept`` other than plain JSON (Table, PartialObjectMetadata, protobuf).

kubectl prints neither the status code nor the error Status, so every command runs with ``-v=6``: client-go
(``transport/round_trippers.go``) then logs each response's status line to stderr, and kubectl
(``pkg/cmd/util/helpers.go``, ``StandardErrorMessage``) dumps the Status as ``server response object: ...``. From
those the transport rebuilds the response: 201 for a create, and the exact Status of an error. When they are
missing it falls back to kubectl's ``Error from server (<Reason>): <message>`` line and the Status reason table.
Level 6 logs URLs and status lines only, never bodies or headers. Invalid errors come without the dump, so their
kind, name and causes are read back from kubectl's message.

Differences from HTTP: response headers are never known; ``kubectl patch`` reads the object before patching and
sends ``fieldManager=kubectl-patch`` unless a field manager is given; ``request.timeout`` bounds the whole command
(for a stream: the wait for the status line, then each read). Streaming and process-group kills need POSIX.
"""

from __future__ import annotations

import json
import logging
import os
import re
import selectors
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

from dynaclient._types import JSONObject
from dynaclient.exceptions import (
    ConnectError,
    TLSError,
    TransportError,
    TransportTimeout,
    UnsupportedRequestError,
)
from dynaclient.request import JSON_CONTENT_TYPE, Request, Response
from dynaclient.transport.base import BaseTransport

_log = logging.getLogger("dynaclient")

_JSON_HEADERS = {"content-type": JSON_CONTENT_TYPE}
_RAW_VERBS = {"GET": "get", "POST": "create", "PUT": "replace", "DELETE": "delete"}
_PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
}
# The patch travels on stdin so that it never shows in the process table; without /dev/stdin it goes in ``-p``.
_PATCH_FROM_STDIN = os.path.exists("/dev/stdin")
# apiserver pkg/endpoints/request/requestinfo.go: namespaces/<name>/{status,finalize} are namespace subresources.
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_SECRET_FLAGS = frozenset({"-p", "--patch", "--token", "--password"})

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


class KubectlRawTransport(BaseTransport):
    """Sends each request by running ``kubectl`` with ``--raw`` (or ``patch``), never through a shell.

    Non-2xx answers come back as responses whose body is the server's Status (rebuilt from kubectl's stderr).
    Responses carry no headers but ``content-type``.

    Thread-safety: thread-safe; every request runs its own subprocess.
    """

    name = "kubectl-raw"

    def __init__(
        self,
        kubectl: str | None = None,
        *,
        kubeconfig: str | os.PathLike[str] | None = None,
        context: str | None = None,
        extra_args: Sequence[str] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Configure the kubectl command line.

        Args:
            kubectl: the executable; defaults to the ``KUBECTL`` environment variable, else ``kubectl`` on PATH.
            kubeconfig: passed as ``--kubeconfig``.
            context: passed as ``--context``.
            extra_args: further global flags (``--as=alice``); ``-v`` is always overridden with ``-v=6``.
            clock: monotonic seconds, for the durations logged.
        """
        self.kubectl = kubectl or os.environ.get("KUBECTL") or "kubectl"
        prefix = [self.kubectl]
        if kubeconfig is not None:
            prefix.append(f"--kubeconfig={os.fspath(kubeconfig)}")
        if context is not None:
            prefix.append(f"--context={context}")
        self._prefix = (*prefix, *extra_args, "-v=6")
        self._clock = clock

    def send(self, request: Request) -> Response:
        """Run kubectl for ``request``; a stream returns once kubectl has the response status.

        Raises:
            UnsupportedRequestError: kubectl cannot carry the request.
            ConnectError: kubectl is missing or could not reach the server.
            TLSError: kubectl rejected the server's certificate.
            TransportTimeout: kubectl did not finish (or, streaming, produce a line) within ``request.timeout``.
            RequestCancelled: ``request.cancellation`` was cancelled.
            TransportError: kubectl failed without a response from the server.
        """
        argv, stdin = _command(request, self._prefix)
        if request.cancellation is not None:
            request.cancellation.raise_if_cancelled()
        run = _Run(argv, request, self._clock, has_stdin=stdin is not None)
        if request.expect == "stream":
            return run.open_stream()
        return run.complete(stdin)

    def __repr__(self) -> str:
        return f"<KubectlRawTransport {self.kubectl!r}>"


class _Run:
    """One kubectl subprocess, killed (with its process group) on cancellation, timeout or close.

    Thread-safety: confined, except :meth:`kill` and :meth:`close`, which any thread may call.
    """

    def __init__(self, argv: list[str], request: Request, clock: Callable[[], float], *, has_stdin: bool) -> None:
        self._request = request
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self._reading = self._closed = self._released = False  # guarded by _lock
        self._timed_out = threading.Event()
        self._stderr: _StderrCollector | None = None
        _log.debug("kubectl: %s", _loggable(argv))
        try:
            self._process = subprocess.Popen(  # an argv list, never a shell
                argv,
                stdin=subprocess.PIPE if has_stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=os.name == "posix",
            )
        except FileNotFoundError:
            raise ConnectError(f"kubectl executable {argv[0]!r} was not found") from None
        except PermissionError:
            raise ConnectError(f"kubectl executable {argv[0]!r} is not executable") from None
        cancellation = request.cancellation
        self._unregister = cancellation.on_cancel(self.kill) if cancellation is not None else _nothing

    def complete(self, stdin: bytes | None) -> Response:
        """Wait for kubectl to exit and build the response."""
        try:
            stdout, stderr = self._process.communicate(stdin, timeout=self._request.timeout)
        except subprocess.TimeoutExpired:
            self._timed_out.set()
            self.kill()
            self._process.communicate()
            stdout = stderr = b""
        finally:
            self._finish()
        self._raise_if_interrupted()
        return _response(self._process.returncode, stdout, stderr.decode(errors="replace"))

    def open_stream(self) -> Response:
        """Return a streaming response once kubectl logs the response status, or its result if it ends first."""
        self._stderr = stderr = _StderrCollector(_pipe(self._process.stderr))
        if not stderr.status_known.wait(self._request.timeout):
            self._expire()
        code = stderr.code
        if code is not None and 200 <= code < 300 and not self._timed_out.is_set():
            return Response(code, _JSON_HEADERS, self._stream_lines(), close=self.close)
        # An error status, or kubectl ended without one: it exits at once, so read its whole answer.
        stdout = _pipe(self._process.stdout).read()
        self._release()
        self._raise_if_interrupted()
        return _response(self._process.wait(), stdout, stderr.text())

    def _stream_lines(self) -> Iterator[bytes]:
        try:
            yield from self._read_chunks()
            returncode = self._process.wait()
            if self._is_closed():
                return
            self._raise_if_interrupted()
            if returncode != 0:
                raise _transport_failure(returncode, _diagnose(self._stderr.text() if self._stderr else "").message)
        finally:
            self._release()

    def _read_chunks(self) -> Iterator[bytes]:
        """Yield stdout as it arrives; kill kubectl when one read waits longer than the request timeout."""
        if not self._set_reading(True):
            return
        descriptor = _pipe(self._process.stdout).fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(descriptor, selectors.EVENT_READ)
            while True:
                chunk = os.read(descriptor, 65536) if selector.select(self._request.timeout) else None
                if not self._set_reading(False) or not chunk:
                    break
                yield chunk
                if not self._set_reading(True):
                    return
        if chunk is None and not self._is_closed():
            self._expire()

    def _set_reading(self, reading: bool) -> bool:
        """Mark a read of stdout as under way or over, so that close() knows whether it may release the pipes.

        Returns:
            Whether the response is still open.
        """
        with self._lock:
            self._reading = reading
            return not self._closed

    def _is_closed(self) -> bool:
        with self._lock:
            return self._closed

    def close(self) -> None:
        """Kill kubectl and release its pipes (now, or when the reading thread notices)."""
        with self._lock:
            self._closed = True
            reading = self._reading
        self.kill()
        if not reading:
            self._release()

    def kill(self) -> None:
        """Kill kubectl's process group (kubectl may be a dispatcher that runs the real kubectl as a child)."""
        if self._process.poll() is not None:
            return
        try:
            if os.name == "posix":
                os.killpg(self._process.pid, signal.SIGKILL)
            else:  # pragma: no cover - Windows has no process groups to kill
                self._process.kill()
        except ProcessLookupError:
            pass

    def _expire(self) -> None:
        self._timed_out.set()
        self.kill()

    def _release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self.kill()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()
        self._process.wait()
        if self._stderr is not None:
            self._stderr.text()
        self._finish()

    def _finish(self) -> None:
        self._unregister()
        elapsed = self._clock() - self._started
        _log.debug("kubectl exited with code %s after %.3fs", self._process.poll(), elapsed)

    def _raise_if_interrupted(self) -> None:
        if self._request.cancellation is not None:
            self._request.cancellation.raise_if_cancelled()
        if self._timed_out.is_set():
            raise TransportTimeout(f"kubectl did not answer within {self._request.timeout}s; it was killed")


class _StderrCollector:
    """Drains kubectl's stderr on a thread, so kubectl never blocks on it, and spots the response status line.

    Thread-safety: thread-safe; ``code`` is written before ``status_known`` is set.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._lines: list[str] = []
        self.code: int | None = None
        self.status_known = threading.Event()
        self._thread = threading.Thread(target=self._drain, args=(stream,), name="kubectl-stderr", daemon=True)
        self._thread.start()

    def _drain(self, stream: IO[bytes]) -> None:
        try:
            for raw in iter(stream.readline, b""):
                line = raw.decode(errors="replace")
                self._lines.append(line)
                code = _response_code(line)
                if code is not None and self.code is None:
                    self.code = code
                    self.status_known.set()
        finally:
            stream.close()
            self.status_known.set()

    def text(self) -> str:
        """Wait for stderr to end and return all of it."""
        self._thread.join()
        return "".join(self._lines)


def _command(request: Request, prefix: Sequence[str]) -> tuple[list[str], bytes | None]:
    """Return kubectl's argv and stdin for ``request``, or raise UnsupportedRequestError."""
    _check_carriable(request)
    if request.method == "PATCH":
        return _patch_command(request, prefix)
    verb = _RAW_VERBS.get(request.method)
    if verb is None:
        raise UnsupportedRequestError(f"kubectl cannot send {request.method} requests")
    if request.expect == "stream" and request.method != "GET":
        raise UnsupportedRequestError(f"kubectl can stream only GET responses, not {request.method}")
    content_type = request.effective_content_type
    if content_type is not None and not _is_json(content_type):
        # kubectl --raw sends bodies without a Content-Type, which the apiserver reads as JSON.
        raise UnsupportedRequestError(f"kubectl --raw sends only JSON bodies, not {content_type}")
    argv = [*prefix, verb, "--raw", request.url_path]
    if request.method in ("POST", "PUT") or request.body is not None:
        return [*argv, "-f", "-"], request.body or b""
    return argv, None


def _check_carriable(request: Request) -> None:
    if request.headers:
        names = ", ".join(sorted(request.headers))
        raise UnsupportedRequestError(f"kubectl cannot send extra headers ({names})")
    if not all(_is_json(media_range) for media_range in request.accept.split(",")):
        raise UnsupportedRequestError(f"kubectl only accepts plain JSON responses, not Accept: {request.accept}")


def _is_json(media_type: str) -> bool:
    """Tell whether a media type or range is plain JSON (``q`` and ``charset`` parameters allowed).

    >>> _is_json("application/json; charset=utf-8"), _is_json("application/json;as=Table;g=meta.k8s.io;v=v1")
    (True, False)
    """
    essence, *parameters = (part.strip() for part in media_type.split(";"))
    names = {parameter.split("=", 1)[0].strip().lower() for parameter in parameters}
    return essence.lower() in (JSON_CONTENT_TYPE, "*/*") and names <= {"q", "charset"}


@dataclass(frozen=True, slots=True)
class _ObjectPath:
    """An object's API path taken apart: ``/apis/<group>/<version>/namespaces/<ns>/<resource>/<name>/<sub>``.

    Thread-safety: immutable.
    """

    group: str
    version: str
    namespace: str | None
    resource: str
    name: str
    subresource: str | None

    @classmethod
    def parse(cls, path: str) -> _ObjectPath:
        """Split an object path like apiserver's ``RequestInfoFactory``; raise if it names no single object.

        >>> _ObjectPath.parse("/api/v1/namespaces/default/status")
        _ObjectPath(group='', version='v1', namespace=None, resource='namespaces', name='default', subresource='status')
        >>> _ObjectPath.parse("/apis/apps/v1/namespaces/ns/deployments/web/scale").subresource
        'scale'
        """
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise UnsupportedRequestError(f"kubectl patch needs an /api or /apis object path, not {path}")
        namespace = None
        if len(rest) > 2 and rest[0] == "namespaces" and rest[2] not in _NAMESPACE_SUBRESOURCES:
            namespace, rest = rest[1], rest[2:]
        if len(rest) not in (2, 3) or not all(rest):
            raise UnsupportedRequestError(f"kubectl patch needs the path of one object, not {path}")
        return cls(group, version, namespace, rest[0], rest[1], rest[2] if len(rest) == 3 else None)


def _patch_command(request: Request, prefix: Sequence[str]) -> tuple[list[str], bytes | None]:
    content_type = (request.effective_content_type or "").split(";")[0].strip().lower()
    patch_type = _PATCH_TYPES.get(content_type)
    if patch_type is None:
        raise UnsupportedRequestError(f"kubectl patch cannot send patches of type {content_type or '(none)'}")
    body = request.body or b""
    try:
        json.loads(body)
    except ValueError:
        raise UnsupportedRequestError("kubectl patch needs a JSON patch body; the body is not JSON") from None
    target = _ObjectPath.parse(request.path)
    argv = [*prefix, "patch", f"{target.resource}.{target.version}.{target.group}", target.name]
    if target.namespace is not None:
        argv += ["-n", target.namespace]
    argv.append(f"--type={patch_type}")
    argv += ["--patch-file=/dev/stdin"] if _PATCH_FROM_STDIN else ["-p", body.decode()]
    if target.subresource is not None:
        argv.append(f"--subresource={target.subresource}")
    for name, value in request.query:
        if name == "dryRun" and value == "All":
            argv.append("--dry-run=server")
        elif name == "fieldManager":
            argv.append(f"--field-manager={value}")
        else:
            raise UnsupportedRequestError(f"kubectl patch cannot send the query parameter {name}={value}")
    # kubectl hides managedFields when it prints an object; the server's answer has them.
    return [*argv, "--show-managed-fields", "-o", "json"], body if _PATCH_FROM_STDIN else None


def _loggable(argv: Sequence[str]) -> str:
    """Join argv for a log line, hiding the patch given with ``-p`` and credentials given in ``extra_args``.

    >>> _loggable(["kubectl", "--token=abc", "--password", "pw", "patch", "cm", "x", "-p", '{"data": 1}'])
    "kubectl '--token=<hidden>' --password '<hidden>' patch cm x -p '<hidden>'"
    """
    hidden = []
    for previous, arg in zip(["", *argv], argv, strict=False):
        flag = arg.split("=", 1)[0]
        if previous in _SECRET_FLAGS:
            arg = "<hidden>"
        elif flag in _SECRET_FLAGS and "=" in arg:
            arg = f"{flag}=<hidden>"
        hidden.append(arg)
    return shlex.join(hidden)


@dataclass(frozen=True, slots=True)
class _Diagnosis:
    """What kubectl's stderr says: the last response status code, the Status dump, and its own message.

    Thread-safety: immutable.
    """

    code: int | None
    status: JSONObject | None
    message: str


def _response_code(line: str) -> int | None:
    for pattern in _RESPONSE_LINES:
        match = pattern.search(line)
        if match:
            return int(match.group(1))
    return None


def _diagnose(stderr: str) -> _Diagnosis:
    r"""Split kubectl's stderr into the response code, the dumped Status and kubectl's own message.

    >>> _diagnose('WARNING: version skew\n'
    ...           'I1121 04:41:47.735658   17 r.go:560] GET https://h/a 404 Not Found in 2 milliseconds\n'
    ...           'Error from server (NotFound): a not found\n')
    _Diagnosis(code=404, status=None, message='Error from server (NotFound): a not found')
    """
    status: JSONObject | None = None
    start = stderr.find(_STATUS_DUMP)
    if start >= 0:
        try:
            decoded, end = json.JSONDecoder().raw_decode(stderr, start + len(_STATUS_DUMP))
        except ValueError:
            decoded, end = None, start
        if isinstance(decoded, dict):
            status = decoded
            stderr = stderr[: stderr.rfind("\n", 0, start) + 1] + stderr[end:].removeprefix("]")
    code = None
    message_lines = []
    for line in stderr.splitlines():
        if _KLOG_LINE.match(line):
            code = _response_code(line) or code
        elif line.strip() and not line.startswith(("WARNING:", "Warning:")):
            message_lines.append(line.rstrip())
    return _Diagnosis(code, status, "\n".join(message_lines))


def _response(returncode: int, stdout: bytes, stderr: str) -> Response:
    """Build the response for a finished kubectl, or raise when no server answered."""
    diagnosis = _diagnose(stderr)
    if returncode == 0:
        code = diagnosis.code if diagnosis.code is not None and 200 <= diagnosis.code < 300 else 200
        return Response.from_bytes(code, stdout, _JSON_HEADERS)
    status = _error_status(diagnosis)
    if status is None:
        raise _transport_failure(returncode, diagnosis.message)
    body = json.dumps(status, separators=(",", ":")).encode()
    return Response.from_bytes(int(status["code"]), body, _JSON_HEADERS)


def _error_status(diagnosis: _Diagnosis) -> JSONObject | None:
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


def _transport_failure(returncode: int, message: str) -> TransportError:
    """Classify a kubectl failure that carries no server answer."""
    summary = message.strip().splitlines()[-1][:500] if message.strip() else "no message"
    if any(hint in message for hint in _TIMEOUT_HINTS):
        return TransportTimeout(f"kubectl timed out reaching the server: {summary}")
    if any(hint in message for hint in _TLS_HINTS):
        return TLSError(f"kubectl could not verify the server: {summary}")
    if any(hint in message for hint in _CONNECT_HINTS):
        return ConnectError(f"kubectl could not reach the server: {summary}")
    return TransportError(f"kubectl exited with code {returncode} without a server response: {summary}")


def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
    assert stream is not None, "kubectl was started with this pipe"
    return stream


def _nothing() -> None:
    return None


__all__ = ["KubectlRawTransport"]
