"""The rendered bin/migrate against a real PostgreSQL 15.

The script runs as on a host, from its app_dir, with stand-ins for the two ways it
reaches the database: ``bin/compose exec -T db CMD`` (this stack's db container) and
``docker run --rm -i --network host --env-file .env IMAGE CMD`` (the postgres image
against an external database). Each stand-in runs CMD here, in an environment like the
container's, so the script's container-side command (tar in, psql -f run.sql) and all
of its SQL run for real against the test's cluster. The project SQL is applied first
by the rendered bin/apply-sql, through the same stand-ins.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
import requests

from postgrest_stack import render
from tests.conftest import ROOT
from tests.contract.conftest import MANAGED_ADMIN_PASSWORD, SECRETS, managed_database, stack_settings
from tests.harness import before_migrations
from tests.harness.local_pyinfra import stand_ins

#: bin/compose: `exec -T db CMD...` runs CMD in a clean environment, as in the db
#: container: POSTGRES_USER and POSTGRES_DB from .env (compose passes them), and psql
#: reaching the test's cluster as the superuser, as the container's socket lets it.
STAND_IN_COMPOSE = """#!/bin/sh
echo "compose $*" >> "$STAND_IN_LOG"
[ "$1 $2 $3" = "exec -T db" ] || { echo "stand-in compose: unexpected arguments: $*" >&2; exit 99; }
shift 3
user=$(sed -n 's/^POSTGRES_USER=//p' .env)
db=$(sed -n 's/^POSTGRES_DB=//p' .env)
cd /
exec env -i PATH="$PATH" POSTGRES_USER="$user" POSTGRES_DB="$db" \\
  PGHOST="$TEST_PGHOST" PGPORT="$TEST_PGPORT" PGPASSWORD="$TEST_PGPASSWORD" "$@"
"""

#: docker: `run --rm -i --network host --env-file FILE IMAGE CMD...` runs CMD in a clean
#: environment holding only FILE's variables, as the one-off postgres container would.
STAND_IN_DOCKER = """#!/bin/sh
echo "docker $*" >> "$STAND_IN_LOG"
[ "$1" = run ] || { echo "stand-in docker: unexpected arguments: $*" >&2; exit 99; }
shift
rm= interactive= network= envfile=
while :; do
  case "$1" in
    --rm) rm=1; shift ;;
    -i) interactive=1; shift ;;
    --network) network=$2; shift 2 ;;
    --env-file) envfile=$2; shift 2 ;;
    *) break ;;
  esac
done
[ -n "$rm" ] && [ -n "$interactive" ] && [ "$network" = host ] && [ -f "$envfile" ] \\
  || { echo "stand-in docker: expected --rm -i --network host --env-file FILE" >&2; exit 98; }
shift  # the image
exec env -i PATH="$PATH" sh -c '
  while IFS= read -r line; do
    case $line in ""|"#"*) ;; *=*) export "$line" ;; esac
  done < "$0"
  cd /; exec "$@"' "$(pwd)/$envfile" "$@"
