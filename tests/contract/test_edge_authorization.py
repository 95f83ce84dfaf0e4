"""The rendered Caddyfile on the real Caddy 2.6.2, in front of a tiny local upstream.

PostgREST 12.0.2 verifies the first of two Authorization headers while the database sees
the last, so the edge refuses a request with more than one (400) before it reaches the
API. Caddy runs on loopback only (tests/harness/caddy.py), tls_mode = files with a
certificate from a CA this module makes; the upstream records what reaches it.
"""

from __future__ import annotations

import http.client
import http.server
import json
import threading

import pytest

from postgrest_stack import layout, render, settings
from tests.harness import caddy
from tests.harness.caddy import get_with_authorizations
from tests.harness.certificates import TestCA
from tests.harness.ports import free_port
from tests.unit.conftest import group_defaults

HOST = "api.example.com"
SECRETS = {"postgres_password": "p" * 20, "authenticator_password": "a" * 20}
BEARER = "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
BASIC = "Basic dXNlcjpwYXNz"


def edge_files(mode: str, ca: TestCA, **extra) -> dict[str, layout.RenderedFile]:
    given = {**group_defaults(), "auth0_domain": "tenant.eu.auth0.com", "jwt_audience": "https://api.example.com",
             "tls_mode": mode, "public_hostname": HOST, **extra}
    if mode == "acme":
        given.update(acme_email="ops@example.com", acme_ca=settings.LETS_ENCRYPT_STAGING)
    if mode == "files":
        issued = ca.issue(f"edge-{len(extra)}", (HOST,), with_chain=True)
        given.update(tls_cert_file=str(issued.cert_file), tls_key_file=str(issued.key_file))
    return render.render(settings.resolve(given), dict(SECRETS))


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return TestCA(tmp_path_factory.mktemp("edge-ca"))


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers 200 with the Authorization values it received, and keeps them."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        values = self.headers.get_all("Authorization") or []
        self.server.seen.append(values)
        body = json.dumps({"authorization": values}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def upstream():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Recorder)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def edge(ca, upstream, tmp_path_factory):
    """Caddy serving the rendered files-mode Caddyfile on loopback; yields its HTTPS port."""
    directory = tmp_path_factory.mktemp("edge")
    files = edge_files("files", ca)
    render.write_tree({name: f for name, f in files.items() if name.startswith("edge/")}, directory)
    http_port, https_port = free_port(), free_port()
    caddyfile = directory / "Caddyfile.local"
    caddyfile.write_text(caddy.local_caddyfile(files["edge/Caddyfile"].content.decode(),
                                               edge_dir=directory / "edge", http_port=http_port,
                                               https_port=https_port, upstream=f"127.0.0.1:{upstream.server_port}"))
    with caddy.CaddyProcess(caddyfile, wait_port=https_port):
        yield https_port


def get(port: int, ca: TestCA, authorization: list[str]) -> tuple[int, bytes]:
    """GET /todos over HTTPS (HTTP/1.1) with each value as its own Authorization header."""
    return get_with_authorizations("127.0.0.1", port, HOST, ca.pem_file, "/todos", authorization)


@pytest.mark.parametrize("authorization", [[], [BEARER], [BASIC]], ids=["none", "bearer", "basic"])
def test_one_authorization_header_reaches_the_api_unchanged(edge, ca, upstream, authorization):
    status, body = get(edge, ca, authorization)
    assert status == 200, body
    assert json.loads(body) == {"authorization": authorization}


@pytest.mark.parametrize("authorization", [[BEARER, BASIC], [BASIC, BEARER], [BEARER, BEARER], ["", BEARER]],
                         ids=["bearer-then-basic", "basic-then-bearer", "bearer-twice", "empty-then-bearer"])
def test_two_authorization_headers_are_refused_at_the_edge(edge, ca, upstream, authorization):
    before = len(upstream.seen)
    status, body = get(edge, ca, authorization)
    assert (status, body) == (400, b"one Authorization header at most")
    assert len(upstream.seen) == before  # never reached the API


@pytest.mark.parametrize("mode", ["acme", "files", "internal"])
@pytest.mark.parametrize("swagger", [False, True], ids=["api", "api+swagger"])
def test_each_rendered_caddyfile_adapts_with_the_refusal(mode, swagger, ca, tmp_path):
    """The exact rendered bytes of each tls_mode adapt on Caddy 2.6.2, and the API's route
    refuses several Authorization headers before the proxy (tests/e2e/test_tls_edge.py
    also validates them in the caddy:2.6.2 image)."""
    files = edge_files(mode, ca, swagger_enabled=swagger)
    path = tmp_path / "Caddyfile"
    path.write_bytes(files["edge/Caddyfile"].content)
    done = caddy.adapt(path)
    assert done.returncode == 0, done.stderr[-3000:]
    text = json.dumps(json.loads(done.stdout))
    refusal = ('{"handle": [{"body": "one Authorization header at most", "handler": "static_response", '
               '"status_code": 400}], "match": [{"expression": '
               '"{http.request.header.Authorization}.contains(\\",\\")"}]}')
    assert refusal in text
    assert text.index(refusal) < text.index('"handler": "reverse_proxy", "transport"')
