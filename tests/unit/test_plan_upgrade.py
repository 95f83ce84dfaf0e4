"""PostgreSQL major versions (issue 21): the data volume's major against postgres_image's,
refused in one line naming both and the runbook, or planned as bin/upgrade-db with
postgres_upgrade = dump-restore; the script rendered where the database runs."""

from __future__ import annotations

import pytest

from postgrest_stack import plan as planning
from postgrest_stack import probe, render, settings
from tests.unit.test_plan import JWKS, deployed_state

VOLUME, IMAGE = "pgst_db-data", "postgres:17.12-trixie"


def check(data_major, image_major, upgrade=None):
    return planning.check_data_version(data_major, image_major, upgrade, volume=VOLUME, image=IMAGE)


@pytest.mark.parametrize("data_major, image_major", [(None, 17), (15, None), (15, 15), (17, 17)])
def test_nothing_to_upgrade(data_major, image_major):
    assert check(data_major, image_major) is None
    assert check(data_major, image_major, "dump-restore") is None


def test_another_major_is_refused_naming_both_versions_and_the_runbook():
    with pytest.raises(planning.DataVersionError) as refused:
        check(15, 17)
    line = str(refused.value)
    assert "\n" not in line
    assert "PostgreSQL 15 data" in line and f"{IMAGE} runs PostgreSQL 17" in line and VOLUME in line
    assert "docs/backups.md#upgrading-postgresql" in line and 'postgres_upgrade = "dump-restore"' in line


def test_dump_restore_upgrades_but_never_downgrades():
    assert check(15, 17, "dump-restore") == (15, 17)
    with pytest.raises(planning.DataVersionError, match="PostgreSQL 17 data .* runs PostgreSQL 15: a downgrade"):
        check(17, 15, "dump-restore")


def test_the_upgrade_plan_runs_the_sql_after_up_and_the_gate(data, secrets):
    files = planning.with_jwks(render.render(settings.resolve(data), secrets), JWKS)
    plan = planning.make_plan(files, deployed_state(files))
    assert not plan.changes_anything
    plan = planning.with_upgrade(plan, (15, 17))
    assert plan.upgrade_db == (15, 17) and plan.changes_anything
    assert plan.up and plan.sql and not plan.sql_first and plan.gate
    assert planning.with_upgrade(planning.make_plan(files, deployed_state(files)), None).changes_anything is False
    # SQL pending on a running database goes first as a rule: not on an upgrade, whose
    # old server bin/upgrade-db stops.
    state = deployed_state(files)
    state.sql_digest = "sql-digest:" + "0" * 64
    pending = planning.make_plan(files, state)
    assert pending.sql and pending.sql_first
    assert not planning.with_upgrade(pending, (15, 17)).sql_first


def test_postgres_major_of_the_image(data):
    def major(image):
        return settings.resolve(dict(data, postgres_image=image)).postgres_major
    assert major("postgres:15.14-bookworm") == 15 and major("postgres:17.12-trixie") == 17
    assert major("registry.example.com:443/team/postgres:16") == 16
    assert major("example.com/custom-db:2.1") is None


def test_upgrade_script_only_where_the_database_runs(data, secrets):
    files = render.render(settings.resolve(dict(data, stack_name="pgst", postgres_image=IMAGE)), secrets)
    script = files["bin/upgrade-db"].content.decode()
    assert files["bin/upgrade-db"].mode == 0o700
    assert "volume=pgst_db-data\n" in script and f"image={IMAGE}\n" in script
    assert "bin/backup \"$name\"" in script and 'name="$(date -u +%Y%m%dT%H%M%SZ)-pre-upgrade"' in script
    api = settings.resolve(dict(data, stack_role="api", db_host="10.0.0.5"))
    assert "bin/upgrade-db" not in render.render(api, secrets)


def test_probe_reads_the_data_major():
    assert probe.parse(["docker running", "pgdata 15"]).data_major == 15
    assert probe.parse(["pgdata 9.6"]).data_major == 9
    assert probe.parse(["pgdata "]).data_major is None and probe.parse([]).data_major is None
