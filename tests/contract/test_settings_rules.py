"""The settings' rules against the real programs they stand for.

- jwt_audience and public_api_url are accepted exactly when PostgREST 12.0.2 starts with
  them (its config check, ``--dump-config``): "Invalid Jwt audience" / "Malformed proxy uri".
- RESERVED_WORDS is PostgreSQL 15's own list, and the names the identifier rule refuses
  are the ones PostgreSQL refuses in the stack's (unquoted) SQL.
"""

from __future__ import annotations

import subprocess

import psycopg
import pytest
from psycopg import sql as pgsql

from postgrest_stack import render, settings
from tests.harness.pgcluster import PgCluster
from tests.harness.ports import free_port
from tests.harness.postgrest import postgrest_binary

AUDIENCES = [
    "https://api.example.com", "client-123", "urn:example:api", "api:v1", "x:", "a:%41", "a:b#c", "my api",
    "a$b", "https://api.example.com/v1?x=1", "mailto:ops@example.com", "https://[::1]:8443/",
    "my api:v1", "http://a b", ":x", "a%zz:b", "a:b[1]", "1a:b", "a:b c", "a:|", "https://[zz]/", "x:y\\z",
]
PROXY_URIS = [
    "https://api.example.com", "http://api.example.com:8080/v1", "HTTPS://A.com", "https://[::1]:3000",
    "https://a_b.com", "https://127.0.0.1:3000", "https://a.com/", "https://a.com:65535", "https://a.com:080",
    "https://a.com/a%20b", "https://a.com/x;y", "https://a.com/@x", "https://a.com/x:y", "http://localhost",
    "api.example.com", "ftp://x.com", "https://", "https:///x", "https://a.com:99999", "https://a.com:0",
    "https://user@a.com", "https://a.com/x?y=1#z", "https://a b.com", "https://a.com:", "https://a.com:abc",
    "https://a.com?x=1", "https://a.com#f", "https://a.com/a b", "https://a.com/%zz", "https://a.com:65536",
]


def postgrest_starts_with(tmp_path, line: str) -> bool:
    conf = tmp_path / "postgrest.conf"
    # --dump-config binds the server port too: a free one, not 3000 (a running stack may hold it).
    conf.write_text('db-uri = "postgres://authenticator@127.0.0.1:1/app"\ndb-anon-role = "api_anon"\n'
                    f'server-host = "127.0.0.1"\nserver-port = {free_port()}\n' + line + "\n")
    done = subprocess.run([str(postgrest_binary()), "--dump-config", str(conf)], capture_output=True, text=True,
                          timeout=30, env={"PGCONNECT_TIMEOUT": "1"})
    return done.returncode == 0


def settings_accept(check: settings.Check, name: str, value: str) -> bool:
    try:
        check(name, value)
        return True
    except settings.SettingsError:
        return False


@pytest.mark.parametrize("value", AUDIENCES)
def test_jwt_audience_rule_is_postgrests(tmp_path, value):
    check = settings.SETTINGS_BY_NAME["jwt_audience"].check
    started = postgrest_starts_with(tmp_path, f"jwt-aud = {render.conf_string(value)}")
    assert settings_accept(check, "jwt_audience", value) == started


@pytest.mark.parametrize("value", PROXY_URIS)
def test_public_api_url_rule_is_postgrests(tmp_path, value):
    check = settings.SETTINGS_BY_NAME["public_api_url"].check
    started = postgrest_starts_with(tmp_path, f"openapi-server-proxy-uri = {render.conf_string(value)}")
    assert settings_accept(check, "public_api_url", value) == started


@pytest.fixture(scope="module")
def cluster():
    with PgCluster() as c:
        yield c


def test_reserved_words_are_postgresqls(cluster):
    with cluster.connect("postgres") as conn:
        words = {row[0] for row in conn.execute("SELECT word FROM pg_get_keywords() WHERE catcode IN ('R', 'T')")}
    assert settings.RESERVED_WORDS == words


@pytest.mark.parametrize(("kind", "name"), [
    ("schema", "order"), ("schema", "left"), ("schema", "pg_api"),
    ("role", "user"), ("role", "public"), ("role", "none"), ("role", "pg_api"), ("role", "current_user"),
])
def test_refused_names_are_refused_by_postgresql(cluster, kind, name):
    statement = f"CREATE SCHEMA {name}" if kind == "schema" else f"CREATE ROLE {name}"
    with cluster.connect("postgres", autocommit=True) as conn, pytest.raises(psycopg.Error):
        conn.execute(statement)
    with pytest.raises(settings.SettingsError):
        settings.Identifier(kind)(f"db_{kind}", name)


@pytest.mark.parametrize(("kind", "name"), [("schema", "api"), ("schema", "v1"), ("schema", "int"),
                                            ("role", "web_anon"), ("role", "admin"), ("role", "varchar")])
def test_accepted_names_work_unquoted(cluster, kind, name):
    settings.Identifier(kind)(f"db_{kind}", name)
    with cluster.connect("postgres", autocommit=True) as conn:
        conn.execute(f"CREATE {kind.upper()} {name}")
        conn.execute(pgsql.SQL("DROP {} {}").format(pgsql.SQL(kind.upper()), pgsql.Identifier(name)))
