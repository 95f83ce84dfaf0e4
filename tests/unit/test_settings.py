"""Settings validation and the secrets' sources."""

from __future__ import annotations

import stat

import pytest

from postgrest_stack import secrets as stack_secrets
from postgrest_stack import settings


def test_derived_defaults(data):
    resolved = settings.resolve(data)
    assert resolved.jwks_url == "https://tenant.eu.auth0.com/.well-known/jwks.json"
    assert resolved.jwt_issuer == "https://tenant.eu.auth0.com/"
    assert resolved.jwt_role_claim == "https://postgrest-demo.de/role"
    assert resolved.postgrest_bind == "127.0.0.1" and resolved.db_bind == "127.0.0.1"
    assert (resolved.db_schema, resolved.db_anon_role, resolved.db_user_role) == ("api", "api_anon", "api_user")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("auth0_domain", None, "setting 'auth0_domain' is not set"),
        ("auth0_domain", "https://tenant.auth0.com/", "setting 'auth0_domain' must be a host name"),
        ("jwt_audience", "", "setting 'jwt_audience' is not set"),
        ("postgrest_port", "abc", "setting 'postgrest_port' must be a port number"),
        ("postgrest_port", 70000, "setting 'postgrest_port' must be a port number"),
        ("postgrest_bind", "localhost", "setting 'postgrest_bind' must be an IP address"),
        ("db_bind", "0.0.0.0x", "setting 'db_bind' must be an IP address"),
        ("db_schema", "Api; DROP", "setting 'db_schema' must be a lower-case SQL identifier"),
        ("swagger_enabled", "yes", "setting 'swagger_enabled' must be true or false"),
        ("docker_install", "snap", "setting 'docker_install' must be one of"),
        ("app_dir", "opt/x", "setting 'app_dir' must be an absolute path"),
        ("jwks_url", "ftp://x/jwks", "setting 'jwks_url' must be an https:// URL"),
        ("db_anon_role", "authenticator", "must differ"),
        ("image_source", "usb-stick", "setting 'image_source' must be one of registry, controller"),
        ("apt_proxy", "apt-cache:3142", "setting 'apt_proxy' must be an http(s)://HOST[:PORT] URL"),
        ("apt_proxy", "http://proxy:3142/ ; rm -rf /", "setting 'apt_proxy' must be an http(s)://HOST[:PORT] URL"),
        ("postgres_image", "localhost:5000/pg", "setting 'postgres_image' must name an image with a pinned tag or digest"),
        ("postgres_image", "postgres@sha256:abc", "setting 'postgres_image' must name an image with a pinned tag or digest"),
        ("postgrest_image", "localhost:5000/postgrest:latest", "setting 'postgrest_image' must pin a version"),
    ],
)
def test_bad_setting_names_itself(data, name, value, message):
    with pytest.raises(settings.SettingsError) as error:
        settings.resolve(dict(data, **{name: value}))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("image", [
    "localhost:5000/pg:15",
    "registry.example.com:443/team/postgres:15.14-bookworm",
    "postgres@sha256:" + "0123456789abcdef" * 4,
    "localhost:5000/pg:15@sha256:" + "0123456789abcdef" * 4,
])
def test_image_pins_with_registry_port_or_digest_are_accepted(data, image):
    # None of these tags names a PostgREST release: postgrest_version says which one it is.
    resolved = settings.resolve(dict(data, postgres_image=image, postgrest_image=image, postgrest_version="12.0.2"))
    assert resolved.postgres_image == image and resolved.postgrest_image == image


def test_apt_proxy_is_optional(data):
    assert settings.resolve(data).apt_proxy is None
    assert settings.resolve({**data, "apt_proxy": "http://10.0.0.1:3142"}).apt_proxy == "http://10.0.0.1:3142"


def test_image_source_defaults_to_registry(data):
    assert settings.resolve(data).image_source == "registry"
    assert settings.resolve(dict(data, image_source="controller")).image_source == "controller"


def test_secrets_from_environment(tmp_path):
    env = {"STACK_POSTGRES_PASSWORD": "p" * 20, "STACK_AUTHENTICATOR_PASSWORD": "a" * 20}
    assert stack_secrets.load({}, env) == {"postgres_password": "p" * 20, "authenticator_password": "a" * 20}


def test_secrets_from_file_and_environment_wins(tmp_path):
    path = tmp_path / "prod.env"
    path.write_text(f"# comment\nSTACK_POSTGRES_PASSWORD={'f' * 20}\nSTACK_AUTHENTICATOR_PASSWORD={'g' * 20}\n")
    path.chmod(0o600)
    found = stack_secrets.load({"secrets_file": str(path)}, {"STACK_POSTGRES_PASSWORD": "e" * 20})
    assert found == {"postgres_password": "e" * 20, "authenticator_password": "g" * 20}


def test_missing_secret_is_one_line_naming_it(tmp_path):
    with pytest.raises(settings.SettingsError) as error:
        stack_secrets.load({"secrets_file": str(tmp_path / "prod.env")}, {"STACK_POSTGRES_PASSWORD": "e" * 20})
    message = str(error.value)
    assert "missing secret 'authenticator_password'" in message
    assert "STACK_AUTHENTICATOR_PASSWORD" in message and str(tmp_path / "prod.env") in message
    assert "\n" not in message


def test_unsafe_secret_refused():
    with pytest.raises(settings.SettingsError, match="secret 'postgres_password'"):
        stack_secrets.load({}, {"STACK_POSTGRES_PASSWORD": "short$'", "STACK_AUTHENTICATOR_PASSWORD": "a" * 20})