"""

OWNER = "api_owner"
OPERATOR = "deployer@controller-1"


class Host:
    """A rendered app_dir for one database of the cluster, with the stand-ins."""

    def __init__(self, cluster, tmp_path: Path, db_name: str, *, secrets: dict | None = None, **overrides):
        self.cluster, self.db_name = cluster, db_name
        self.app = tmp_path / "app"
        # An empty folder unless a test says otherwise (the project's holds the example).
        self.settings = stack_settings(app_dir=str(self.app), db_name=db_name,
                                       **{"migrations_dir": str(tmp_path / "no-migrations"), **overrides})
        files = render.render(self.settings, dict(secrets or SECRETS))
        render.write_tree(files, self.app)
        (self.app / "bin" / "compose").write_text(STAND_IN_COMPOSE)
        (self.app / "bin" / "compose").chmod(0o755)
        (self.app / "migrations").mkdir(exist_ok=True)
        stub_bin = stand_ins(tmp_path / "stub-bin", {"docker": STAND_IN_DOCKER})
        self.log = tmp_path / "stand-in.log"
        self.env = {
            "PATH": f"{stub_bin}:{os.environ['PATH']}", "HOME": str(tmp_path), "LANG": "C.UTF-8",
            "STAND_IN_LOG": str(self.log),
            "TEST_PGHOST": cluster.host, "TEST_PGPORT": str(cluster.port),
            "TEST_PGPASSWORD": cluster.superuser_password,
        }

    def run(self, script: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.app / "bin" / script), *args], env=self.env, capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)

    def apply_sql(self) -> None:
        done = self.run("apply-sql")
        assert done.returncode == 0, done.stderr

    def migrate(self, *args: str) -> subprocess.CompletedProcess:
        return self.run("migrate", *args)

    def start_migrate(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([str(self.app / "bin" / "migrate"), *args], env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)

    def write(self, name: str, text: str) -> bytes:
        (self.app / "migrations" / name).write_text(text)
        return (self.app / "migrations" / name).read_bytes()

    def connect(self) -> psycopg.Connection:
        return self.cluster.connect(self.db_name, autocommit=True)

    def query(self, sql: str, *params) -> list[tuple]:
        with self.connect() as conn:
            return conn.execute(sql, params).fetchall()

    def ledger(self) -> list[tuple]:
        return self.query("SELECT version, name, sha256, applied_by FROM stack_meta.migrations ORDER BY version")


@pytest.fixture
def host(cluster, tmp_path, request):
    """A fresh database of the module's cluster with the project SQL applied."""
    name = "m_" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:12]
    cluster.create_database(name)
    host = Host(cluster, tmp_path, name)
    host.apply_sql()
    return host


def owner_of(host: Host, relation: str) -> str:
    return host.query("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = %s::regclass", relation)[0][0]


def test_pending_migrations_apply_once_in_numeric_order(host):
    host.write("0001_log.sql", "CREATE TABLE api.log (seq serial PRIMARY KEY, name text NOT NULL);\n"
                               "INSERT INTO api.log (name) VALUES ('0001');\nSELECT 'noise on stdout';\n")
    for name in ("0002_b.sql", "0010_c.sql", "00011_d.sql"):  # numeric: 00011 after 0010
        host.write(name, f"INSERT INTO api.log (name) VALUES ('{name[:-4]}');\n")
    done = host.migrate(OPERATOR)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.rsplit(" in ", 1)[0] for line in lines[:-1]] == [
        f"migrate: applied {n}" for n in ("0001_log.sql", "0002_b.sql", "0010_c.sql", "00011_d.sql")]
    assert lines[-1] == "migrate: 4 applied, 0 already applied; PostgREST reloads its schema cache"
    assert done.stderr == ""
    assert host.query("SELECT name FROM api.log ORDER BY seq") == [
        ("0001",), ("0002_b",), ("0010_c",), ("00011_d",)]
    assert [row[:2] for row in host.ledger()] == [
        (1, "0001_log.sql"), (2, "0002_b.sql"), (10, "0010_c.sql"), (11, "00011_d.sql")]

    again = host.migrate(OPERATOR)
    assert again.returncode == 0, again.stderr
    assert again.stdout == "migrate: nothing pending (4 already applied)\n"
    assert host.query("SELECT count(*) FROM api.log") == [(4,)]

    # A new file is applied alone on the next run.
    host.write("0012_e.sql", "INSERT INTO api.log (name) VALUES ('0012_e');\n")
    third = host.migrate(OPERATOR)
    assert third.returncode == 0, third.stderr
    assert third.stdout.splitlines()[-1] == "migrate: 1 applied, 4 already applied; PostgREST reloads its schema cache"
    assert host.query("SELECT name FROM api.log ORDER BY seq DESC LIMIT 1") == [("0012_e",)]


def test_the_ledger_records_each_file_with_its_digest_operator_and_duration(host):
    first = host.write("0001_slow.sql", "CREATE TABLE api.t (id int);\nSELECT pg_sleep(0.3);\n")
    second = host.write("0002_fast.sql", "-- migrate: no-transaction\nSELECT pg_sleep(0.2);\n")
    started = datetime.now(timezone.utc)
    done = host.migrate("o'neil@ctl; DROP TABLE x")
    assert done.returncode == 0, done.stderr
    rows = host.query("SELECT version, name, sha256, applied_by, duration_ms, applied_at "
                      "FROM stack_meta.migrations ORDER BY version")
    assert [row[:4] for row in rows] == [
        (1, "0001_slow.sql", hashlib.sha256(first).hexdigest(), "o'neil@ctl; DROP TABLE x"),
        (2, "0002_fast.sql", hashlib.sha256(second).hexdigest(), "o'neil@ctl; DROP TABLE x"),
    ]
    assert 300 <= rows[0][4] < 10_000 and 200 <= rows[1][4] < 10_000
    for row in rows:
        assert started - timedelta(seconds=5) <= row[5] <= datetime.now(timezone.utc)
    assert "migrate: applied 0001_slow.sql in" in done.stdout

    # Without an operator: "unknown".
    host.write("0003_more.sql", "SELECT 1;\n")
    assert host.migrate().returncode == 0
    assert host.ledger()[-1][3] == "unknown"


