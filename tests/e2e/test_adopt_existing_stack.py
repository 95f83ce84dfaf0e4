"""A stack deployed before migrations existed moves over without loss (issue 20, item 11).

The target is deployed, given rows, then put back into the state the release before
migrations left (its last commit: eabc5bd): no owner role, no ledger schema, api and
api.todos the superuser's, sql/02-api.sql on the host and neither bin/migrate nor
migrations/, the SQL digest that release recorded. The next deploy of this release
removes the old file, hands the table to the owner role and records 0001_todos.sql as
applied without running it: the same table, its rows and identity kept.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
import requests

from tests.e2e.harness import Target, bearer
from tests.harness import before_migrations

#: What that release left in the database beside its tables (run as the superuser).
BACK_TO_BEFORE = """DROP SCHEMA stack_meta CASCADE;
ALTER TABLE api.todos OWNER TO postgres;
ALTER SCHEMA api OWNER TO postgres;
DROP OWNED BY api_owner;
DROP ROLE api_owner;
COMMENT ON SCHEMA auth_guard IS 'sql-digest:of-the-release-before-migrations';
"""


@pytest.fixture(scope="module")
def target(jwks_endpoint):
    made = Target.create("adopt", jwks_endpoint.url)
    yield made
    made.destroy()


def psql(target: Target, sql: str) -> str:
    done = subprocess.run([str(target.app_dir / "bin" / "compose"), "exec", "-T", "db", "psql", "-X", "-q", "-At",
                           "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-d", "app"],
                          input=sql, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def token(tenant, target):
    return tenant.token("k1", audience=target.data["jwt_audience"], issuer="https://tenant.eu.auth0.com/",
                        role_claim="https://postgrest-demo.de/role", role="api_user")


def test_a_stack_from_before_migrations_keeps_its_todos_and_adopts_the_example(target, tenant):
    target.deploy().check()
    for task in ("kept 1", "kept 2"):
        created = requests.post(f"{target.api}/todos", json={"task": task}, headers=bearer(token(tenant, target)),
                                timeout=10)
        assert created.status_code == 201, created.text
    oid = psql(target, "SELECT 'api.todos'::regclass::oid;")
    # Back to what the release before migrations left.
    psql(target, BACK_TO_BEFORE)
    shutil.rmtree(target.app_dir / "migrations")
    (target.app_dir / "bin" / "migrate").unlink()
    (target.app_dir / "sql" / "04-migrations.sql").unlink()
    old = target.app_dir / "sql" / "02-api.sql"
    old.write_text(before_migrations.API_SQL_FILE)
    old.chmod(0o600)

    run = target.deploy().check()
    assert "PostgREST stack | Remove SQL files and migrations the project no longer has" in run.changed
    assert "Apply migrations" in " ".join(run.changed)  # it ran, and adopted (the ledger below)
    assert not old.exists()
    assert psql(target, "SELECT 'api.todos'::regclass::oid;") == oid  # the same table
    assert psql(target, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'api.todos'::regclass;") \
        == "api_owner\n"
    assert psql(target, "SELECT version, name, applied_by LIKE 'adopted by %' FROM stack_meta.migrations;") \
        == "1|0001_todos.sql|t\n"
    rows = requests.get(f"{target.api}/todos?select=task&order=id", headers=bearer(token(tenant, target)),
                        timeout=10)
    assert rows.json() == [{"task": "kept 1"}, {"task": "kept 2"}]
    created = requests.post(f"{target.api}/todos", json={"task": "after"}, headers=bearer(token(tenant, target)),
                            timeout=10)
    assert created.status_code == 201, created.text  # the identity goes on, the grants hold
    assert target.deploy().check().changed == []
