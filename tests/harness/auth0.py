"""A local stand-in for an Auth0 tenant: the one fake the tests allow.

It publishes an Auth0-shaped JWKS (``kty, use, n, e, kid, x5t, x5c, alg``) at
``/.well-known/jwks.json`` over HTTP on loopback (or HTTPS with a self-signed
certificate), signs tokens with its keys, and can be told to misbehave (any status,
any body, stall, a redirect to a valid JWKS elsewhere) to exercise the JWKS guard.
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from postgrest_stack import signing_keys

JWKS_PATH = "/.well-known/jwks.json"
#: Where a redirect points: the tenant's valid JWKS, always served there.
MOVED_PATH = "/moved/jwks.json"


@dataclass
class Behaviour:
    status: int = 200
    body: bytes | None = None  # None: the JWKS of the published keys
    stall_seconds: float = 0.0
    content_type: str = "application/json"
    requests: int = 0
    #: 301, 302, 307, ...: JWKS_PATH answers this with a Location of MOVED_PATH.
    redirect_status: int | None = None
    #: Requests that reached MOVED_PATH (a client that followed the redirect).
    moved_requests: int = 0


@dataclass
class Tenant:
    """Signing keys plus the JWKS published for them."""

    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    pem_dir: Path | None = None
    # One certificate per key, so the published bytes are stable between requests.
    _jwk: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def with_keys(cls, names: tuple[str, ...], published: tuple[str, ...]) -> "Tenant":
        """A tenant holding a fresh key per name and publishing ``published``."""
        tenant = cls()
        for name in names:
            tenant.add_key(name)
        tenant.publish(*published)
        return tenant

    def add_key(self, name: str, key: rsa.RSAPrivateKey | None = None) -> rsa.RSAPrivateKey:
        self.keys[name] = key or signing_keys.generate_key()
        self._jwk[name] = signing_keys.public_jwk(self.keys[name])
        return self.keys[name]

    def publish(self, *names: str) -> None:
        self.published = list(names)

    def jwks(self) -> bytes:
        return json.dumps({"keys": [self._jwk[n] for n in self.published]}, indent=2).encode() + b"\n"

    def write_pems(self, directory: Path) -> "Tenant":
        """Write each private key as ``<name>.pem`` (for a smoke-token command); returns self."""
        self.pem_dir = directory
        for name, key in self.keys.items():
            (directory / f"{name}.pem").write_bytes(signing_keys.private_pem(key))
        return self

    def smoke_command(self, key_name: str, *, audience: str, issuer: str) -> str:
        """A `smoke_token_command` that prints a fresh token signed with ``key_name``."""
        return (f"{sys.executable} -m tests.e2e.mint_token --key {self.pem_dir / (key_name + '.pem')} "
                f"--audience {audience} --issuer {issuer}")

    def key_file(self) -> bytes:
        """The canonical key file a deploy pushes for the published keys."""
        from postgrest_stack import jwks

        return jwks.validate(self.jwks(), "tenant").canonical

    def token(self, key_name: str, **kwargs) -> str:
        return signing_keys.mint_token(self.keys[key_name], **kwargs)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: "_Server"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        behaviour = self.server.behaviour
        behaviour.requests += 1
        if behaviour.stall_seconds:
            time.sleep(behaviour.stall_seconds)
        if self.path == MOVED_PATH:
            behaviour.moved_requests += 1
            self._answer(200, self.server.tenant.jwks(), "application/json")
            return
        if self.path != JWKS_PATH:
            self.send_error(404)
            return
        if behaviour.redirect_status is not None:
            self.send_response(behaviour.redirect_status)
            self.send_header("Location", f"{self.server.scheme}://{self.headers['Host']}{MOVED_PATH}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = behaviour.body if behaviour.body is not None else self.server.tenant.jwks()
        self._answer(behaviour.status, body, behaviour.content_type)

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the stall tests want exactly that)

    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    behaviour: Behaviour
    tenant: Tenant
    scheme: str = "http"


class JwksEndpoint:
    """``with JwksEndpoint(tenant) as endpoint: endpoint.url`` serves the tenant's JWKS."""

    def __init__(self, tenant: Tenant, *, tls_dir: Path | None = None):
        self.tenant = tenant
        self.behaviour = Behaviour()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.behaviour = self.behaviour
        self._server.tenant = tenant
        self.scheme = "http"
        if tls_dir is not None:
            self._wrap_tls(tls_dir)
        # A short poll interval makes shutdown quick (the default waits up to 0.5 s).
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def _wrap_tls(self, tls_dir: Path) -> None:
        key = signing_keys.generate_key()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256())
        )
        cert_path, key_path = tls_dir / "tls.crt", tls_dir / "tls.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(signing_keys.private_pem(key))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.scheme = self._server.scheme = "https"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}{JWKS_PATH}"

    def __enter__(self) -> "JwksEndpoint":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
