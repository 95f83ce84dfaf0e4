"""HTTPS in front of PostgREST: the Caddy edge (tls_mode) deployed over SSH on real Docker.

``files``: a certificate from a CA this module makes, a token round trip over HTTPS
verified against that CA, the plain-HTTP redirect, HSTS, TLS 1.0/1.1 refused, Swagger
UI under /docs/, what listens where (docker inspect and ``ss -ltn``), a no-change rerun,
a renewed certificate and a key rotation under a client loop with no failed request, a
Caddyfile change reloaded in place, refused certificates stopping before any host.
``internal``: Caddy's own CA serves HTTPS, and its CA and certificate survive a
recreated edge container (the /data volume). ``acme`` cannot reach an ACME server here:
its Caddyfile is pinned in tests/unit/test_edge.py and adapted and validated below by
the real Caddy 2.6.2.

Targets share this machine's Docker engine: each has its own ports, and the edge is
published on 127.0.0.2 so that "only the edge beyond 127.0.0.1" can be seen.
A scenario per target: the tests run in file order and build on each other.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import socket
import ssl
import stat
import subprocess
import tarfile
from pathlib import Path

import docker
import pytest
import requests
from cryptography import x509
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from postgrest_stack import render, settings
from tests.e2e.harness import Target, bearer, run_pyinfra, run_status, stand_in_backup
from tests.harness.auth0 import Tenant
from tests.harness.caddy import get_with_authorizations
from tests.harness.certificates import TestCA
from tests.harness.load import RequestLoop
from tests.harness.ports import free_port
from tests.unit.conftest import group_defaults

CADDY_IMAGE = "caddy:2.6.2"
EDGE_BIND = "127.0.0.2"
FILES_HOST = "api.tls-files.test"
INTERNAL_HOST = "api.tls-internal.test"
ISSUER = "https://tenant.eu.auth0.com/"
AUDIENCE = "https://api.example.com"
ROLE_CLAIM = "https://postgrest-demo.de/role"
REQUESTS_AT_LEAST = 300


@pytest.fixture(scope="module", autouse=True)
def caddy_image(docker_engine):
    assert docker_engine.images.list(name=CADDY_IMAGE), f"image {CADDY_IMAGE} is missing: run `make images`"


@pytest.fixture(scope="module", autouse=True)
def test_names_resolve_to_the_edge():
    """The public names resolve to the edge's address, for this process's clients only
    (the hosts' own checks use curl --resolve)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host in (FILES_HOST, INTERNAL_HOST):
            host = EDGE_BIND
        return real(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        yield


@pytest.fixture(scope="module")
def tenant():
    return Tenant.with_keys(("k1", "k2", "k3"), published=("k1", "k2"))


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return TestCA(tmp_path_factory.mktemp("tls-ca"))


def edge_target(name: str, jwks_url: str, **data) -> Target:
    t = Target.create(name, jwks_url)
    t.data.update(edge_bind=EDGE_BIND, edge_http_port=free_port(EDGE_BIND), edge_https_port=free_port(EDGE_BIND),
                  **data)
    return t


@pytest.fixture(scope="module")
def target(endpoint, ca):
    issued = ca.issue("first", (FILES_HOST,), with_chain=True)
    controller = ca.directory / "controller"
    controller.mkdir()
    cert_file, key_file = controller / "api.crt", controller / "api.key"
    cert_file.write_bytes(issued.cert_file.read_bytes())
    key_file.write_bytes(issued.key_file.read_bytes())
    t = edge_target("tls-files", endpoint.url, tls_mode="files", public_hostname=FILES_HOST,
                    tls_cert_file=str(cert_file), tls_key_file=str(key_file), swagger_enabled=True)
    t.issued = issued
    yield t
    t.destroy()


def origin(t: Target) -> str:
    return f"https://{t.data['public_hostname']}:{t.data['edge_https_port']}"


def token(tenant, key="k1"):
    return tenant.token(key, audience=AUDIENCE, issuer=ISSUER, role_claim=ROLE_CLAIM, role="api_user")


def served_certificate(t: Target, ca_file=None) -> x509.Certificate:
    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else ssl._create_unverified_context()
    with socket.create_connection((EDGE_BIND, t.data["edge_https_port"]), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=t.data["public_hostname"]) as tls:
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


class ReloadLoops:
    """Two client loops across an edge reload, counted as bench/rotation_bench.py counts:

    - ``fresh``: a new connection (and TLS handshake) per request: the listening socket
      must never refuse or fail one, and handshakes after the reload get the new certificate;
    - ``kept``: keep-alive connections, each idempotent GET retried once when the server
      closed the reused connection under it, as browsers and curl do (RFC 9112, 9.3.1):
      `caddy reload` closes idle keep-alive connections. ``retried`` lists those retries.
    """

    def __init__(self, t: Target, headers: dict, ca):
        self.retried: list[str] = []
        retried = self.retried

        class Recorded(Retry):
            def increment(self, *args, **kwargs):
                retried.append(repr(kwargs.get("error"))[:160])
                return super().increment(*args, **kwargs)

        def browser_like() -> requests.Session:
            session = requests.Session()
            session.mount("https://", HTTPAdapter(max_retries=Recorded(
                total=1, connect=1, read=1, status=0, redirect=0, other=0, allowed_methods={"GET"})))
            return session

        url = f"{origin(t)}/todos"
        self.fresh = RequestLoop([url], {**headers, "Connection": "close"}, at_least=REQUESTS_AT_LEAST,
                                 verify=str(ca.pem_file))
        self.kept = RequestLoop([url], headers, at_least=REQUESTS_AT_LEAST, verify=str(ca.pem_file),
                                session=browser_like)

    def __enter__(self) -> "ReloadLoops":
        self.fresh.__enter__()
        self.kept.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.fresh.__exit__(*exc)
        self.kept.__exit__(*exc)

    def check(self) -> None:
        for loop in (self.fresh, self.kept):
            assert len(loop.answers) >= REQUESTS_AT_LEAST and loop.failures() == []
        print(f"edge reload: {len(self.fresh.answers)} requests on fresh connections, {len(self.kept.answers)} on "
              f"kept ones ({len(self.retried)} retried on a closed connection), none failed")


def replace(path, content: bytes) -> None:
    """Replace a controller file atomically, as an operator's renewal tool would."""
    staging = path.with_name(f".{path.name}.new")
    staging.write_bytes(content)
    os.chmod(staging, 0o600)
    os.replace(staging, path)


# --- tls_mode = files ---------------------------------------------------------------------


def test_first_deploy_serves_the_api_over_https(target, tenant, ca):
    run = target.deploy().check()
    assert {"PostgREST stack | Bring the stack up (compose up -d)", "PostgREST stack | Health gate"} <= set(run.changed)
    assert set(target.containers()) == {"db", "postgrest", "swagger", "edge"}
    # A token round trip over HTTPS, the certificate verified against the test's CA.
    created = requests.post(f"{origin(target)}/todos", json={"task": "over https"}, headers=bearer(token(tenant)),
                            verify=str(ca.pem_file), timeout=10)
    assert created.status_code == 201, created.text
    listed = requests.get(f"{origin(target)}/todos", verify=str(ca.pem_file), timeout=10)
    assert [row["task"] for row in listed.json()] == ["over https"]
    assert listed.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert requests.post(f"{origin(target)}/todos", json={"task": "anonymous"}, verify=str(ca.pem_file),
                         timeout=10).status_code == 401
    assert served_certificate(target, ca.pem_file).serial_number == target.issued.serial
    # PostgREST's OpenAPI names the public HTTPS origin.
    openapi = requests.get(f"{origin(target)}/", verify=str(ca.pem_file), timeout=10).json()
    assert openapi["host"] == f"{FILES_HOST}:{target.data['edge_https_port']}"
    assert openapi["schemes"] == ["https"]


def test_plain_http_answers_a_redirect_to_https(target):
    answer = requests.get(f"http://{FILES_HOST}:{target.data['edge_http_port']}/todos?select=task", timeout=10,
                          allow_redirects=False)
    assert answer.status_code == 308
    assert answer.headers["Location"] == f"{origin(target)}/todos?select=task"


def raw_get(t: Target, ca, authorization: list[str]) -> tuple[int, bytes]:
    """GET /todos over HTTPS with each value as its own Authorization header."""
    return get_with_authorizations(EDGE_BIND, t.data["edge_https_port"], t.data["public_hostname"], ca.pem_file,
                                   "/todos", authorization)


def test_two_authorization_headers_are_refused_by_the_edge(target, tenant, ca):
    """PostgREST 12.0.2 verifies the first of two Authorization headers, the database sees
    the last: the edge lets neither order through."""
    good = f"Bearer {token(tenant)}"
    weak = "Bearer " + tenant.token("k1", audience=None, issuer="https://evil.example.com/", role_claim=ROLE_CLAIM,
                                    role="api_user", ttl_seconds=None)
    assert raw_get(target, ca, [good])[0] == 200
    assert raw_get(target, ca, [weak])[0] == 401  # the database guard, alone
    for pair in ([weak, "Basic x"], ["Basic x", weak], [good, good]):
        assert raw_get(target, ca, pair) == (400, b"one Authorization header at most")


def handshake(t: Target, ca, version: ssl.TLSVersion) -> str:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(str(ca.pem_file))
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let OpenSSL offer the old versions at all
    context.minimum_version = context.maximum_version = version
    with socket.create_connection((EDGE_BIND, t.data["edge_https_port"]), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=FILES_HOST) as tls:
            return tls.version()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_1_0_and_1_1_are_refused(target, ca):
    assert handshake(target, ca, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    assert handshake(target, ca, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
    for old in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        with pytest.raises(ssl.SSLError, match="PROTOCOL_VERSION|protocol version"):
            handshake(target, ca, old)


def test_swagger_ui_is_served_by_the_edge_under_docs(target, ca):
    moved = requests.get(f"{origin(target)}/docs", verify=str(ca.pem_file), timeout=10, allow_redirects=False)
    assert moved.status_code == 308 and moved.headers["Location"] == "/docs/"
    page = requests.get(f"{origin(target)}/docs/", verify=str(ca.pem_file), timeout=10)
    assert page.status_code == 200 and "swagger-ui" in page.text
    initializer = requests.get(f"{origin(target)}/docs/swagger-initializer.js", verify=str(ca.pem_file), timeout=10)
    assert f'url: "{origin(target)}"' in initializer.text


def test_only_the_edge_listens_beyond_loopback(target):
    client = docker.from_env()
    published = {}
    for service, (container_id, _started) in target.containers().items():
        ports = client.containers.get(container_id).attrs["NetworkSettings"]["Ports"] or {}
        published[service] = sorted((port, b["HostIp"], int(b["HostPort"]))
                                    for port, bindings in ports.items() for b in bindings or [])
    d = target.data
    assert published == {
        "edge": [("443/tcp", EDGE_BIND, d["edge_https_port"]), ("80/tcp", EDGE_BIND, d["edge_http_port"])],
        "postgrest": [("3000/tcp", "127.0.0.1", d["postgrest_port"]), ("3001/tcp", "127.0.0.1",
                                                                      d["postgrest_admin_port"])],
        "db": [("5432/tcp", "127.0.0.1", d["db_port"])],
        "swagger": [],
    }
    # What the kernel says: each of the stack's ports listens on exactly one address.
    listening = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, check=True).stdout.split("\n")
    ours = {d["edge_http_port"]: EDGE_BIND, d["edge_https_port"]: EDGE_BIND, d["postgrest_port"]: "127.0.0.1",
            d["postgrest_admin_port"]: "127.0.0.1", d["db_port"]: "127.0.0.1"}
    seen: dict[int, set[str]] = {port: set() for port in ours}
    for line in filter(None, listening):
        address, _, port = line.split()[3].rpartition(":")
        if port.isdigit() and int(port) in seen:
            seen[int(port)].add(address.strip("[]"))
    assert seen == {port: {address} for port, address in ours.items()}


def test_certificate_and_key_are_0600_root(target):
    app = target.app_dir
    for relative, mode in (("edge", 0o700), ("edge/tls", 0o700), ("edge/Caddyfile", 0o600),
                           ("edge/tls/cert.pem", 0o600), ("edge/tls/key.pem", 0o600)):
        info = os.stat(app / relative)
        assert (stat.S_IMODE(info.st_mode), info.st_uid) == (mode, 0), relative


def test_rerun_changes_nothing(target):
    before = target.containers()
    run = target.deploy().check()
    assert run.changed == [], run.output[-3000:]
    assert target.containers() == before


def test_status_sees_the_edge_and_its_files_match(target):
    stand_in_backup(target)  # a db host without a recent backup is drift (tests/e2e/test_backup.py)
    report = run_status([target])
    assert report.returncode == 0, report.output[-3000:]
    assert re.search(r"^\s+edge\s+caddy:2\.6\.2\s+sha256:[0-9a-f]{12}\s+running", report.output, flags=re.M), report.output
    # A hand edit of the Caddyfile is drift, named, and put back by the next deploy.
    caddyfile = target.app_dir / "edge/Caddyfile"
    original = caddyfile.read_bytes()
    caddyfile.write_bytes(original + b"# hand edit\n")
    try:
        drifted = run_status([target])
        assert drifted.returncode == 1 and "drift: file edge/Caddyfile: content differs from render" in drifted.output
    finally:
        caddyfile.write_bytes(original)


def test_a_key_that_is_not_the_certificates_stops_before_any_host(target, ca):
    other = ca.issue("stranger", (FILES_HOST,))
    before = (target.app_dir / "edge/tls/key.pem").read_bytes()
    run = target.deploy(tls_key_file=str(other.key_file))
    assert run.returncode != 0
    lines = [line for line in run.output.splitlines() if "tls_key_file" in line]
    assert lines and all("setting 'tls_key_file' does not match 'tls_cert_file'" in line for line in lines)
    assert "Beginning operation run" not in run.output
    assert (target.app_dir / "edge/tls/key.pem").read_bytes() == before


def test_a_certificate_expiring_within_14_days_stops_before_any_host(target, ca):
    short = ca.issue("short", (FILES_HOST,), days=10)
    run = target.deploy(tls_cert_file=str(short.cert_file), tls_key_file=str(short.key_file))
    assert run.returncode != 0
    assert "setting 'tls_cert_file' expires on " in run.output and "within 14 days" in run.output
    assert "Beginning operation run" not in run.output
    assert served_certificate(target).serial_number == target.issued.serial


def test_renewed_certificate_is_pushed_and_reloaded_with_no_failed_request(target, tenant, ca):
    renewed = ca.issue("renewed", (FILES_HOST,), with_chain=True)
    replace(Path(target.data["tls_cert_file"]), renewed.cert_file.read_bytes())
    replace(Path(target.data["tls_key_file"]), renewed.key_file.read_bytes())
    # --diff at -vvv names the key file and never shows it (nor its plain digest).
    preview = target.deploy("--dry", "--diff", "-vvv").check()
    key_path = target.app_dir / "edge/tls/key.pem"
    assert f"Will modify {key_path} (holds secrets: content not shown)" in preview.output
    new_key = render.render(settings.resolve({**group_defaults(), **target.data}), {
        "postgres_password": target.secrets["STACK_POSTGRES_PASSWORD"],
        "authenticator_password": target.secrets["STACK_AUTHENTICATOR_PASSWORD"]})["edge/tls/key.pem"].content
    for secret in (new_key.decode().strip(), renewed.key_file.read_text().strip(),
                   hashlib.sha256(new_key).hexdigest(), hashlib.sha256(key_path.read_bytes()).hexdigest()):
        assert secret not in preview.output
    for line in renewed.key_file.read_text().splitlines()[1:-1]:
        assert line not in preview.output
    before = target.containers()
    with ReloadLoops(target, bearer(token(tenant, "k2")), ca) as loops:
        run = target.deploy()
    run.check()
    assert "PostgREST stack | Reload the TLS edge (caddy reload)" in run.changed
    assert "PostgREST stack | Bring the stack up (compose up -d)" not in run.changed
    loops.check()
    assert target.containers() == before  # reloaded, not restarted
    assert served_certificate(target, ca.pem_file).serial_number == renewed.serial


def test_key_rotation_over_https_fails_no_request(target, tenant, ca):
    before = target.containers()
    tenant.publish("k2", "k3")
    with RequestLoop([f"{origin(target)}/todos"], bearer(token(tenant, "k2")), at_least=REQUESTS_AT_LEAST,
                     verify=str(ca.pem_file)) as loop:
        run = run_pyinfra([target], "rotate_keys.py")
    run.check()
    assert "Rotate signing keys, one host at a time" in run.changed
    assert len(loop.answers) >= REQUESTS_AT_LEAST and loop.failures() == []
    assert target.containers() == before
    assert requests.get(f"{origin(target)}/todos", headers=bearer(token(tenant, "k3")), verify=str(ca.pem_file),
                        timeout=10).status_code == 200
    assert requests.get(f"{origin(target)}/todos", headers=bearer(token(tenant, "k1")), verify=str(ca.pem_file),
                        timeout=10).status_code == 401


def test_caddyfile_change_is_reloaded_in_place(target, tenant, ca):
    before = target.containers()
    target.data["edge_max_body_mb"] = 1
    with ReloadLoops(target, bearer(token(tenant, "k3")), ca) as loops:
        run = target.deploy()
    run.check()
    loops.check()
    assert "PostgREST stack | File edge/Caddyfile" in run.changed
    assert "PostgREST stack | Reload the TLS edge (caddy reload)" in run.changed
    assert "PostgREST stack | Bring the stack up (compose up -d)" not in run.changed
    assert target.containers() == before
    big = requests.post(f"{origin(target)}/todos", json={"task": "x" * (2 * 1024 * 1024)},
                        headers=bearer(token(tenant, "k3")), verify=str(ca.pem_file), timeout=30)
    assert big.status_code == 413
    # Sent in chunks, with no length declared: cut at the limit, never stored.
    chunked = requests.post(f"{origin(target)}/todos", data=(b"x" * 65536 for _ in range(32)),
                            headers={**bearer(token(tenant, "k3")), "Content-Type": "application/json"},
                            verify=str(ca.pem_file), timeout=30)
    assert chunked.status_code >= 400
    rows = requests.get(f"{origin(target)}/todos?select=task", verify=str(ca.pem_file), timeout=10).json()
    assert all(len(row["task"]) < 1024 for row in rows)
    small = requests.post(f"{origin(target)}/todos", json={"task": "small"}, headers=bearer(token(tenant, "k3")),
                          verify=str(ca.pem_file), timeout=10)
    assert small.status_code == 201


def test_access_logs_are_json_and_never_hold_a_token(target, tenant):
    client = docker.from_env()
    logs = client.containers.get(target.containers()["edge"][0]).logs().decode()
    access = [line for line in logs.splitlines() if '"logger":"http.log.access' in line]
    assert access and all(line.startswith("{") and line.endswith("}") for line in access)
    for key in ("k1", "k2", "k3"):
        assert token(tenant, key).split(".")[1] not in logs


def test_rerun_after_changes_changes_nothing(target):
    before = target.containers()
    assert target.deploy().check().changed == []
    assert target.containers() == before


# --- tls_mode = internal --------------------------------------------------------------------


@pytest.fixture(scope="module")
def internal(endpoint):
    t = edge_target("tls-internal", endpoint.url, tls_mode="internal", public_hostname=INTERNAL_HOST)
    yield t
    t.destroy()


def read_from_container(container_id: str, path: str) -> bytes:
    """A file of a container without a shell in it (the image has none): docker's archive API."""
    stream, _stat = docker.from_env().containers.get(container_id).get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
        return archive.extractfile(archive.getmembers()[0]).read()


ROOT_CA = "/data/caddy/pki/authorities/local/root.crt"


def test_internal_mode_serves_https_from_caddys_own_ca(internal, tenant, tmp_path):
    run = internal.deploy().check()
    assert "PostgREST stack | Health gate" in run.changed
    root = read_from_container(internal.containers()["edge"][0], ROOT_CA)
    (tmp_path / "root.crt").write_bytes(root)
    answer = requests.get(f"{origin(internal)}/todos", headers=bearer(token(tenant, "k2")),
                          verify=str(tmp_path / "root.crt"), timeout=10)
    assert answer.status_code == 200 and answer.headers["Strict-Transport-Security"] == "max-age=31536000"
    with pytest.raises(requests.exceptions.SSLError):  # not a certificate public CAs vouch for
        requests.get(f"{origin(internal)}/todos", timeout=10)
    assert internal.deploy().check().changed == []


def test_edge_data_survives_a_recreated_edge(internal, tmp_path):
    edge_id = internal.containers()["edge"][0]
    root = read_from_container(edge_id, ROOT_CA)
    (tmp_path / "root.crt").write_bytes(root)
    serial = served_certificate(internal, tmp_path / "root.crt").serial_number
    subprocess.run([str(internal.app_dir / "bin/compose"), "rm", "-fs", "edge"], check=True, capture_output=True)
    run = internal.deploy().check()
    assert "PostgREST stack | Bring the stack up (compose up -d)" in run.changed
    new_id = internal.containers()["edge"][0]
    assert new_id != edge_id
    assert read_from_container(new_id, ROOT_CA) == root  # the same CA, from the /data volume
    assert served_certificate(internal, tmp_path / "root.crt").serial_number == serial  # and the same certificate
    assert internal.deploy().check().changed == []


# --- tls_mode = acme: not runnable here, validated by the real Caddy -------------------------


@pytest.mark.parametrize("mode", ["acme", "files", "internal"])
def test_caddy_2_6_2_adapts_and_validates_each_rendered_caddyfile(mode, ca, tmp_path):
    given = {**group_defaults(), "auth0_domain": "tenant.eu.auth0.com", "jwt_audience": AUDIENCE, "tls_mode": mode,
             "public_hostname": "api.example.com", "swagger_enabled": True}
    if mode == "acme":
        given.update(acme_email="ops@example.com", acme_ca=settings.LETS_ENCRYPT_STAGING)
    if mode == "files":
        issued = ca.issue("validate", ("api.example.com",))
        given.update(tls_cert_file=str(issued.cert_file), tls_key_file=str(issued.key_file))
    files = render.render(settings.resolve(given), {"postgres_password": "p" * 20, "authenticator_password": "a" * 20})
    render.write_tree({name: f for name, f in files.items() if name.startswith("edge/")}, tmp_path)
    done = subprocess.run(["docker", "run", "--rm", "-v", f"{tmp_path / 'edge'}:/etc/caddy:ro", CADDY_IMAGE,
                           "caddy", "adapt", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile",
                           "--validate"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert '"protocol_min":"tls1.2","protocol_max":"tls1.3"' in done.stdout.replace(" ", "")


@pytest.mark.parametrize("compose", [["docker", "compose"], ["docker-compose"]], ids=["v2", "v1"])
def test_both_compose_versions_read_the_edge_service(compose, tmp_path):
    given = {**group_defaults(), "auth0_domain": "tenant.eu.auth0.com", "jwt_audience": AUDIENCE,
             "tls_mode": "internal", "public_hostname": "api.example.com", "swagger_enabled": True,
             "edge_bind": "203.0.113.7"}
    files = render.render(settings.resolve(given), {"postgres_password": "p" * 20, "authenticator_password": "a" * 20})
    render.write_tree(files, tmp_path)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "AUTHENTICATOR_PASSWORD": "x", "POSTGRES_DB": "app",
           "POSTGRES_USER": "postgres", "COMPOSE_PROJECT_NAME": "t"}
    done = subprocess.run([*compose, "-f", "compose.yaml", "config", "--services"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) == {"db", "postgrest", "swagger", "edge"}
    volumes = subprocess.run([*compose, "-f", "compose.yaml", "config", "--volumes"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60)
    assert set(volumes.stdout.split()) == {"db-data", "edge-data", "edge-config"}
