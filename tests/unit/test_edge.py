"""The TLS edge (tls_mode) rendered with no host: settings, the certificate checks, the
files and compose service, the Caddyfile of each mode (acme's pinned whole: no ACME
server is reachable here), the plan's reload, the probe's keyed digest of the key."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import subprocess

import pytest

from postgrest_stack import compare, digests, edge, images, layout, probe, render, settings
from postgrest_stack import plan as planning
from tests.harness.certificates import TestCA
from tests.harness.host_state import with_records

HOST = "api.example.com"


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return TestCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def issued(ca):
    return ca.issue("api", (HOST,), with_chain=True)


def files_mode(data, issued, **overrides):
    return dict(data, tls_mode="files", public_hostname=HOST, tls_cert_file=str(issued.cert_file),
                tls_key_file=str(issued.key_file), **overrides)


def rendered(given, secrets):
    return render.render(settings.resolve(given), secrets)


def text(files, name):
    return files[name].content.decode()


# --- tls_mode = off: every earlier behaviour ------------------------------------------------


def test_off_renders_the_same_bytes_whatever_the_edge_settings_say(data, secrets, issued):
    plain = rendered(data, secrets)
    with_edge_settings = rendered(dict(data, tls_mode="off", public_hostname=HOST, acme_email="ops@example.com",
                                       tls_cert_file=str(issued.cert_file), tls_key_file="/nonexistent.key",
                                       edge_bind="203.0.113.7", edge_http_port=8080, edge_https_port=8443,
                                       edge_max_body_mb=99, caddy_image="caddy:9.9.9"), secrets)
    assert {n: (f.content, f.mode, f.owner_uid, f.secret) for n, f in with_edge_settings.items()} == \
        {n: (f.content, f.mode, f.owner_uid, f.secret) for n, f in plain.items()}
    assert not any(name.startswith("edge/") or name == "bin/reload-edge" for name in plain)
    compose = text(plain, "compose.yaml")
    assert "edge" not in compose and "caddy" not in compose
    assert f'"127.0.0.1:{data["postgrest_port"]}:3000"' in compose
    assert settings.resolve(data).public_api_url == "http://127.0.0.1:3000"
    assert "edge" not in images.pinned(settings.resolve(data))


def test_off_keeps_swagger_published_and_plans_no_edge_reload(data, secrets):
    files = planning.with_jwks(rendered(dict(data, swagger_enabled=True, public_api_url="https://x.example.com"),
                                        secrets), b'{"keys": []}')
    assert '- "127.0.0.1:8080:8080"' in text(files, "compose.yaml")
    changed = {**files, "postgrest/postgrest.conf": layout.RenderedFile(b"x\n", 0o600, 1000)}
    assert planning.make_plan(changed, probe.HostState(docker="running")).reload_edge is False


# --- Settings: bad combinations, one line naming the setting --------------------------------


@pytest.mark.parametrize(("given", "message"), [
    ({"tls_mode": "acme", "acme_email": "ops@example.com"}, "setting 'public_hostname' is not set: tls_mode 'acme'"),
    ({"tls_mode": "acme", "public_hostname": HOST}, "setting 'acme_email' is not set: tls_mode 'acme'"),
    ({"tls_mode": "files", "public_hostname": HOST, "tls_key_file": "k.pem"}, "setting 'tls_cert_file' is not set"),
    ({"tls_mode": "files", "public_hostname": HOST, "tls_cert_file": "c.pem"}, "setting 'tls_key_file' is not set"),
    ({"tls_mode": "internal"}, "setting 'public_hostname' is not set: tls_mode 'internal'"),
    ({"tls_mode": "internal", "public_hostname": HOST, "postgrest_bind": "0.0.0.0"},
     "setting 'postgrest_bind' must be a loopback address when tls_mode is 'internal'"),
    ({"tls_mode": "internal", "public_hostname": HOST, "edge_http_port": 443},
     "settings 'edge_http_port' and 'edge_https_port' must differ"),
])
def test_bad_combinations_are_one_line_naming_the_setting(data, given, message):
    with pytest.raises(settings.SettingsError) as error:
        settings.resolve(dict(data, **given))
    assert message in str(error.value) and "\n" not in str(error.value)


#: Addresses that are not loopback, public and private, IPv4 and IPv6, all interfaces included.
NOT_LOOPBACK = ["10.0.0.5", "192.168.1.20", "172.16.0.3", "203.0.113.7", "0.0.0.0", "::", "fd00::5", "2001:db8::5"]
EDGE_MODES = {"internal": {"public_hostname": HOST},
              "acme": {"public_hostname": HOST, "acme_email": "ops@example.com"}}


@pytest.mark.parametrize("mode", EDGE_MODES)
@pytest.mark.parametrize("bind", NOT_LOOPBACK)
def test_with_the_edge_postgrest_bind_other_than_loopback_is_refused(data, mode, bind):
    """Any address but loopback, not only all interfaces: a private address would publish
    plain HTTP beside the edge. Without the edge the same address is the operator's choice."""
    with pytest.raises(settings.SettingsError) as error:
        settings.resolve(dict(data, tls_mode=mode, postgrest_bind=bind, **EDGE_MODES[mode]))
    assert str(error.value) == (f"setting 'postgrest_bind' must be a loopback address when tls_mode is '{mode}' "
                                f"(the edge is the only public entry), got {bind!r}")
    assert settings.resolve(dict(data, postgrest_bind=bind)).postgrest_bind == bind