def test_a_failing_migration_rolls_back_whole_and_stops_the_run(host):
    host.write("0001_ok.sql", "CREATE TABLE api.first (id int);\n")
    host.write("0002_fails.sql", "CREATE TABLE api.half (id int);\nINSERT INTO api.half VALUES (1);\n\n"
                                 "SELECT nosuch FROM api.half;\nCREATE TABLE api.never (id int);\n")
    host.write("0003_after.sql", "CREATE TABLE api.after (id int);\n")
    done = host.migrate(OPERATOR)
    assert done.returncode != 0
    assert done.stdout.startswith("migrate: applied 0001_ok.sql in ")
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith('migrate: migrations/0002_fails.sql failed at line 4: ERROR: column "nosuch" '
                                  'does not exist; rolled back whole'), done.stderr
    # Nothing of 0002 stays, 0003 never ran, and only 0001 is recorded.
    present = host.query("SELECT to_regclass('api.first'), to_regclass('api.half'), to_regclass('api.never'), "
                         "to_regclass('api.after')")
    assert present == [("api.first", None, None, None)]
    assert [row[1] for row in host.ledger()] == ["0001_ok.sql"]

    # Fixed, the rerun applies it and what follows.
    fixed = host.write("0002_fails.sql", "CREATE TABLE api.half (id int);\nINSERT INTO api.half VALUES (1);\n")
    rerun = host.migrate(OPERATOR)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.splitlines()[-1] == "migrate: 2 applied, 1 already applied; PostgREST reloads its schema cache"
    assert [row[1:3] for row in host.ledger()] == [
        ("0001_ok.sql", host.ledger()[0][2]), ("0002_fails.sql", hashlib.sha256(fixed).hexdigest()),
        ("0003_after.sql", host.ledger()[2][2])]
    assert host.query("SELECT count(*) FROM api.half") == [(1,)]


def test_a_no_transaction_file_runs_outside_one(host):
    host.write("0001_table.sql", "CREATE TABLE api.items (id int, label text);\n")
    host.write("0002_index.sql", "-- migrate: no-transaction   \nCREATE INDEX CONCURRENTLY items_label ON api.items (label);\n"
                                 "CREATE TABLE api.made_outside (id int);\n")
    done = host.migrate(OPERATOR)
    assert done.returncode == 0, done.stderr
    assert host.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'api.items_label'::regclass") == [(True,)]
    assert [row[1] for row in host.ledger()] == ["0001_table.sql", "0002_index.sql"]
    assert owner_of(host, "api.made_outside") == OWNER

    # One that fails: not recorded, and the line says its earlier statements stay.
    host.write("0003_broken.sql", "-- migrate: no-transaction\nCREATE TABLE api.kept (id int);\n"
                                  "CREATE INDEX CONCURRENTLY broken ON api.nosuch (id);\n")
    failed = host.migrate(OPERATOR)
    assert failed.returncode != 0
    assert failed.stderr.startswith('migrate: migrations/0003_broken.sql failed at line 3: ERROR: relation '
                                    '"api.nosuch" does not exist; it ran outside a transaction'), failed.stderr
    assert len(failed.stderr.splitlines()) == 1
    assert [row[1] for row in host.ledger()] == ["0001_table.sql", "0002_index.sql"]


