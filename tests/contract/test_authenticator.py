"""The authenticator role holds nothing of its own, and nothing in the database can widen
what the deployed postgrest.conf says (real PostgreSQL 15, real PostgREST 12.0.2).

- NOINHERIT: the authenticator's password alone (a leaked .env, a psql session) reads
  no table; only PostgREST's switch to a role a verified token names does.
- db-config = false: an ``ALTER ROLE authenticator SET pgrst.*`` made by anyone with
  that right changes nothing on the next reload.
"""

from __future__ import annotations

import time

import psycopg
import pytest
import requests

from tests.contract.conftest import (
    AUDIENCE,
    ISSUER,
    SECRETS,
    apply_sql_as_admin,
    managed_database,
    stack_settings,
    start_api,
)
from tests.harness.auth0 import Tenant

OTHER_AUDIENCE = "https://other-api.example.com"


def read_todos(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM api.todos").fetchone()[0]


def assert_reads_only_after_set_role(connect) -> None:
    with connect() as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            read_todos(conn)
    # The same login reads once it switches role, as PostgREST does: the grants are in
    # place, only inheriting them is not.
    with connect() as conn:
        conn.execute("SET ROLE api_anon")
        assert read_todos(conn) >= 0


def test_the_authenticators_login_alone_reads_no_table(cluster, applied):
    assert_reads_only_after_set_role(
        lambda: cluster.connect("app", user="authenticator", password=SECRETS["authenticator_password"]))


def test_the_same_holds_on_an_external_database(tmp_path):
    """The external-database branch of sql/01-roles.sql sets its own attributes."""
    with managed_database() as managed:
        apply_sql_as_admin(managed, tmp_path)
        assert_reads_only_after_set_role(
            lambda: managed.connect("app", user="authenticator", password=SECRETS["authenticator_password"]))


def status(base_url: str, token: str) -> int:
    return requests.get(f"{base_url}/todos?limit=1", headers={"Authorization": f"Bearer {token}"},
                        timeout=5).status_code


def test_in_database_settings_do_not_change_the_accepted_audience(cluster, applied, tmp_path):
    tenant = Tenant.with_keys(("k1", "k2"), published=("k1", "k2"))
    resolved = stack_settings()

    def token(key: str, audience: str) -> str:
        return tenant.token(key, audience=audience, issuer=ISSUER, role_claim=resolved.jwt_role_claim, role="api_user")

    process = start_api(cluster, tenant, tmp_path, resolved, SECRETS["authenticator_password"])
    try:
        url = process.base_url
        assert (status(url, token("k1", AUDIENCE)), status(url, token("k1", OTHER_AUDIENCE))) == (200, 401)
        with cluster.connect("app", autocommit=True) as conn:
            conn.execute(f"ALTER ROLE authenticator SET pgrst.jwt_aud = '{OTHER_AUDIENCE}'")
            conn.execute(f"ALTER ROLE authenticator IN DATABASE app SET pgrst.jwt_aud = '{OTHER_AUDIENCE}'")
        # A reload that certainly took place: the key file loses k1 at the same time.
        tenant.publish("k2")
        (tmp_path / "jwks.json").write_bytes(tenant.key_file())
        process.reload()
        deadline = time.monotonic() + 10
        while status(url, token("k1", AUDIENCE)) != 401:
            assert time.monotonic() < deadline, f"PostgREST did not reload{process._log_tail()}"
            time.sleep(0.2)
        assert status(url, token("k2", AUDIENCE)) == 200
        assert status(url, token("k2", OTHER_AUDIENCE)) == 401
    finally:
        process.stop()
        with cluster.connect("app", autocommit=True) as conn:
            conn.execute("ALTER ROLE authenticator RESET pgrst.jwt_aud")
            conn.execute("ALTER ROLE authenticator IN DATABASE app RESET pgrst.jwt_aud")