def test_generated_once_then_reused_0600_in_0700(tmp_path):
    path = tmp_path / "local" / "secrets.env"
    data = {"secrets_file": str(path), "generate_secrets": True}
    first = stack_secrets.load(data, {})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stack_secrets.load(data, {}) == first
    assert len(set(first.values())) == 2 and all(len(v) >= 16 for v in first.values())


# --- Values PostgREST 12 or PostgreSQL would refuse later -------------------------------------


def refused(data, **overrides) -> str:
    with pytest.raises(settings.SettingsError) as error:
        settings.resolve(dict(data, **overrides))
    message = str(error.value)
    assert "\n" not in message
    return message


def test_audience_postgrest_cannot_parse_is_refused(data):
    # PostgREST 12: "Invalid Jwt audience": a value with ':' must be a URI (StringOrURI).
    assert refused(data, jwt_audience="my api:v1").startswith("setting 'jwt_audience' must be a valid URI")
    assert settings.resolve(dict(data, jwt_audience="urn:my-api:v1")).jwt_audience == "urn:my-api:v1"
    # '$' is PostgREST config syntax, escaped by render.conf_string: a valid audience.
    assert settings.resolve(dict(data, jwt_audience="a$b")).jwt_audience == "a$b"


def test_public_api_url_must_be_an_absolute_http_url(data):
    # PostgREST 12: "Malformed proxy uri".
    assert refused(data, public_api_url="api.example.com").startswith(
        "setting 'public_api_url' must be an absolute http:// or https:// URL")
    assert "must be an absolute" in refused(data, public_api_url="https://api.example.com?x=1")


@pytest.mark.parametrize(("name", "value", "message"), [
    ("db_schema", "order", "setting 'db_schema' must not be a reserved SQL key word"),
    ("db_user_role", "user", "setting 'db_user_role' must not be a reserved SQL key word"),
    ("db_anon_role", "public", "setting 'db_anon_role' must not be 'public'"),
    ("db_superuser", "user", "setting 'db_superuser' must not be a reserved SQL key word"),
    ("db_schema", "pg_api", "setting 'db_schema' must not start with 'pg_'"),
    ("db_anon_role", "pg_read_all_data", "setting 'db_anon_role' must not start with 'pg_'"),
    ("db_superuser", "pg_admin", "setting 'db_superuser' must not start with 'pg_'"),
])
def test_reserved_sql_names_are_refused(data, name, value, message):
    assert message in refused(data, **{name: value})


@pytest.mark.parametrize(("uri", "message"), [
    ("postgres://db.example.com/app?password=secret&user=admin", "must not carry 'password' in its query"),
    ("postgres://db.example.com/app?sslmode=require&user=admin", "must not carry 'user' in its query"),
    ("postgres://db.example.com/app?passfile=/root/.pgpass", "must not carry 'passfile' in its query"),
    ("postgres://admin@db.example.com/app", "no user or password"),
    ("postgres://db.example.com:99999/app", "must have a port from 1 to 65535, got '99999'"),
])
def test_external_db_uri_credentials_and_bad_ports_are_refused(data, uri, message):
    text = refused(data, stack_role="api", external_db_uri=uri)
    assert text.startswith("setting 'external_db_uri'") and message in text


@pytest.mark.parametrize(("overrides", "names"), [
    ({"postgrest_port": 3001}, ("postgrest_port", "postgrest_admin_port")),
    ({"postgrest_port": 3001, "postgrest_bind": "10.0.0.5"}, ("postgrest_port", "postgrest_admin_port")),
    ({"postgrest_port": 5432}, ("db_port", "postgrest_port")),
    ({"db_port": 3001}, ("db_port", "postgrest_admin_port")),
    ({"swagger_enabled": True, "public_api_url": "https://api.example.com", "swagger_port": 3000},
     ("postgrest_port", "swagger_port")),
    ({"db_bind": "0.0.0.0", "postgrest_bind": "10.0.0.5", "db_port": 3000}, ("db_port", "postgrest_port")),
])
def test_clashing_ports_are_refused_naming_both(data, overrides, names):
    message = refused(data, **overrides)
    assert message.startswith(f"settings '{names[0]}' and '{names[1]}' must differ"), message


@pytest.mark.parametrize("overrides", [
    {"postgrest_port": 5432, "stack_role": "api", "db_host": "10.0.0.5"},   # db_port is the db host's
    {"postgrest_port": 5432, "postgrest_bind": "10.0.0.5"},                 # another address
    {"swagger_port": 3000},                                                 # swagger not deployed
    {"stack_role": "db", "db_port": 3000},                                  # no PostgREST on a db host
])
def test_ports_published_apart_are_accepted(data, overrides):
    settings.resolve(dict(data, **overrides))


# --- The secrets file's directory ------------------------------------------------------------


def test_existing_directory_of_the_secrets_file_is_never_chmodded(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    stack_secrets.load({"secrets_file": str(shared / "secrets.env"), "generate_secrets": True}, {})
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "secrets.env").stat().st_mode) == 0o600


def test_secrets_file_at_the_project_root_leaves_the_root_alone(tmp_path, monkeypatch):
    import postgrest_stack

    root = tmp_path / "project"
    root.mkdir()
    root.chmod(0o755)
    monkeypatch.setattr(postgrest_stack, "PROJECT_ROOT", root)
    stack_secrets.load({"secrets_file": "secrets.env", "generate_secrets": True}, {})
    assert (root / "secrets.env").exists()
    assert stat.S_IMODE(root.stat().st_mode) == 0o755


def test_new_directory_of_the_secrets_file_is_0700_whatever_the_umask(tmp_path):
    import os

    old = os.umask(0)
    try:
        stack_secrets.load({"secrets_file": str(tmp_path / "a" / "b" / "secrets.env"), "generate_secrets": True}, {})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700