def test_what_migrations_create_belongs_to_the_owner_role(host):
    host.write("0001_objects.sql", """CREATE TABLE api.orders (id bigint GENERATED ALWAYS AS IDENTITY, total int);
CREATE SEQUENCE api.numbers;
CREATE VIEW api.big_orders AS SELECT * FROM api.orders WHERE total > 100;
CREATE FUNCTION api.answer() RETURNS int LANGUAGE sql AS 'SELECT 42';
""")
    done = host.migrate(OPERATOR)
    assert done.returncode == 0, done.stderr
    for relation in ("api.orders", "api.numbers", "api.big_orders", "api.orders_id_seq"):
        assert owner_of(host, relation) == OWNER, relation
    assert host.query("SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE oid = 'api.answer'::regproc") == [(OWNER,)]
    # The owner role is no superuser, logs in nowhere, and cannot touch the ledger.
    assert host.query("SELECT rolsuper, rolcanlogin, rolinherit FROM pg_roles WHERE rolname = %s", OWNER) == [
        (False, False, False)]
    assert owner_of(host, "stack_meta.migrations") == "postgres"
    host.write("0002_peek.sql", "SELECT count(*) FROM stack_meta.migrations;\n")
    peek = host.migrate(OPERATOR)
    assert peek.returncode != 0
    assert "0002_peek.sql failed at line 1: ERROR: permission denied for " in peek.stderr
    # Nor can PostgREST's roles.
    with host.connect() as conn:
        for role in ("authenticator", "api_anon", "api_user"):
            conn.execute(f"SET ROLE {role}")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT count(*) FROM stack_meta.migrations")
            conn.execute("RESET ROLE")


def test_a_file_that_ends_its_own_transaction_is_not_recorded(host):
    host.write("0001_commits.sql", "BEGIN;\nCREATE TABLE api.c (id int);\nCOMMIT;\n")
    done = host.migrate(OPERATOR)
    assert done.returncode != 0
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "migrations/0001_commits.sql ended its transaction itself" in done.stderr
    assert host.ledger() == []


def test_the_schema_and_what_the_project_sql_made_there_belong_to_the_owner(host):
    """An existing stack's api.todos (made by the project SQL as the superuser) is handed
    over, so later migrations may alter it; the roles keep their grants."""
    with host.connect() as conn:
        conn.execute(BEFORE_MIGRATIONS)
    assert owner_of(host, "api.todos") != OWNER
    host.apply_sql()
    assert host.query("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'api'") == [(OWNER,)]
    assert owner_of(host, "api.todos") == OWNER
    host.write("0001_todos_note.sql", "ALTER TABLE api.todos ADD COLUMN note text;\n")
    done = host.migrate(OPERATOR)
    assert done.returncode == 0, done.stderr
    with host.connect() as conn:
        conn.execute("SET ROLE api_anon")
        assert conn.execute("SELECT count(note) FROM api.todos").fetchall() == [(0,)]


def locks(host: Host, *, on_42: bool) -> int:
    """Advisory locks of this database someone waits for: on key 42, or any other key."""
    return host.query(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE d.datname = current_database() AND l.locktype = 'advisory' AND NOT l.granted "
        "AND (l.classid = 0 AND l.objid = 42) = %s", on_42)[0][0]


