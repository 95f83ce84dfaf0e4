"""The JWKS fetch: the host checked is the host reached, a redirect is refused rather
than followed, loopback never goes through a proxy, and one wall-clock deadline bounds
everything."""

from __future__ import annotations

import http.server
import socket
import threading
import time

import pytest

from postgrest_stack import jwks
from tests import jwks_corpus
from tests.harness.auth0 import JWKS_PATH, MOVED_PATH, JwksEndpoint, Tenant


@pytest.fixture
def tenant():
    t = Tenant()
    t.add_key("k1", jwks_corpus.key("k1"))
    t.publish("k1")
    return t


@pytest.mark.parametrize("url", [
    # urlsplit sees 127.0.0.1, requests would connect to 127.0.0.2 (any other host in
    # real life: the tests send nothing off this machine).
    "http://127.0.0.2:48123\\@127.0.0.1/jwks.json",
    "http://user@127.0.0.1:48123/jwks.json",
])
def test_urls_that_parse_two_ways_or_carry_credentials_are_refused(url):
    with pytest.raises(jwks.JwksError) as error:
        jwks.read_source(url, deadline_seconds=1)
    assert str(error.value).startswith(url)
    assert "backslash" in str(error.value) or "credentials" in str(error.value)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_a_valid_jwks_is_refused_not_followed(tenant, status):
    """The checks (https, loopback-only http, no credentials) hold for the URL given: a
    redirect would lead anywhere, so it is refused, however valid the set it points at."""
    with JwksEndpoint(tenant) as endpoint:
        endpoint.behaviour.redirect_status = status
        with pytest.raises(jwks.JwksError) as error:
            jwks.fetch(endpoint.url, deadline_seconds=5)
        assert endpoint.behaviour.moved_requests == 0
        # Where it points is a valid JWKS: the redirect alone was refused.
        assert jwks.fetch(endpoint.url.replace(JWKS_PATH, MOVED_PATH), deadline_seconds=5).kids
    assert str(error.value) == f"{endpoint.url}: HTTP {status}, expected 200"


class _CountingProxy(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self):  # noqa: N802
        type(self).seen.append(self.path)
        self.send_error(502)

    def log_message(self, *args):
        pass


def test_loopback_fetch_never_goes_through_a_proxy(tenant, monkeypatch):
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingProxy)
    threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    address = f"http://127.0.0.1:{proxy.server_address[1]}"
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, address)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        with JwksEndpoint(tenant) as endpoint:
            assert jwks.fetch(endpoint.url, deadline_seconds=5).kids
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert _CountingProxy.seen == []


def _trickle_server(headers_first: bool):
    """A server that sends its answer one byte every 0.3 s (headers, or the body)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()
    body = b'{"keys": []}' * 20

    def serve():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nContent-Type: application/json\r\n\r\n".encode()
            slow, fast = (head, b"") if headers_first else (body, head)
            try:
                conn.recv(4096)
                conn.sendall(fast)
                for byte in slow:
                    if stop.is_set():
                        break
                    conn.sendall(bytes([byte]))
                    time.sleep(0.3)
            except OSError:
                pass
            finally:
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/jwks.json", stop, listener


@pytest.mark.parametrize("slow", ["headers", "body"])
def test_one_deadline_bounds_a_trickling_server(slow):
    url, stop, listener = _trickle_server(headers_first=slow == "headers")
    try:
        started = time.monotonic()
        with pytest.raises(jwks.JwksError) as error:
            jwks.read_source(url, deadline_seconds=1.5)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        listener.close()
    assert elapsed < 2.5, f"{slow}: gave up after {elapsed:.1f} s, deadline 1.5 s"
    assert "within 1.5 s" in str(error.value)
