"""The files a host receives, rendered from settings with no host involved."""

from __future__ import annotations

import re

import pytest

from postgrest_stack import layout, render, scram, settings


def rendered(data, secrets, **overrides):
    return render.render(settings.resolve(dict(data, **overrides)), secrets)


def text(files, name):
    return files[name].content.decode()


def test_layout_modes_and_secret_flags(data, secrets):
    files = rendered(data, secrets)
    assert set(files) == {
        "compose.yaml", ".env", "postgrest/postgrest.conf",
        "sql/01-roles.sql", "sql/03-pre-request.sql", "sql/04-migrations.sql", "migrations/0001_todos.sql",
        "bin/compose", "bin/apply-sql", "bin/migrate", "bin/health-gate", "bin/reload-postgrest", "bin/prove-keys",
        "bin/backup",
        "bin/restore",
        "bin/upgrade-db",
        "db/superuser-password", ".digest-key",
    }
    assert all(f.mode == (0o700 if n.startswith("bin/") else 0o600) for n, f in files.items())
    assert files["postgrest/postgrest.conf"].owner_uid == 1000
    assert files["db/superuser-password"].owner_uid == 999  # the postgres image's uid
    assert {n for n, f in files.items() if f.secret} == {".env", "sql/01-roles.sql", "db/superuser-password", ".digest-key"}
    # (and, with tls_mode = files, the edge's private key: tests/unit/test_edge.py)
    assert set(layout.KEYED_FILES) == {".env", "sql/01-roles.sql", "db/superuser-password", "edge/tls/key.pem"}


def test_secrets_only_in_secret_files(data, secrets):
    files = rendered(data, secrets)
    for name, rendered_file in files.items():
        holds = [s for s in secrets.values() if s.encode() in rendered_file.content]
        # The digest key is derived from the secrets and the roles SQL carries SCRAM
        # verifiers: secret, but neither holds a password as such.
        assert bool(holds) == (rendered_file.secret and name not in (".digest-key", "sql/01-roles.sql")), name
    env = text(files, ".env")
    assert "POSTGRES_PASSWORD" not in env  # the db container reads it from a file (no recreate on change)
    assert f"AUTHENTICATOR_PASSWORD={secrets['authenticator_password']}\n" in env
    assert text(files, "db/superuser-password") == secrets["postgres_password"]
    roles = text(files, "sql/01-roles.sql")
    verifier = scram.verifier(secrets["postgres_password"], stack_name="postgrest", role="postgres")
    assert f"ALTER ROLE postgres WITH PASSWORD '{verifier}';" in roles
    assert verifier.startswith("SCRAM-SHA-256$4096:")


def test_compose_pins_images_and_never_latest(data, secrets):
    compose = text(rendered(data, secrets, swagger_enabled=True, public_api_url="https://api.example.com"), "compose.yaml")
    assert "latest" not in compose
    assert "image: postgrest/postgrest:v12.0.2" in compose
    assert "image: postgres:15.14-bookworm" in compose


@pytest.mark.parametrize("name", ["postgrest_image", "postgres_image", "swagger_image"])
@pytest.mark.parametrize("value", ["postgrest/postgrest:latest", "postgrest/postgrest", "postgres"])
def test_unpinned_image_refused(data, name, value):
    with pytest.raises(settings.SettingsError, match=f"'{name}'"):
        settings.resolve(dict(data, **{name: value}))


def test_db_published_on_loopback_only_by_default(data, secrets):
    compose = text(rendered(data, secrets), "compose.yaml")
    assert '"127.0.0.1:5432:5432"' in compose
    ports = re.findall(r'- "([^"]+)"', compose)
    assert all(p.startswith("127.0.0.1:") for p in ports), ports


def test_swagger_needs_the_public_url(data):
    with pytest.raises(settings.SettingsError, match="'public_api_url' is not set: Swagger UI"):
        settings.resolve(dict(data, swagger_enabled=True))


def test_swagger_only_when_enabled(data, secrets):
    assert "swagger:" not in text(rendered(data, secrets), "compose.yaml")
    compose = text(rendered(data, secrets, swagger_enabled=True, public_api_url="https://api.example.com"), "compose.yaml")
    assert "swagger:" in compose and 'API_URL: "https://api.example.com"' in compose


def test_postgrest_conf_essentials(data, secrets):
    conf = text(rendered(data, secrets), "postgrest/postgrest.conf")
    assert 'db-uri = "postgres://authenticator@db:5432/app"\n' in conf
    assert "db-config = false\n" in conf
    assert 'jwt-secret = "@/etc/postgrest/jwks.json"\n' in conf
    assert "jwt-cache-max-lifetime = 0\n" in conf
    assert 'db-pre-request = "auth_guard.check_token"\n' in conf
    assert "admin-server-port = 3001\n" in conf
    assert "postgres@" not in conf


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ("role", r'jwt-role-claim-key = ".role"'),
        ("https://postgrest-demo.de/role", r'jwt-role-claim-key = ".\"https://postgrest-demo.de/role\""'),
        ("app-role", r'jwt-role-claim-key = ".\"app-role\""'),
        ("app.role", r'jwt-role-claim-key = ".\"app.role\""'),
        ("https://x.example/claims/db role", r'jwt-role-claim-key = ".\"https://x.example/claims/db role\""'),
    ],
)
def test_role_claim_rendered_as_quoted_jspath(data, secrets, claim, expected):
    conf = text(rendered(data, secrets, jwt_role_claim=claim), "postgrest/postgrest.conf")
    assert expected + "\n" in conf


