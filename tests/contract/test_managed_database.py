"""An external managed database: the SQL runs as an admin role with CREATEROLE but no
SUPERUSER (the usual grant on hosted PostgreSQL) and touches only the stack's roles."""

from __future__ import annotations

import psycopg
import pytest

from postgrest_stack import render
from tests.contract.conftest import SECRETS, stack_settings
from tests.harness.pgcluster import PgCluster

ADMIN_PASSWORD = "managed-admin-password-0001"


@pytest.fixture(scope="module")
def managed():
    with PgCluster() as pg:
        # What a hosted provider hands out: a login with CREATEROLE and a database it owns.
        with pg.connect("postgres") as conn:
            conn.autocommit = True
            conn.execute(f"CREATE ROLE admin LOGIN CREATEROLE PASSWORD '{ADMIN_PASSWORD}'")
            conn.execute("CREATE DATABASE app OWNER admin")
        yield pg


def test_sql_applies_as_a_createrole_admin_without_superuser(managed, tmp_path):
    resolved = stack_settings(stack_role="api", external_db_uri=f"postgres://127.0.0.1:{managed.port}/app",
                              db_superuser="admin")
    files = render.render(resolved, dict(SECRETS, postgres_password=ADMIN_PASSWORD))
    for name in sorted(n for n in files if n.startswith("sql/")):
        path = tmp_path / name.split("/")[1]
        path.write_bytes(files[name].content)
        managed.psql_file(path, "app", user="admin", password=ADMIN_PASSWORD)
        managed.psql_file(path, "app", user="admin", password=ADMIN_PASSWORD)  # idempotent
    # The admin's own password and attributes are untouched; the stack's roles exist.
    with psycopg.connect(managed.uri("admin", ADMIN_PASSWORD, "app")) as conn:
        roles = dict(conn.execute(
            "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('authenticator', 'api_anon', 'api_user')").fetchall())
    assert roles == {"authenticator": True, "api_anon": False, "api_user": False}
    sql = "".join(files[n].content.decode() for n in files if n.startswith("sql/"))
    assert "ALTER ROLE admin" not in sql