def wait_until(condition, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_two_runs_at_once_never_apply_a_migration_twice(host):
    host.write("0001_runs.sql", "CREATE TABLE api.runs (n int);\nSELECT pg_advisory_xact_lock_shared(42);\n"
                                "INSERT INTO api.runs VALUES (1);\n")
    host.write("0002_more.sql", "-- migrate: no-transaction\nINSERT INTO api.runs VALUES (2);\n")
    with host.connect() as gate:
        gate.execute("SELECT pg_advisory_lock(42)")  # holds the first run inside 0001
        first = host.start_migrate("first@ctl")
        second = None
        try:
            wait_until(lambda: locks(host, on_42=True) == 1, "the first run never reached 0001")
            second = host.start_migrate("second@ctl")
            wait_until(lambda: locks(host, on_42=False) == 1, "the second run never waited on the migrations lock")
        finally:
            gate.execute("SELECT pg_advisory_unlock(42)")
            outputs = [process.communicate(timeout=60) for process in (first, second) if process]
    (out1, err1), (out2, err2) = outputs
    assert (first.returncode, second.returncode) == (0, 0), (err1, err2)
    assert out1.splitlines()[-1] == "migrate: 2 applied, 0 already applied; PostgREST reloads its schema cache"
    assert out2 == "migrate: nothing pending (2 already applied)\n"
    assert host.query("SELECT n FROM api.runs ORDER BY n") == [(1,), (2,)]
    assert [row[3] for row in host.ledger()] == ["first@ctl", "first@ctl"]


def test_an_external_database_is_reached_with_the_postgres_image(cluster, tmp_path):
    """stack_role api with external_db_uri: the one-off postgres container, the password
    from .env only (never on a command line)."""
    cluster.create_database("external")
    host = Host(cluster, tmp_path, "external", stack_role="api",
                external_db_uri=f"postgres://127.0.0.1:{cluster.port}/external")
    host.env = {k: v for k, v in host.env.items() if not k.startswith("TEST_PG")}
    host.apply_sql()
    host.write("0001_t.sql", "CREATE TABLE api.t (id int);\n")
    done = host.migrate(OPERATOR)
    assert done.returncode == 0, done.stderr
    assert owner_of(host, "api.t") == OWNER
    assert [row[1] for row in host.ledger()] == ["0001_t.sql"]
    commands = host.log.read_text()
    assert "docker run --rm -i --network host --env-file .env " in commands
    assert cluster.superuser_password not in commands


def test_a_managed_database_admin_without_superuser_applies_them(tmp_path):
    """An external database whose admin has CREATEROLE but no SUPERUSER: it is made a
    member of the owner role, so SET ROLE and the schema's hand-over work."""
    with managed_database() as managed:
        host = Host(managed, tmp_path, "app", stack_role="api", db_superuser="admin",
                    external_db_uri=f"postgres://127.0.0.1:{managed.port}/app",
                    secrets=dict(SECRETS, postgres_password=MANAGED_ADMIN_PASSWORD))
        host.apply_sql()
        host.apply_sql()  # idempotent
        host.write("0001_t.sql", "CREATE TABLE api.t (id int);\nGRANT SELECT ON api.t TO api_anon;\n")
        host.write("0002_i.sql", "-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY t_id ON api.t (id);\n")
        done = host.migrate(OPERATOR)
        assert done.returncode == 0, done.stderr
        assert owner_of(host, "api.t") == OWNER
        assert owner_of(host, "stack_meta.migrations") == "admin"
        assert [row[1] for row in host.ledger()] == ["0001_t.sql", "0002_i.sql"]


def test_postgrest_serves_a_migrated_table_with_the_grants_it_gives(cluster, applied, api, tmp_path):
    """The NOTIFY reaches PostgREST (no restart), and the anon and user roles can use what
    the migration grants them, row-level security included; the ledger is not served."""
    host = Host(cluster, tmp_path, "app")
    host.apply_sql()
    host.write("0002_notes.sql", """CREATE TABLE api.notes (  -- 0001: the example (conftest)
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  body text NOT NULL,
  public boolean NOT NULL DEFAULT false
);
ALTER TABLE api.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY notes_read_public ON api.notes FOR SELECT TO api_anon USING (public);
CREATE POLICY notes_user_all ON api.notes TO api_user USING (true) WITH CHECK (true);
GRANT SELECT ON api.notes TO api_anon;
GRANT SELECT, INSERT ON api.notes TO api_user;
INSERT INTO api.notes (body, public) VALUES ('hello', true), ('secret', false);
""")
    assert "/notes" not in api.get("/").json()["paths"]
    done = host.migrate(OPERATOR)
    assert done.returncode == 0, done.stderr
    # PostgREST's schema cache (what its OpenAPI root lists) has the table within 5 s.
    deadline = time.monotonic() + 5
    while "/notes" not in api.get("/").json()["paths"]:
        assert time.monotonic() < deadline, "PostgREST's schema cache lacks /notes 5 s after the migration"
        time.sleep(0.1)
    assert [row["body"] for row in api.get("/notes").json()] == ["hello"]  # anon: the public rows only
    token = api.token()
    created = api.post("/notes", token=token, body={"body": "mine"})
    assert created.status_code == 201, created.text
    assert sorted(row["body"] for row in api.get("/notes", token=token).json()) == ["hello", "mine", "secret"]
    assert api.post("/notes", body={"body": "anon"}).status_code == 401
    # The ledger's schema is not PostgREST's to serve.
    ledger = requests.get(api.url + "/migrations", headers={"Accept-Profile": "stack_meta"}, timeout=10)
    assert ledger.status_code == 406, ledger.text


@pytest.mark.parametrize(("names", "refusal"), [
    (["0001_a.sql", "00001_b.sql"], "migrate: migrations/00001_b.sql and migrations/0001_a.sql have the same "
                                    "number 1; nothing applied"),
    (["0001_a.sql", "002_b.sql"], "migrate: migrations/002_b.sql: not named NNNN_slug.sql"),
    (["0001_a.sql", "0002_b c.sql"], "migrate: migrations/0002_b c.sql: a name of letters, digits"),
])
def test_names_the_controller_refuses_are_refused_on_the_host_too(host, names, refusal):
    for name in names:
        host.write(name, "CREATE TABLE api.t (id int);\n")
    done = host.migrate(OPERATOR)
    assert done.returncode == 1
    assert done.stderr.startswith(refusal) and len(done.stderr.splitlines()) == 1, done.stderr
    assert host.ledger() == [] and host.query("SELECT to_regclass('api.t')") == [(None,)]


#: An existing stack's demo table (what sql/02-api.sql made before migrations), with rows.
BEFORE_MIGRATIONS = before_migrations.API_SQL + "INSERT INTO api.todos (task) VALUES ('kept 1'), ('kept 2');\n"
EXAMPLE = ROOT / "migrations" / "0001_todos.sql"


def test_a_stack_deployed_before_migrations_adopts_the_example_without_running_it(cluster, tmp_path):
    """Its api.todos (rows and identity) stays as it is; 0001_todos.sql is recorded as
    applied, never run over it; a later migration applies as on any stack."""
    cluster.create_database("adopt")
    host = Host(cluster, tmp_path, "adopt", migrations_dir=str(EXAMPLE.parent))
    host.apply_sql()  # the roles (as that release made them), then its demo SQL
    with host.connect() as conn:
        conn.execute(BEFORE_MIGRATIONS)
        oid = conn.execute("SELECT 'api.todos'::regclass::oid").fetchone()[0]
    host.apply_sql()  # this release's SQL: hands api.todos to the owner
    done = host.migrate(OPERATOR)
    assert done.returncode == 0, done.stderr
    assert ("migrate: adopted 0001_todos.sql as applied: api.todos was there before migrations "
            "(its rows kept)") in done.stdout
    assert "migrate: nothing pending (1 already applied)" in done.stdout
    assert host.ledger() == [(1, "0001_todos.sql", hashlib.sha256(EXAMPLE.read_bytes()).hexdigest(),
                              f"adopted by {OPERATOR}: api.todos predates migrations")]
    assert host.query("SELECT task FROM api.todos ORDER BY id") == [("kept 1",), ("kept 2",)]
    assert host.query("SELECT 'api.todos'::regclass::oid")[0][0] == oid  # the same table, not a new one
    assert owner_of(host, "api.todos") == OWNER
    host.write("0002_todo_notes.sql", "ALTER TABLE todos ADD COLUMN note text;\n")
    again = host.migrate(OPERATOR)
    assert again.returncode == 0, again.stderr
    assert "migrate: applied 0002_todo_notes.sql in" in again.stdout and "adopted" not in again.stdout
    assert host.query("SELECT task, note FROM api.todos ORDER BY id") == [("kept 1", None), ("kept 2", None)]


def test_a_fresh_database_runs_the_example_with_the_role_names_of_its_settings(cluster, tmp_path):
    """The psql variables bin/migrate sets (:"anon_role", :"user_role", ...) carry the
    settings' names into the file: the example grants to renamed roles."""
    cluster.create_database("renamed")
    host = Host(cluster, tmp_path, "renamed", migrations_dir=str(EXAMPLE.parent), db_schema="v1",
                db_anon_role="web_anon", db_user_role="web_user", db_owner_role="web_owner")
    host.apply_sql()
    done = host.migrate(OPERATOR)
    assert done.returncode == 0, done.stderr
    assert "migrate: applied 0001_todos.sql in" in done.stdout and "adopted" not in done.stdout
    assert owner_of(host, "v1.todos") == "web_owner"
    grants = host.query("SELECT grantee, privilege_type FROM information_schema.role_table_grants "
                        "WHERE table_schema = 'v1' AND table_name = 'todos' AND grantee LIKE 'web_%%' "
                        "AND grantee <> 'web_owner' ORDER BY 1, 2")
    assert grants == [("web_anon", "SELECT"), ("web_user", "DELETE"), ("web_user", "INSERT"),
                      ("web_user", "SELECT"), ("web_user", "UPDATE")]
