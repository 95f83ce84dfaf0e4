"""The plan and the operator's migrations: bin/migrate when the ledger's digest differs
from the rendered folder's, nothing when equal, and files the folder dropped removed."""

from __future__ import annotations

import pytest

from postgrest_stack import migrations, probe, render, settings, status
from postgrest_stack import plan as planning
from tests.unit.test_plan import deployed_state


@pytest.fixture
def files(data, secrets, tmp_path):
    (tmp_path / "0001_orders.sql").write_text("CREATE TABLE orders (id int);\n")
    (tmp_path / "0002_note.sql").write_text("ALTER TABLE orders ADD COLUMN note text;\n")
    resolved = settings.resolve(dict(data, migrations_dir=str(tmp_path)))
    return planning.with_jwks(render.render(resolved, secrets), b'{"keys": []}')


def test_the_folder_is_shipped_where_the_sql_is_applied(files, data, secrets, tmp_path):
    assert files["migrations/0002_note.sql"].content == b"ALTER TABLE orders ADD COLUMN note text;\n"
    assert files["migrations/0001_orders.sql"].mode == 0o600
    api_only = render.render(settings.resolve(dict(data, migrations_dir=str(tmp_path), stack_role="api",
                                                    db_host="10.0.0.5")), secrets)
    assert not any(name.startswith("migrations/") for name in api_only)


def test_a_ledger_holding_the_folder_means_nothing_to_do(files):
    assert not planning.make_plan(files, deployed_state(files)).changes_anything


@pytest.mark.parametrize("ledger", [None, migrations.ledger_digest([])])
def test_a_ledger_behind_the_folder_migrates_after_the_files(files, ledger):
    state = deployed_state(files)
    state.ledger_digest = ledger
    plan = planning.make_plan(files, state)
    assert plan.migrate and plan.gate and not plan.up and plan.files == []


def test_a_file_the_folder_dropped_is_removed_from_the_host(files):
    state = deployed_state(files)
    state.paths["migrations/0003_dropped.sql"] = probe.PathState("f", 0o600, 0, 0, "ab" * 32)
    plan = planning.make_plan(files, state)
    assert plan.remove == ["migrations/0003_dropped.sql"] and plan.changes_anything


def test_the_demo_sql_of_a_release_before_migrations_is_removed_from_the_host(files):
    """bin/apply-sql applies every sql/*.sql: the old sql/02-api.sql (CREATE TABLE IF NOT
    EXISTS api.todos) left on a host would bring back a table a migration dropped."""
    state = deployed_state(files)
    state.paths["sql/02-api.sql"] = probe.PathState("f", 0o600, 0, 0, "cd" * 32)
    state.sql_digest = "sql-digest:before-migrations"
    plan = planning.make_plan(files, state)
    assert plan.remove == ["sql/02-api.sql"] and plan.sql and plan.gate


def test_the_example_migration_is_the_projects_folder_by_default(data, secrets):
    """The demo table is the operator's first migration, not the project's SQL."""
    rendered = render.render(settings.resolve(data), secrets)
    assert not any(b"todos (" in f.content or b"ON api.todos" in f.content
                   for name, f in rendered.items() if name.startswith("sql/"))
    example = rendered["migrations/0001_todos.sql"].content
    assert b"CREATE TABLE todos" in example and b'TO :"user_role"' in example


@pytest.mark.parametrize(("ledger", "drifts"), [("same", False), (None, True), ("other", True)])
def test_status_reports_a_ledger_behind_the_folder(files, data, tmp_path, ledger, drifts):
    state = deployed_state(files)
    if ledger != "same":
        state.ledger_digest = None if ledger is None else migrations.ledger_digest([(1, "ab" * 32)])
    tenant = status.TenantKeys("https://tenant.eu.auth0.com/.well-known/jwks.json", (), b'{"keys": []}')
    report = status.host_report("db-1", settings.resolve(dict(data, migrations_dir=str(tmp_path))), files, state,
                                tenant)
    assert any(d.kind == "migrations" for d in report.drift) is drifts


@pytest.mark.parametrize("schema", ["stack_meta", "auth_guard"])
def test_the_projects_own_schemas_are_never_exposed(data, schema):
    with pytest.raises(settings.SettingsError, match=f"^setting 'db_schema' must not be '{schema}': that schema is "
                                                      "the project's"):
        settings.resolve(dict(data, db_schema=schema))


def test_the_project_schema_names_are_the_ones_in_use():
    assert set(settings.PROJECT_SCHEMAS) == {render.GUARD_SCHEMA, migrations.LEDGER_SCHEMA}


def report_of(files, data, tmp_path, *, ledger_digest, ledger=None):
    state = deployed_state(files)
    state.ledger_digest = ledger_digest
    tenant = status.TenantKeys("https://tenant.eu.auth0.com/.well-known/jwks.json", (), b'{"keys": []}')
    return status.host_report("db-1", settings.resolve(dict(data, migrations_dir=str(tmp_path))), files, state,
                              tenant, ledger)


def of_migrations(report):
    return [d for d in report.drift if d.kind == "migrations"]


def test_status_counts_what_is_applied_and_pending(files, data, tmp_path):
    folder = migrations.files_of({name: f.content for name, f in files.items()})
    current = report_of(files, data, tmp_path, ledger_digest=migrations.folder_digest(folder))
    assert current.migrations == {"applied": 2, "pending": 0} and of_migrations(current) == []
    assert "    migrations 2 applied, 0 pending" in status.FleetReport([current]).text().splitlines()
    one = [migrations.Applied(1, "0001_orders.sql", folder[0].sha256)]
    behind = report_of(files, data, tmp_path, ledger_digest=migrations.ledger_digest([(1, folder[0].sha256)]),
                       ledger=one)
    assert behind.migrations == {"applied": 1, "pending": 1}
    assert [d.line for d in of_migrations(behind)] == [
        "migrations pending: 1 not applied yet: 0002_note.sql (fix: deploy.py)"]
    assert status.FleetReport([behind]).exit_code == status.EXIT_DRIFT
    assert behind.as_json()["migrations"] == {"applied": 1, "pending": 1}


def test_status_names_an_edited_or_removed_migration(files, data, tmp_path):
    rewritten = [migrations.Applied(1, "0001_orders.sql", "ab" * 32), migrations.Applied(3, "0003_gone.sql", "cd" * 32)]
    report = report_of(files, data, tmp_path, ledger_digest="other", ledger=rewritten)
    assert report.migrations == {"applied": 0, "pending": 0}
    assert [(d.kind, d.subject, d.detail.split(":")[0]) for d in of_migrations(report)] == [
        ("migrations", "0001_orders.sql", migrations.CHANGED),
        ("migrations", "0002_note.sql", migrations.OUT_OF_ORDER),
        ("migrations", "0003_gone.sql", migrations.MISSING)]
    assert status.FleetReport([report]).exit_code == status.EXIT_DRIFT
