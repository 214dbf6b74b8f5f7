"""Private by default: `streamlit run app.py` as the README starts it, checked with plain HTTP requests.

The server listens on 127.0.0.1 only (.streamlit/config.toml), refuses the app's connection (the WebSocket
handshake) when the Host header names another host (DNS rebinding), and prints one local URL at start,
without asking an external "what is my IP" service.
"""
import base64
import http.client
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_browser import ROOT, _free_port, stop_app


@pytest.fixture(scope="module")
def server():
    """`streamlit run app.py --server.port N`: nothing else on the command line, so config.toml decides."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    yield port, proc
    stop_app(proc)


def handshake(port: int, host: str, origin: str) -> int:
    """The status of a WebSocket handshake on the app's stream, with the given Host and Origin headers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("GET", "/_stcore/stream", skip_host=True)
    for name, value in {"Host": host, "Origin": origin, "Upgrade": "websocket", "Connection": "Upgrade",
                        "Sec-WebSocket-Version": "13", "Sec-WebSocket-Protocol": "streamlit",
                        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()}.items():
        conn.putheader(name, value)
    conn.endheaders()
    status = conn.getresponse().status
    conn.close()
    return status


def listening(port: int) -> set[str]:
    """The local addresses of the sockets listening on `port` (Linux /proc/net/tcp and tcp6, hex)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_the_server_listens_on_localhost_only(server):
    port, _ = server
    if not os.path.exists("/proc/net/tcp"):
        pytest.skip("no /proc/net/tcp here")
    assert listening(port) == {"0100007F"}  # 127.0.0.1, and no 0.0.0.0 or :: socket


def test_a_foreign_host_header_is_refused_and_localhost_is_accepted(server):
    port, _ = server
    assert handshake(port, "evil.example", "http://evil.example") != 101
    assert handshake(port, f"evil.example:{port}", f"http://evil.example:{port}") != 101
    assert handshake(port, f"127.0.0.1:{port}", f"http://127.0.0.1:{port}") == 101
    assert handshake(port, f"localhost:{port}", f"http://localhost:{port}") == 101


def test_the_start_message_names_one_local_url_and_no_external_one(server):
    port, proc = server
    stop_app(proc)  # its output so far is complete once it has stopped
    text = proc.stdout.read().decode(errors="replace")
    assert f"http://127.0.0.1:{port}" in text and "External URL" not in text and "Network URL" not in text