@pytest.mark.parametrize("mode", EDGE_MODES)
@pytest.mark.parametrize("bind", ["127.0.0.1", "::1"])
def test_with_the_edge_a_loopback_postgrest_bind_is_accepted(data, mode, bind):
    assert settings.resolve(dict(data, tls_mode=mode, postgrest_bind=bind, **EDGE_MODES[mode])).postgrest_bind == bind


def test_public_api_url_defaults_to_the_edge_origin(data):
    assert settings.resolve(dict(data, tls_mode="internal", public_hostname=HOST)).public_api_url == f"https://{HOST}"
    resolved = settings.resolve(dict(data, tls_mode="internal", public_hostname=HOST, edge_https_port=8443))
    assert resolved.public_api_url == f"https://{HOST}:8443"
    # Swagger UI then needs no explicit public_api_url: the edge's origin is public.
    assert settings.resolve(dict(data, tls_mode="internal", public_hostname=HOST, swagger_enabled=True))


# --- tls_mode = files: the certificate checks, before any host ------------------------------


def refusal(data, secrets, **given):
    with pytest.raises(settings.SettingsError) as error:
        rendered(dict(data, tls_mode="files", public_hostname=HOST, **given), secrets)
    assert "\n" not in str(error.value)
    return str(error.value)


def test_a_key_of_another_certificate_is_refused(data, secrets, ca, issued):
    other = ca.issue("other", (HOST,))
    message = refusal(data, secrets, tls_cert_file=str(issued.cert_file), tls_key_file=str(other.key_file))
    assert message.startswith("setting 'tls_key_file' does not match 'tls_cert_file'")


@pytest.mark.parametrize(("days", "word"), [(13.9, "expires"), (1, "expires"), (-1, "expired")])
def test_a_certificate_expiring_within_14_days_is_refused(data, secrets, ca, days, word):
    short = ca.issue(f"short{days}", (HOST,), days=days, not_before_days=-30)
    message = refusal(data, secrets, tls_cert_file=str(short.cert_file), tls_key_file=str(short.key_file))
    assert message.startswith(f"setting 'tls_cert_file' {word} on ") and "within 14 days" in message


def test_fifteen_days_left_is_accepted(data, secrets, ca):
    ok = ca.issue("fifteen", (HOST,), days=15)
    assert layout.CERT_FILE in rendered(files_mode(data, ok), secrets)


@pytest.mark.parametrize(("names", "accepted"), [
    ((HOST,), True), (("*.example.com",), True), (("API.EXAMPLE.COM",), True),
    (("www.example.com",), False), (("*.api.example.com",), False), (("*.com",), False), ((), False),
])
def test_the_certificate_must_name_public_hostname(data, secrets, ca, names, accepted):
    cert = ca.issue("named-" + "-".join(n.replace("*", "star") for n in names), names)
    given = files_mode(data, cert)
    if accepted:
        assert layout.CERT_FILE in rendered(given, secrets)
    else:
        with pytest.raises(settings.SettingsError, match="setting 'tls_cert_file' does not name public_hostname"):
            rendered(given, secrets)


