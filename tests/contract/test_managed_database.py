"""An external managed database: the SQL runs as an admin role with CREATEROLE but no
SUPERUSER (the usual grant on hosted PostgreSQL) and touches only the stack's roles."""

from __future__ import annotations

import psycopg
import pytest

from tests.contract.conftest import MANAGED_ADMIN_PASSWORD, apply_sql_as_admin, managed_database


@pytest.fixture(scope="module")
def managed():
    with managed_database() as pg:
        yield pg


def test_sql_applies_as_a_createrole_admin_without_superuser(managed, tmp_path):
    apply_sql_as_admin(managed, tmp_path)
    files = apply_sql_as_admin(managed, tmp_path)  # idempotent
    # The admin's own password and attributes are untouched; the stack's roles exist.
    with psycopg.connect(managed.uri("admin", MANAGED_ADMIN_PASSWORD, "app")) as conn:
        roles = dict(conn.execute(
            "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('authenticator', 'api_anon', 'api_user')").fetchall())
    assert roles == {"authenticator": True, "api_anon": False, "api_user": False}
    sql = "".join(files[n].content.decode() for n in files if n.startswith("sql/"))
    assert "ALTER ROLE admin" not in sql
