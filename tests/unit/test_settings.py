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
    assert settings.resolve(dict(data, postgres_image=image, postgrest_image=image)).postgres_image == image


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