def test_unreadable_unparsable_or_encrypted_files_are_refused(data, secrets, ca, issued, tmp_path):
    assert refusal(data, secrets, tls_cert_file=str(tmp_path / "missing.crt"), tls_key_file=str(issued.key_file)) \
        .startswith("setting 'tls_cert_file': cannot read ")
    (tmp_path / "junk.crt").write_text("not a certificate\n")
    assert refusal(data, secrets, tls_cert_file=str(tmp_path / "junk.crt"), tls_key_file=str(issued.key_file)) \
        .startswith("setting 'tls_cert_file' must name a file of PEM certificates")
    locked = ca.issue("locked", (HOST,), key_password=b"passphrase")
    assert refusal(data, secrets, tls_cert_file=str(locked.cert_file), tls_key_file=str(locked.key_file)) \
        .startswith("setting 'tls_key_file' must be an unencrypted PEM private key")
    assert refusal(data, secrets, tls_cert_file=str(issued.cert_file), tls_key_file=str(issued.cert_file)) \
        .startswith("setting 'tls_key_file' must name a PEM private key")


def test_a_certificate_not_valid_yet_is_refused(data, secrets, ca):
    future = ca.issue("future", (HOST,), not_before_days=2, days=90)
    assert refusal(data, secrets, tls_cert_file=str(future.cert_file), tls_key_file=str(future.key_file)) \
        .startswith("setting 'tls_cert_file' is not valid yet")


def test_hosts_get_the_validated_chain_and_a_pkcs8_key(data, secrets, ca, issued):
    rsa_cert = ca.issue("rsa", (HOST,), key_type="rsa")
    for cert in (issued, rsa_cert):
        files = rendered(files_mode(data, cert), secrets)
        pem = files[layout.CERT_FILE].content
        assert pem.count(b"-----BEGIN CERTIFICATE-----") == (2 if cert is issued else 1)
        assert pem.startswith(cert.cert_file.read_bytes()[:64])
        key = files[layout.KEY_FILE].content
        assert key.startswith(b"-----BEGIN PRIVATE" + b" KEY-----\n")  # PKCS#8, whatever the file held (split: tracked)
        assert key != cert.key_file.read_bytes()


# --- The files and the compose service -------------------------------------------------------


def test_files_mode_layout_modes_and_secrets(data, secrets, issued):
    files = rendered(files_mode(data, issued), secrets)
    assert {n for n in files if n.startswith("edge/") or n == "bin/reload-edge"} == \
        {"edge/Caddyfile", "edge/tls/cert.pem", "edge/tls/key.pem", "bin/reload-edge"}
    assert files["edge/Caddyfile"].mode == files["edge/tls/cert.pem"].mode == files["edge/tls/key.pem"].mode == 0o600
    assert {files[n].owner_uid for n in ("edge/Caddyfile", "edge/tls/cert.pem", "edge/tls/key.pem")} == {0}
    assert files["bin/reload-edge"].mode == 0o700
    # Certificate and key are never shown by --diff; the key is digested with the digest key.
    assert files["edge/tls/cert.pem"].secret and files["edge/tls/key.pem"].secret
    assert not files["edge/Caddyfile"].secret
    assert "edge/tls/key.pem" in layout.KEYED_FILES
    assert layout.DIRECTORIES["edge"] == layout.DIRECTORIES["edge/tls"] == (0o700, 0)
    # Nothing of the certificate files in the Caddyfile but their container paths.
    assert b"PRIVATE KEY" not in files["edge/Caddyfile"].content


def test_compose_edge_service_and_loopback_only_postgrest(data, secrets, issued):
    files = rendered(files_mode(data, issued, swagger_enabled=True, edge_bind="203.0.113.7", edge_http_port=8080,
                                edge_https_port=8443), secrets)
    compose = text(files, "compose.yaml")
    service = compose.split("\n  edge:\n", 1)[1].split("\nvolumes:\n", 1)[0]
    assert "    image: caddy:2.6.2\n" in service and "    restart: always\n" in service
    # The config directory, not the single file; /data and /config are named volumes.
    mounts = [line for line in service.splitlines() if line.startswith("      - ") and '"' not in line]
    assert mounts == ["      - ./edge:/etc/caddy:ro", "      - edge-data:/data", "      - edge-config:/config",
                      "      - postgrest"]  # the last: depends_on
    assert '      - "203.0.113.7:8080:80"\n      - "203.0.113.7:8443:443"\n' in service
    assert compose.endswith("volumes:\n  db-data:\n  edge-data:\n  edge-config:\n")
    published = re.findall(r'^      - "([^"]+)"$', compose, flags=re.M)
    assert published == ["127.0.0.1:5432:5432", "127.0.0.1:3000:3000", "127.0.0.1:3001:3001",
                         "203.0.113.7:8080:80", "203.0.113.7:8443:443"]  # Swagger UI: not published
    assert 'API_URL: "https://api.example.com:8443"' in compose
    assert compare.expected_services(files) == {"db", "postgrest", "swagger", "edge"}
    conf = text(files, "postgrest/postgrest.conf")
    assert 'openapi-server-proxy-uri = "https://api.example.com:8443"\n' in conf


