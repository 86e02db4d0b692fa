"""The HTTP transport without sockets: a response body read while another thread cancels the request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from dynaclient.exceptions import ConnectionLostError, RequestCancelled, TransportError
from dynaclient.request import Cancellation, Request, Response
from dynaclient.testing.certs import TinyCA
from dynaclient.transport._http_errors import translate
from dynaclient.transport.http import HTTPTransport
from dynaclient.watch.stream import Watch

FRAME = b'{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"7"}}}\n'


class ClosedUnderTheReader:
    """A urllib3 response body that, after one chunk, fails as http.client does when closed under its reader.

    ``during_read`` runs first: what another thread does while this one blocks in the read.

    Thread-safety: confined.
    """

    def __init__(self, during_read: Callable[[], None], error: Exception) -> None:
        self._during_read = during_read
        self._error = error

    def stream(self, amt: int | None = None, decode_content: bool = True) -> Iterator[bytes]:
        yield FRAME
        self._during_read()
        raise self._error

    def close(self) -> None:
        pass

    def release_conn(self) -> None:
        pass


def send(raw: ClosedUnderTheReader, cancellation: Cancellation, monkeypatch: pytest.MonkeyPatch) -> Response:
    transport = HTTPTransport("http://127.0.0.1:1")
    answer = requests.Response()
    answer.status_code, answer.raw = 200, raw

    def adapter_send(*args: Any, **kwargs: Any) -> requests.Response:
        return answer

    monkeypatch.setattr(transport._adapter, "send", adapter_send)
    path = "/api/v1/namespaces/default/configmaps"
    return transport.send(Request("GET", path, expect="stream", cancellation=cancellation))


READS_OF_A_CLOSED_RESPONSE = [
    pytest.param(AttributeError("'NoneType' object has no attribute 'read'"), id="file-gone"),
    pytest.param(ValueError("I/O operation on closed file."), id="file-closed"),
]


@pytest.mark.parametrize("error", READS_OF_A_CLOSED_RESPONSE)
def test_a_watch_closed_by_another_thread_during_a_read_ends_quietly(
    error: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    cancellation = Cancellation()
    watch: Watch | None = None

    def close_from_another_thread() -> None:
        assert watch is not None
        watch.close()

    watch = Watch(send(ClosedUnderTheReader(close_from_another_thread, error), cancellation, monkeypatch), cancellation)
    assert [event.object["metadata"]["name"] for event in watch] == ["a"]
    assert watch.closed


@pytest.mark.parametrize("error", READS_OF_A_CLOSED_RESPONSE)
def test_reading_a_cancelled_response_raises_request_cancelled(
    error: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    cancellation = Cancellation()
    chunks = send(ClosedUnderTheReader(cancellation.cancel, error), cancellation, monkeypatch).iter_chunks()
    assert next(chunks) == FRAME
    with pytest.raises(RequestCancelled) as raised:
        next(chunks)
    assert raised.value.__cause__ is error


def test_the_same_failure_without_a_cancellation_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    error = AttributeError("'NoneType' object has no attribute 'read'")
    cancellation = Cancellation()
    with pytest.raises(AttributeError):
        list(Watch(send(ClosedUnderTheReader(lambda: None, error), cancellation, monkeypatch), cancellation))


def test_a_broken_connection_is_still_a_transport_error(monkeypatch: pytest.MonkeyPatch) -> None:
    error = requests.exceptions.ConnectionError("connection reset")
    cancellation = Cancellation()
    with pytest.raises(TransportError, match="connection reset"):
        list(Watch(send(ClosedUnderTheReader(lambda: None, error), cancellation, monkeypatch), cancellation))


def test_a_watch_whose_connection_is_lost_mid_stream_ends_after_the_events_it_received(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A kube-apiserver restart cuts the stream mid-body; client-go's watch then ends as at a clean close.
    lost = requests.exceptions.ChunkedEncodingError("invalid literal for int() with base 16: b''")
    cancellation = Cancellation()
    watch = Watch(send(ClosedUnderTheReader(lambda: None, lost), cancellation, monkeypatch), cancellation)
    assert [event.object["metadata"]["name"] for event in watch] == ["a"]
    assert watch.resource_version == "7"
    assert not watch.closed


def test_a_connection_lost_mid_body_is_reported_in_plain_words() -> None:
    lost = requests.exceptions.ChunkedEncodingError("invalid literal for int() with base 16: b''")
    error = translate(lost, Request("GET", "/api/v1/pods", expect="stream"))
    assert type(error) is ConnectionLostError
    assert str(error) == "GET /api/v1/pods: the connection was lost in the middle of the response"


def test_a_socks5_proxy_without_the_socks_extra_is_a_config_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from dynaclient.exceptions import ConfigError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "socks" else real(name, *a))

    with pytest.raises(ConfigError, match=r"dynaclient\[socks\]"):
        HTTPTransport("https://127.0.0.1:6443", proxy_url="socks5://127.0.0.1:1080")
    monkeypatch.undo()
    transport = HTTPTransport("https://127.0.0.1:6443", proxy_url="socks5://127.0.0.1:1080")
    assert transport._proxies == {"http": "socks5h://127.0.0.1:1080", "https": "socks5h://127.0.0.1:1080"}


def sent(request: Request, monkeypatch: pytest.MonkeyPatch, **transport_options: Any) -> requests.PreparedRequest:
    """Return what the transport hands to requests' adapter for ``request``."""
    transport = HTTPTransport("http://127.0.0.1:1", **transport_options)
    prepared: list[requests.PreparedRequest] = []

    def adapter_send(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        prepared.append(request)
        answer = requests.Response()
        answer.status_code, answer.raw = 200, ClosedUnderTheReader(lambda: None, ValueError())
        return answer

    monkeypatch.setattr(transport._adapter, "send", adapter_send)
    transport.send(request).close()
    return prepared[0]


def test_a_request_is_sent_with_its_headers_body_and_length(monkeypatch: pytest.MonkeyPatch) -> None:
    request = Request(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/a",
        query=(("fieldManager", "me"),),
        body=b'{"data":{}}',
        content_type="application/merge-patch+json",
        headers={"Authorization": "Bearer t"},
    )
    prepared = sent(request, monkeypatch, disable_compression=True)
    assert prepared.method == "PATCH"
    assert prepared.url == "http://127.0.0.1:1/api/v1/namespaces/default/configmaps/a?fieldManager=me"
    assert prepared.body == b'{"data":{}}'
    headers = prepared.headers
    assert headers["Content-Type"] == "application/merge-patch+json"
    assert headers["Content-Length"] == "11"
    assert headers["Authorization"] == "Bearer t"
    assert headers["Accept"] == request.accept
    assert headers["Accept-Encoding"] == "identity"
    assert headers["User-Agent"].startswith("dynaclient/")


def test_a_write_without_a_body_says_so_and_a_read_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sent(Request("DELETE", "/api/v1/namespaces/a"), monkeypatch).headers["Content-Length"] == "0"
    assert "Content-Length" not in sent(Request("GET", "/api/v1/namespaces/a"), monkeypatch).headers


def test_query_values_and_unsafe_path_characters_are_escaped_as_requests_does(monkeypatch: pytest.MonkeyPatch) -> None:
    request = Request("GET", "/api/v1/pods x", query=(("labelSelector", "app in (a,b)"),))
    assert sent(request, monkeypatch).url == "http://127.0.0.1:1/api/v1/pods%20x?labelSelector=app+in+%28a%2Cb%29"


def test_the_pool_is_looked_up_again_only_for_a_new_context_or_after_close() -> None:
    certificate: list[tuple[bytes, bytes] | None] = [None]
    transport = HTTPTransport(
        "https://127.0.0.1:1", insecure_skip_tls_verify=True, client_certificate=lambda: certificate[0]
    )
    adapter = transport._adapter
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    get = transport._prepare(Request("GET", "/api/v1/pods"))
    patch = transport._prepare(Request("PATCH", "/api/v1/namespaces/a/pods/b", body=b"{}"))
    first = adapter.get_connection_with_tls_context(get, True)
    assert adapter.get_connection_with_tls_context(patch, True) is first
    transport.close()  # closes and forgets every pool; the transport still works afterwards
    second = adapter.get_connection_with_tls_context(get, True)
    assert second is not first
    issued = TinyCA("test-ca").issue("rotated")
    certificate[0] = (issued.cert_pem, issued.key_pem)
    third = adapter.get_connection_with_tls_context(get, True)
    assert third is not second
    assert getattr(third, "conn_kw", {})["ssl_context"] is not getattr(second, "conn_kw", {})["ssl_context"]
    transport.close()
