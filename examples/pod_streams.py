"""Logs, exec and port-forward against a pod on a kwok node of a local control plane (``scripts/demo`` style).

Run: ``.venv/bin/python examples/pod_streams.py`` (builds the plane's binaries on first use).
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

from dynaclient import DynamicClient, ExecError, client_from_config, load_kubeconfig
from dynaclient.aio import AsyncDynamicClient
from dynaclient.testing import ControlPlane
from dynaclient.testing.kwok import write_container_log


def main() -> None:
    with ControlPlane(nodes=1) as plane, socket.create_server(("127.0.0.1", 0)) as upstream:
        client = DynamicClient.from_api_client(client_from_config(load_kubeconfig(plane.kubeconfig_path)))
        client.request("POST", "/api/v1/namespaces", body={"metadata": {"name": "demo"}})
        pods = client.resource("pods").namespace("demo")
        container = {"name": "main", "image": "registry.k8s.io/pause:3.10"}
        pods.create({"metadata": {"name": "web"}, "spec": {"nodeName": plane.node_names[0], "containers": [container]}})
        while pods.get("web").get("status", {}).get("phase") != "Running":
            time.sleep(0.05)
        log_file = plane.work_dir / "web.log"
        write_container_log(log_file, ["starting", "listening on :8080", "GET / 200"])
        plane.serve_pod_logs("demo", "web", log_file)
        plane.serve_pod_port_forward("demo", "web", {8080: upstream.getsockname()[1]})

        # Logs: an iterator of lines; bytes with .read() or .iter_bytes().
        for line in pods.logs("web", tail_lines=2):
            print("log:", line)

        # Exec: one call, (exit_code, stdout, stderr); a command that cannot start raises ExecError.
        exit_code, stdout, stderr = pods.exec("web", ["sh", "-c", "echo hello; echo oops >&2"])
        print("exec:", exit_code, stdout, stderr)
        print("exec with stdin:", pods.exec("web", ["head", "-c", "5"], stdin=b"abcdefgh").stdout)
        try:
            pods.exec("web", ["no-such-command"])
        except ExecError as error:
            print("exec failed:", error.status["reason"])

        # Port-forward: a local listener like `kubectl port-forward web :8080`.
        with pods.port_forward("web", [":8080"]) as forwarder:
            local = forwarder.ports[8080]
            print(f"forwarding 127.0.0.1:{local} -> web:8080")
            with socket.create_connection(("127.0.0.1", local)) as connection:
                served, _ = upstream.accept()
                connection.sendall(b"ping")
                print("the pod's port got:", served.recv(4))
                served.sendall(b"pong")
                print("the local client got:", connection.recv(4))
                served.close()

        asyncio.run(with_asyncio(plane.kubeconfig_path, upstream))


async def with_asyncio(kubeconfig: Path, upstream: socket.socket) -> None:
    """The same verbs on the asyncio client (extras ``async`` and ``streams``)."""
    async with AsyncDynamicClient.from_config(load_kubeconfig(kubeconfig)) as client:
        pods = (await client.resource("pods")).namespace("demo")
        async with await pods.logs("web", tail_lines=1) as log:
            async for line in log:
                print("async log:", line)
        print("async exec:", await pods.exec("web", ["echo", "hello"]))
        async with await pods.connect_port("web", 8080) as stream:
            await stream.sendall(b"ping")
            served, _ = await asyncio.to_thread(upstream.accept)
            print("async: the pod's port got:", await asyncio.to_thread(served.recv, 4))
            served.close()


if __name__ == "__main__":
    main()
