"""Backups' pure parts: names (the run's UTC start time, labels), ages and status's drift
verdict on them, and bin/backup rendered on the hosts that run the database only."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from postgrest_stack import backups, probe, render, settings, status
from postgrest_stack import plan as planning
from tests.unit.test_plan import deployed_state

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)


def test_a_name_is_the_utc_start_time_with_an_optional_label():
    assert backups.name_for(NOW) == "20261202T120000Z"
    assert backups.name_for(datetime(2026, 12, 2, 13, 0, 5, tzinfo=timezone(timedelta(hours=1)))) == "20261202T120005Z"
    assert backups.name_for(NOW, backups.PRE_MIGRATIONS) == "20261202T120000Z-pre-migrations"
    assert backups.name_from_iso("2026-12-02T18:00:07Z") == "20261202T180007Z"
    assert backups.name_from_iso("2026-12-02T18:00:07Z", "pre-restore") == "20261202T180007Z-pre-restore"
    for label in ("Upper", "two words", "x/y", "-lead", "trail-", "a1"):
        with pytest.raises(ValueError):
            backups.name_for(NOW, label)


@pytest.mark.parametrize("name,ok", [
    ("20261202T120000Z", True), ("20261202T120000Z-pre-migrations", True), ("20261202T120000Z-pre", True),
    ("20261202T120000Z.partial", False), ("20261202T120000Z-pre-migrations.partial", False),
    ("20261202T120000", False), ("2026120T120000Z", False), ("20261202T120000Z-", False),
    ("20261202T120000Z-Pre", False), ("20261202T120000Z\n", False), ("notes", False), ("", False)])
def test_what_is_a_backup_name(name, ok):
    assert backups.is_name(name) is ok


def test_age_and_staleness():
    assert backups.age_hours("20261202T020000Z", NOW) == 10
    assert backups.staleness("20261202T020000Z", 26, NOW) is None
    assert backups.staleness("20261201T100000Z", 26, NOW) is None  # exactly 26 h: not over
    stale = backups.staleness("20261201T095959Z-pre-migrations", 26, NOW)
    assert stale == ("the newest verified backup, 20261201T095959Z-pre-migrations, is 26.0 h old "
                     "(backup_max_age_hours 26)")
    assert backups.staleness(None, 26, NOW) == "no verified backup yet"
    assert (backups.shown_age(0.5), backups.shown_age(5.25), backups.shown_age(72)) == ("30 min", "5.2 h", "3.0 days")


@pytest.fixture
def db_host(data, secrets):
    resolved = settings.resolve({**data, "stack_role": "db", "backup_dir": "/srv/backups", "backup_max_age_hours": 6})
    files = planning.with_jwks(render.render(resolved, secrets), b'{"keys":[]}')
    return resolved, files


def report(resolved, files, latest, now=NOW):
    state = deployed_state(files, services=("db",))
    state.ready = None
    state = dataclasses.replace(state, latest_backup=latest)
    tenant = status.TenantKeys("https://tenant.example/.well-known/jwks.json", ("k",), None)
    return status.host_report("db-1", resolved, files, state, tenant, now=now)


def test_status_shows_a_recent_backup_and_its_age_without_drift(db_host):
    host = report(*db_host, "20261202T093000Z")
    assert host.drift == [] and host.backup == {"name": "20261202T093000Z", "age_hours": 2.5}
    assert "    backup 20261202T093000Z, 2.5 h old" in status.FleetReport([host]).text().splitlines()
    assert status.FleetReport([host]).exit_code == status.EXIT_OK
    assert host.as_json()["backup"] == {"name": "20261202T093000Z", "age_hours": 2.5}


def test_an_old_backup_is_drift_exit_1(db_host):
    host = report(*db_host, "20261202T055959Z")
    assert [d.line for d in host.drift] == [
        "backup /srv/backups: the newest verified backup, 20261202T055959Z, is 6.0 h old (backup_max_age_hours 6) "
        "(fix: backup.py)"]
    assert status.FleetReport([host]).exit_code == status.EXIT_DRIFT
    assert report(*db_host, "20261202T060000Z").drift == []


def test_no_backup_at_all_is_drift_on_a_db_host(db_host):
    host = report(*db_host, None)
    assert [d.line for d in host.drift] == ["backup /srv/backups: no verified backup yet (fix: backup.py)"]
    assert "    backup none" in status.FleetReport([host]).text().splitlines()
    assert status.FleetReport([host]).exit_code == status.EXIT_DRIFT


def test_an_api_host_has_no_backup_line(data, secrets):
    resolved = settings.resolve({**data, "stack_role": "api", "db_host": "10.0.0.5"})
    files = planning.with_jwks(render.render(resolved, secrets), b'{"keys":[]}')
    state = deployed_state(files, services=("postgrest",))
    tenant = status.TenantKeys("https://tenant.example/.well-known/jwks.json", (), None, error="not read")
    host = status.host_report("api-1", resolved, files, state, tenant, now=NOW)
    assert host.backup is None and not any(d.kind == "backup" for d in host.drift)
    assert not any(line.strip().startswith("backup") for line in status.FleetReport([host]).text().splitlines())


def test_bin_backup_is_rendered_where_the_database_runs_only(data, secrets):
    def scripts(**overrides):
        return {name for name in render.render(settings.resolve({**data, **overrides}), secrets)
                if name.startswith("bin/")}
    assert "bin/backup" in scripts() and "bin/backup" in scripts(stack_role="db")
    assert "bin/backup" not in scripts(stack_role="api", db_host="10.0.0.5")
    assert "bin/backup" not in scripts(external_db_uri="postgres://db.example.com:5432/app")
    files = render.render(settings.resolve({**data, "backup_dir": "/srv/b k", "backup_keep": 3}), secrets)
    script = files["bin/backup"]
    assert script.mode == 0o700 and script.owner_uid == 0 and not script.secret
    text = script.content.decode()
    assert "backups='/srv/b k'" in text and "keep=3" in text and "image=postgres:15.14-bookworm" in text
    assert backups.NAME_PATTERN in text
    # The password is read inside the container, never given on a command line.
    assert secrets["postgres_password"] not in text and "PGPASSWORD=$(cat /run/stack-secrets/superuser-password)" in text


def test_the_probe_reports_the_newest_verified_backup_only(tmp_path):
    """The probe's line run for real: a newer .partial, a newer folder without SHA256SUMS,
    another name, a file of a backup's name: none counts; no folder at all: none."""
    folder = tmp_path / "backups dir"
    for name, sums in (("20261201T020000Z", True), ("20261202T020000Z-pre-migrations", True),
                       ("20261202T030000Z", False), ("20261202T040000Z.partial", True), ("notes", True),
                       ("20261202T050000Z-Upper", True)):
        (folder / name).mkdir(parents=True)
        if sums:
            (folder / name / "SHA256SUMS").write_text("")
    (folder / "20261203T000000Z").write_text("a file, not a backup")

    def latest(path) -> str | None:
        command = probe.command(str(tmp_path / "no-app"), f"probe-b1-{os.getpid()}", 1, backups_path=str(path))
        done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert sum(line.startswith("backup ") for line in done.stdout.splitlines()) == 1, done.stdout
        return probe.parse(done.stdout.splitlines()).latest_backup

    assert latest(folder) == "20261202T020000Z-pre-migrations"
    assert latest(tmp_path / "none") is None
    assert probe.parse(["backup 20261202T020000Z.partial"]).latest_backup is None
    assert "backup" not in probe.command("/opt/app", "s", 1)  # no backups_path (not a db host): no line