@pytest.mark.parametrize("claim", ['a"b', "a\\b", "tab\there"])
def test_role_claim_that_jspath_cannot_express_is_refused(data, claim):
    with pytest.raises(settings.SettingsError, match="jwt_role_claim"):
        settings.resolve(dict(data, jwt_role_claim=claim))


# setting, value, file, text that must then appear in it
OVERRIDES = [
    ("stack_name", "orders", ".env", "COMPOSE_PROJECT_NAME=orders\n"),
    ("jwt_audience", "client-xyz", "postgrest/postgrest.conf", 'jwt-aud = "client-xyz"\n'),
    ("jwt_issuer", "https://login.example.com/", "sql/03-pre-request.sql", "'https://login.example.com/'"),
    ("auth0_domain", "other.us.auth0.com", "sql/03-pre-request.sql", "'https://other.us.auth0.com/'"),
    ("jwt_role_claim", "role", "postgrest/postgrest.conf", 'jwt-role-claim-key = ".role"\n'),
    ("postgrest_image", "postgrest/postgrest:v12.2.3", "compose.yaml", "image: postgrest/postgrest:v12.2.3\n"),
    ("postgres_image", "postgres:16.4", "compose.yaml", "image: postgres:16.4\n"),
    ("postgrest_port", 8000, "compose.yaml", '"127.0.0.1:8000:3000"'),
    ("postgrest_bind", "10.0.0.5", "compose.yaml", '"10.0.0.5:3000:3000"'),
    ("postgrest_admin_port", 9001, "compose.yaml", '"127.0.0.1:9001:3001"'),
    ("db_bind", "10.0.0.7", "compose.yaml", '"10.0.0.7:5432:5432"'),
    ("db_port", 6543, "compose.yaml", '"127.0.0.1:6543:5432"'),
    ("db_name", "shop", ".env", "POSTGRES_DB=shop\n"),
    ("db_name", "shop", "postgrest/postgrest.conf", "@db:5432/shop\"\n"),
    ("db_superuser", "admin", ".env", "POSTGRES_USER=admin\n"),
    ("db_schema", "v1", "postgrest/postgrest.conf", 'db-schemas = "v1"\n'),
    ("db_schema", "v1", "sql/04-migrations.sql", "ALTER SCHEMA v1 OWNER TO api_owner;"),
    ("db_schema", "v1", "bin/migrate", "\\set api_schema v1\n"),
    ("db_anon_role", "web_anon", "postgrest/postgrest.conf", 'db-anon-role = "web_anon"\n'),
    ("db_anon_role", "web_anon", "sql/01-roles.sql", "GRANT web_anon TO authenticator;"),
    ("db_user_role", "web_user", "sql/04-migrations.sql", "TO api_anon, web_user;"),
    ("db_user_role", "web_user", "bin/migrate", "\\set user_role web_user\n"),
    ("health_timeout", 15, "bin/health-gate", "not 200 within 15 s"),
    ("public_api_url", "https://api.example.com", "postgrest/postgrest.conf", 'openapi-server-proxy-uri = "https://api.example.com"\n'),
]


@pytest.mark.parametrize(("name", "value", "filename", "expected"), OVERRIDES, ids=[f"{o[0]}->{o[2]}" for o in OVERRIDES])
def test_every_override_reaches_its_file(data, secrets, name, value, filename, expected):
    files = rendered(data, secrets, **{name: value})
    assert expected in text(files, filename)
    assert expected not in text(rendered(data, secrets), filename)


def test_secret_override_reaches_env_and_sql(data, secrets):
    files = rendered(data, dict(secrets, authenticator_password="another-password-123456"))
    assert "AUTHENTICATOR_PASSWORD=another-password-123456\n" in text(files, ".env")
    verifier = scram.verifier("another-password-123456", stack_name="postgrest", role="authenticator")
    assert f"PASSWORD '{verifier}'" in text(files, "sql/01-roles.sql")
    assert "another-password-123456" not in text(files, "sql/01-roles.sql")


def test_render_is_deterministic(data, secrets):
    assert rendered(data, secrets) == rendered(data, secrets)


def test_write_tree_gives_an_existing_out_its_modes_and_never_a_readable_secret(data, secrets, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir(mode=0o755)
    (out / "bin").mkdir(mode=0o777)
    out.chmod(0o755)
    (out / "bin").chmod(0o777)
    files = rendered(data, secrets)
    created_modes = []
    real_open = __import__("os").fdopen

    def spy(fd, *args, **kwargs):  # the mode a file has when its bytes are written
        created_modes.append(__import__("os").fstat(fd).st_mode & 0o777)
        return real_open(fd, *args, **kwargs)

    monkeypatch.setattr("os.fdopen", spy)
    render.write_tree(files, out)
    assert oct(out.stat().st_mode & 0o777) == "0o700" and oct((out / "bin").stat().st_mode & 0o777) == "0o700"
    assert (out / ".env").stat().st_mode & 0o777 == 0o600
    assert created_modes and all(mode & 0o077 == 0 for mode in created_modes)
