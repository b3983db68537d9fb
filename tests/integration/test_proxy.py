"""The compose stack's proxy config (deploy/nginx/chat.conf) in a real nginx, in front of a
real API: a reply streams over a WebSocket through it, and the API's metrics stay private.

Only the upstream address and the listening port are changed, from Compose's names to this
machine's; everything else is the committed file. Skipped where nginx is not installed.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.services import free_port, wait_for_port
from tests.integration.chat_client import connect
from tests.stack import RunningStack

pytestmark = pytest.mark.integration

NGINX_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "chat.conf"


@pytest.fixture
def proxy(stack: RunningStack, tmp_path: Path) -> Iterator[str]:
    """nginx with the committed config, sending to the stack's API; yields its address."""
    nginx = shutil.which("nginx")
    if nginx is None:
        pytest.skip("nginx is not installed")
    port = free_port()
    config = NGINX_CONF.read_text()
    assert "http://api:8000;" in config and "listen 8000;" in config
    config = config.replace("http://api:8000;", f"http://127.0.0.1:{stack.api_port};")
    config = config.replace("listen 8000;", f"listen 127.0.0.1:{port};")
    (tmp_path / "chat.conf").write_text(config)
    # What the nginx image's own nginx.conf does around conf.d/*.conf, with paths of this test.
    temp_paths = "".join(
        f"  {kind}_temp_path {tmp_path}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"daemon off;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{\n  access_log off;\n{temp_paths}"
        f"  include {tmp_path}/chat.conf;\n}}\n"
    )
    process = subprocess.Popen(
        [nginx, "-p", f"{tmp_path}/", "-c", str(tmp_path / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port("127.0.0.1", port, process, 10, "nginx")
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_a_reply_streams_through_the_proxy(stack: RunningStack, proxy: str) -> None:
    # The page's origin: the API admits only its allowed origins, so the header must pass.
    origin = f"http://127.0.0.1:{stack.api_port}"
    async with connect(f"ws://{proxy}", "/api/ws/guide", origin=origin) as client:
        await client.recv_type("conversation_restored")
        reply = await client.turn("How do I get started?", "through-the-proxy")
    assert reply["message"]
    assert client.deltas(reply["message_id"]) == reply["message"]


async def test_the_proxy_serves_the_api_but_not_its_metrics(
    stack: RunningStack, proxy: str
) -> None:
    async with httpx.AsyncClient(base_url=f"http://{proxy}", timeout=10) as http:
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/metrics")).status_code == 404
    async with httpx.AsyncClient(timeout=10) as direct:
        # Prometheus, on the stack's own network, still reads each replica directly.
        assert (await direct.get(f"{stack.http_url}/metrics")).status_code == 200