def test_edge_runs_where_the_api_runs(data, secrets):
    edge_data = dict(data, tls_mode="internal", public_hostname=HOST)
    db_only = rendered(dict(edge_data, stack_role="db"), secrets)
    assert "edge/Caddyfile" not in db_only and "edge:" not in text(db_only, "compose.yaml")
    api = rendered(dict(edge_data, stack_role="api", db_host="10.0.0.5"), secrets)
    assert "edge/Caddyfile" in api and text(api, "compose.yaml").endswith("volumes:\n  edge-data:\n  edge-config:\n")
    resolved = settings.resolve(dict(edge_data, image_source="controller"))
    assert images.pinned(resolved)["edge"] == "caddy:2.6.2"
    assert "    pull_policy: never" in text(render.render(resolved, secrets), "compose.yaml").split("\n  edge:\n")[1]


# --- The Caddyfile of each mode -------------------------------------------------------------

ACME_CADDYFILE = """\
# Rendered by postgrest_stack for stack 'postgrest': the TLS edge (tls_mode = acme).
# Do not edit on the host: the next deploy overwrites it. A change is loaded by
# bin/reload-edge (`caddy reload` in the edge container), never a restart.
{
	admin localhost:2019
	# The plain HTTP site below redirects to this host's real HTTPS port, which
	# Caddy's own redirect (to the container's 443) would not know.
	auto_https disable_redirects
	# The ACME account: its key and the certificates live in /data (a volume
	# kept across redeploys). Try Let's Encrypt's staging CA first (README: HTTPS).
	email ops@example.com
	acme_ca https://acme-staging-v02.api.letsencrypt.org/directory
	servers {
		# No HTTP/3: it needs 443/udp, which is not published.
		protocols h1 h2
		# Bounded: a slow or stalled client cannot hold a connection forever.
		timeouts {
			read_header 10s
			read_body 30s
			write 60s
			idle 2m
		}
	}
}

# Plain HTTP: a permanent redirect to HTTPS, nothing else (Caddy answers ACME's
# HTTP-01 challenge here before any route).
http:// {
	redir https://api.example.com{uri} 308
}

api.example.com {
	tls {
		protocols tls1.2 tls1.3
	}
	header Strict-Transport-Security "max-age=31536000"
	# A body is cut at 10 MB (10^6 bytes); the API refuses a larger declared one up front (413).
	request_body {
		max_size 10MB
	}
	# JSON access logs on the container's stdout (`bin/compose logs edge`); Caddy
	# logs the Authorization header redacted.
	log {
		output stdout
		format json
	}
	handle {
		@too_large expression `{http.request.header.Content-Length} != "" && int({http.request.header.Content-Length}) > 10000000`
		respond @too_large "request body larger than 10 MB" 413
		# Two Authorization headers are refused: PostgREST 12.0.2 verifies the first, the
		# database guard would see the last. The placeholder joins a header's values with
		# ",", which neither a Bearer token nor a Basic credential holds.
		@several_authorizations expression `{http.request.header.Authorization}.contains(",")`
		respond @several_authorizations "one Authorization header at most" 400
		# Caddy passes Host on and sets X-Forwarded-For/-Proto/-Host (client-sent ones
		# are dropped); PostgREST's OpenAPI names https://api.example.com (openapi-server-proxy-uri).
		reverse_proxy postgrest:3000 {
			transport http {
				dial_timeout 5s
				response_header_timeout 60s
			}
		}
	}
}
"""


def test_acme_caddyfile_is_pinned(data, secrets):
    """ACME cannot be run here (no ACME server is reachable): its Caddyfile is pinned whole,
    and tests/e2e/test_tls_edge.py has the real Caddy 2.6.2 adapt and validate it."""
    files = rendered(dict(data, tls_mode="acme", public_hostname=HOST, acme_email="ops@example.com",
                          acme_ca=settings.LETS_ENCRYPT_STAGING), secrets)
    assert text(files, "edge/Caddyfile") == ACME_CADDYFILE
    assert layout.CERT_FILE not in files and layout.KEY_FILE not in files
    # Production Let's Encrypt by default.
    production = rendered(dict(data, tls_mode="acme", public_hostname=HOST, acme_email="ops@example.com"), secrets)
    assert "\tacme_ca https://acme-v02.api.letsencrypt.org/directory\n" in text(production, "edge/Caddyfile")
    # acme: the health gate waits for the redirect only, not for a certificate.
    gate = text(files, "bin/health-gate")
    assert "edge_redirects" in gate and "edge_serves" not in gate


