"""Over an http:// server no credential leaves the client, as with kubectl: the real server is reached through a
loopback recorder in front of ``kubectl proxy`` that keeps the headers of every request it forwards.

Before the fix the token (and an exec plugin's token) crossed the recorder in clear.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from dynaclient import DynamicClient, client_from_config, load_kubeconfig


class Recorder(http.server.ThreadingHTTPServer):
    """Forwards GETs to ``upstream`` and records each request's headers.

    Thread-safety: ``seen`` is appended by handler threads (list.append is atomic) and read after the requests.
    """

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream = upstream
        self.seen: list[dict[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(http.server.BaseHTTPRequestHandler):
    server: Recorder

    def do_GET(self) -> None:
        self.server.seen.append(dict(self.headers))
        answer = requests.get(self.server.upstream + self.path, timeout=10)
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recorder(kubectl_proxy: str) -> Iterator[Recorder]:
    server = Recorder(kubectl_proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("scheme", ["http://", ""], ids=["http", "no-scheme"])
@pytest.mark.parametrize("credential", ["token", "exec"])
def test_no_credential_is_sent_to_a_plain_http_server(
    recorder: Recorder, tmp_path: Path, scheme: str, credential: str
) -> None:
    marker = tmp_path / "plugin-ran"
    plugin = tmp_path / "plugin.sh"
    plugin.write_text(
        f'#!/bin/sh\ntouch {marker}\necho \'{{"apiVersion": "client.authentication.k8s.io/v1beta1", '
        '"kind": "ExecCredential", "status": {"token": "plugin-secret"}}\'\n'
    )
    plugin.chmod(0o755)
    user: dict[str, Any] = (
        {"token": "static-secret"}
        if credential == "token"
        else {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin)}}
    )
    server = scheme + recorder.url.removeprefix("http://")
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(kubeconfig))

    client = DynamicClient.from_api_client(client_from_config(load_kubeconfig(path)))

    assert client.resource("namespaces").get("default")["metadata"]["name"] == "default"
    assert recorder.seen  # the requests did go through the recorder
    assert [headers for headers in recorder.seen if "Authorization" in headers] == []
    assert not marker.exists()  # the exec plugin never ran
