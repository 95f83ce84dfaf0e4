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