def test_files_and_internal_caddyfiles(data, secrets, issued):
    files = text(rendered(files_mode(data, issued, swagger_enabled=True, edge_https_port=8443, edge_max_body_mb=2),
                          secrets), "edge/Caddyfile")
    assert "\ttls /etc/caddy/tls/cert.pem /etc/caddy/tls/key.pem {\n\t\tprotocols tls1.2 tls1.3\n\t}\n" in files
    assert "\tredir https://api.example.com:8443{uri} 308\n" in files
    assert "\t\tmax_size 2MB\n" in files
    assert ("\tredir /docs /docs/ 308\n\thandle_path /docs/* {\n\t\treverse_proxy swagger:8080\n\t}\n") in files
    assert "email" not in files and "acme_ca" not in files and "skip_install_trust" not in files
    internal = text(rendered(dict(data, tls_mode="internal", public_hostname=HOST), secrets), "edge/Caddyfile")
    assert "\ttls internal {\n\t\tprotocols tls1.2 tls1.3\n\t}\n" in internal
    assert "\tskip_install_trust\n" in internal and "/docs" not in internal


def test_health_gate_and_reload_script(data, secrets, issued):
    files = rendered(files_mode(data, issued, edge_bind="0.0.0.0", edge_http_port=8080, edge_https_port=8443),
                     secrets)
    gate = text(files, "bin/health-gate")
    assert 'edge_code "http://127.0.0.1:8080/"' in gate
    assert ('edge_code "https://api.example.com:8443/" -k --resolve "api.example.com:8443:127.0.0.1"') in gate
    reload_edge = text(files, "bin/reload-edge")
    assert ('docker exec "$id" caddy reload --config /etc/caddy/Caddyfile --adapter caddyfile --force'
            in reload_edge)
    for script in ("bin/health-gate", "bin/reload-edge"):
        assert subprocess.run(["sh", "-n", "-c", text(files, script)]).returncode == 0, script
    v6 = rendered(dict(data, tls_mode="internal", public_hostname=HOST, edge_bind="::"), secrets)
    assert '--resolve "api.example.com:443:[::1]"' in text(v6, "bin/health-gate")


# --- The plan: a Caddyfile or certificate change reloads, never restarts ---------------------


def deployed(files):
    state = probe.HostState(init="systemd", docker="running", ready=200)
    key = files[layout.DIGEST_KEY].content
    for relative, (mode, uid) in layout.DIRECTORIES.items():
        state.paths[relative] = probe.PathState("d", mode, uid, 0)
    for relative, f in files.items():
        if relative in layout.KEYED_FILES:
            state.paths[relative] = probe.PathState("f", f.mode, f.owner_uid, 0, keyed_sha256=digests.keyed(key, f.content))
        else:
            state.paths[relative] = probe.PathState("f", f.mode, f.owner_uid, 0, hashlib.sha256(f.content).hexdigest())
    for name in compare.expected_services(files):
        state.services[name] = probe.ServiceState("running", "healthy", "t0", compare.service_images(files)[name])
    state.sql_digest = f"sql-digest:{render.sql_digest(files)}"
    return with_records(state, files)


def test_plan_reloads_the_edge_for_its_files_only(data, secrets, ca, issued):
    now = planning.with_jwks(rendered(files_mode(data, issued), secrets), b'{"keys": []}')
    state = deployed(now)
    assert not planning.make_plan(now, state).changes_anything
    renewed = ca.issue("renewed", (HOST,))
    plan = planning.make_plan(planning.with_jwks(rendered(files_mode(data, renewed), secrets), b'{"keys": []}'), state)
    assert plan.reload_edge and not plan.up and not plan.reload and plan.gate
    assert set(plan.files) == {layout.CERT_FILE, layout.KEY_FILE}
    bigger = planning.with_jwks(rendered(files_mode(data, issued, edge_max_body_mb=50), secrets), b'{"keys": []}')
    plan = planning.make_plan(bigger, state)
    assert plan.files == [layout.CADDYFILE] and plan.reload_edge and not plan.up
    # No edge running: compose up starts it (and it reads its files itself).
    state.services.pop("edge")
    plan = planning.make_plan(now, state)
    assert plan.up and not plan.reload_edge


# --- The probe digests the key with the digest key, never plainly -----------------------------


def test_probe_digests_the_edge_key_with_the_digest_key(data, secrets, issued, tmp_path):
    files = rendered(files_mode(data, issued), secrets)
    app = tmp_path / "app"
    render.write_tree(files, app)
    command = probe.command(str(app), f"edge-probe-{os.getpid()}", 1, secret_files=layout.KEYED_FILES)
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    key = files[layout.KEY_FILE].content
    assert hashlib.sha256(key).hexdigest() not in done.stdout
    state = probe.parse(done.stdout.splitlines())
    assert state.paths[layout.KEY_FILE].sha256 is None
    assert state.paths[layout.KEY_FILE].keyed_sha256 == digests.keyed(files[layout.DIGEST_KEY].content, key)
    assert state.paths[layout.CERT_FILE].sha256 == hashlib.sha256(files[layout.CERT_FILE].content).hexdigest()
    assert compare.file_is_current(state.paths[layout.KEY_FILE], key, 0o600, os.getuid(), os.getgid(),
                                    digest_key=files[layout.DIGEST_KEY].content)


def test_expiry_margin_is_fourteen_days():
    assert edge.EXPIRY_MARGIN == datetime.timedelta(days=14)


def test_https_runbook_and_troubleshooting_match_the_edge():
    from tests.conftest import ROOT

    runbooks = (ROOT / "docs" / "runbooks.md").read_text()
    section = runbooks.split("## HTTPS: the Caddy edge (`tls_mode`)\n", 1)[1].split("\n## ", 1)[0]
    troubleshooting = (ROOT / "docs" / "troubleshooting.md").read_text()
    trouble = troubleshooting.split("## Troubleshooting HTTPS\n", 1)[1].split("\n## ", 1)[0]
    for step in ("1. **DNS**", "2. **Firewall**", "3. **Staging CA first**", "4. **Production**"):
        assert step in section
    assert settings.LETS_ENCRYPT_STAGING in section
    assert "**`acme` is not run: no ACME server is reachable here.**" in section
    # The messages the section quotes are the ones the scripts and checks print.
    templates = render.TEMPLATES
    gate, reload_edge = (templates / "bin/health-gate.j2").read_text(), (templates / "bin/reload-edge.j2").read_text()
    assert "did not answer a redirect (308)" in gate and "did not answer 200" in gate
    assert "reload-edge: caddy reload failed; the edge keeps its previous configuration" in reload_edge
    for message in ("did not answer a redirect (308)", "did not answer 200",
                    "reload-edge: caddy reload failed; the edge keeps its previous configuration"):
        assert message in trouble, message
    assert "within 14 days: renew it before deploying" in section
    assert "max-age=31536000" in section and 'max-age=31536000"' in (templates / "Caddyfile.j2").read_text()


# --- acme_email goes into the Caddyfile as one bare token ------------------------------------


@pytest.mark.parametrize("email", ["#ops@example.com", "#@example.com"])
def test_acme_email_starting_with_a_hash_is_refused(data, email):
    """A valid address, but `email #ops@...` is a Caddyfile comment: the option would lose its value."""
    with pytest.raises(settings.SettingsError) as error:
        settings.resolve(dict(data, tls_mode="acme", public_hostname=HOST, acme_email=email))
    assert str(error.value) == f"setting 'acme_email' must not start with '#' (the Caddyfile reads a comment), " \
                               f"got {email!r}"


@pytest.mark.parametrize("email", ['"ops"@example.com', "ops @example.com", "ops@example.com x", "{ops}@example.com",
                                   "ops@example.com}", "ops\t@example.com", "o'ps@example.com", "ops@example.com\n"])
def test_acme_email_with_quotes_whitespace_or_braces_is_refused(data, email):
    with pytest.raises(settings.SettingsError, match=r"^setting 'acme_email' must be ") as error:
        settings.resolve(dict(data, tls_mode="acme", public_hostname=HOST, acme_email=email))
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("email", ["ops@example.com", "ops#team@example.com", "o$p+x@example.com"])
def test_acme_email_is_rendered_as_one_bare_token(data, secrets, email):
    files = rendered(dict(data, tls_mode="acme", public_hostname=HOST, acme_email=email), secrets)
    assert f"\n\temail {email}\n" in text(files, "edge/Caddyfile")
