"""restore.py's refusals on the controller, its run parameters, the order of its hosts'
steps, and the rendered bin/restore run in sh with stand-ins for bin/compose, bin/backup,
bin/apply-sql and bin/migrate: the manifest is checked before anything runs (one line
naming the bad file), the safety backup comes before the restore, the SQL and the
migrations after it, and a backup pruned by the safety backup is still restored.
The restore in a real db container: tests/e2e/test_restore.py."""

from __future__ import annotations

import ast
import hashlib
import io
import os
import subprocess
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from postgrest_stack import render, settings
from postgrest_stack import restore as restoring
from tasks import controller
from tests.conftest import ROOT

NAME = "20261201T030000Z"
FILES = {"db.dump": b"PGDMP custom dump bytes", "roles.sql": b"CREATE ROLE api_anon;\n",
         "counts.tsv": b"api.todos\t3\n", "info": b"stack=s\ndb_name=app\n"}


# --- the run parameters -------------------------------------------------------------------

@pytest.mark.parametrize(("source", "confirm", "wanted"), [
    ("latest", "app", "latest"), (NAME, "app", NAME), (f"{NAME}-pre-restore", "app", f"{NAME}-pre-restore")])
def test_a_confirmed_run_names_the_backup(source, confirm, wanted):
    assert restoring.wanted(source, confirm, "app") == wanted


@pytest.mark.parametrize(("source", "confirm", "message"), [
    ("latest", None, "no restore_confirm: a restore replaces database 'app'; confirm it with "
                     "--data restore_confirm=app; nothing changed"),
    ("latest", "apps", "restore_confirm='apps' is not the database's name: a restore replaces database 'app'"),
    (None, "app", "no restore_from: give --data restore_from=latest or a backup's name"),
    ("yesterday", "app", "restore_from='yesterday' is neither 'latest' nor a backup's name"),
    ("20261201T030000Z.partial", "app", "restore_from='20261201T030000Z.partial' is neither"),
    ("../20261201T030000Z", "app", "is neither 'latest' nor a backup's name"),
    (20261201, "app", "restore_from='20261201' is neither"),
])
def test_a_run_without_confirmation_or_with_a_bad_name_is_refused_in_one_line(source, confirm, message):
    with pytest.raises(settings.SettingsError) as error:
        restoring.wanted(source, confirm, "app")
    assert message in str(error.value) and "\n" not in str(error.value)


def test_the_parameters_are_settings_of_no_run_but_restore_py(data):
    plain = SimpleNamespace()
    with pytest.raises(settings.SettingsError, match="unknown setting 'restore_from'"):
        settings.resolve(dict(data, restore_from="latest"), runner_keys=controller._runner_keys(plain))
    taking = SimpleNamespace()
    controller.accept_run_parameters(taking, restoring.PARAMETERS)
    keys = controller._runner_keys(taking)
    resolved = settings.resolve(dict(data, restore_from="latest", restore_confirm="app"), runner_keys=keys)
    assert resolved.db_name == "app"
    # pyinfra's own keys keep their types.
    with pytest.raises(settings.SettingsError, match="pyinfra's '_sudo'"):
        settings.resolve(dict(data, _sudo="maybe"), runner_keys=keys)


def test_restore_py_restores_on_the_db_host_before_the_shared_wait_and_reloads_after_it():
    """The wait every host adds from one line is one node of pyinfra's graph: the db
    host's restore precedes it, the api hosts' reload and proof follow it."""
    tree = ast.parse((ROOT / "restore.py").read_text())
    wanted = ("accept_run_parameters", "host_settings", "probe_host", "fetch_offsite", "restore_database",
              "wait_for_db_hosts", "reload_schema_cache", "health_gate")
    calls = sorted((node.lineno, getattr(node.func, "id", getattr(node.func, "attr", "")))
                   for node in ast.walk(tree) if isinstance(node, ast.Call)
                   and getattr(node.func, "id", getattr(node.func, "attr", "")) in wanted)
    assert [name for _line, name in calls] == list(wanted)


def test_bin_restore_is_rendered_where_the_database_runs(data, secrets):
    assert render.render(settings.resolve(data), secrets)["bin/restore"].mode == 0o700
    api = settings.resolve(dict(data, stack_role="api", db_host="10.0.0.5"))
    assert "bin/restore" not in render.render(api, secrets)


# --- bin/restore with stand-ins ----------------------------------------------------------

STUB_COMPOSE = """#!/bin/sh
echo "compose $*" >> "$STUB_LOG"
[ "$1 $2 $3" = "exec -T db" ] || exit 0
cat > "$STUB_TAR"
[ -e "$STUB_DIR/container-fails" ] && { echo "restore: pg_restore of db.dump failed: boom; app not touched" >&2; exit 1; }
echo "restore: 1 tables, 3 rows restored into app"
"""
STUB = """#!/bin/sh
echo "{name} $*" >> "$STUB_LOG"
[ -e "$STUB_DIR/{name}-fails" ] && {{ echo "{name}: it failed" >&2; exit 1; }}
{extra}
exit 0
"""


@pytest.fixture
def host(data, secrets, tmp_path):
    backups = tmp_path / "backups"
    resolved = settings.resolve(dict(data, backup_dir=str(backups)))
    app = tmp_path / "app"
    (app / "bin").mkdir(parents=True)
    script = app / "bin/restore"
    script.write_bytes(render.render(resolved, secrets)["bin/restore"].content)
    stubs = {"compose": STUB_COMPOSE,
             # The safety backup prunes: with backup_keep small, the restored backup itself.
             "backup": STUB.format(name="backup", extra='[ -e "$STUB_DIR/prune" ] && rm -rf "$STUB_BACKUPS"/2*Z'),
             "apply-sql": STUB.format(name="apply-sql", extra=""),
             "migrate": STUB.format(name="migrate", extra="")}
    for name, text in stubs.items():
        (app / "bin" / name).write_text(text)
    for path in (app / "bin").iterdir():
        path.chmod(0o700)
    folder = backups / NAME
    folder.mkdir(parents=True)
    for name, content in FILES.items():
        (folder / name).write_bytes(content)
    (folder / "SHA256SUMS").write_text("".join(f"{hashlib.sha256(c).hexdigest()}  {n}\n" for n, c in FILES.items()))
    env = {**os.environ, "STUB_LOG": str(tmp_path / "log"), "STUB_TAR": str(tmp_path / "in.tar"),
           "STUB_DIR": str(tmp_path), "STUB_BACKUPS": str(backups)}

    def run(name: str = NAME) -> subprocess.CompletedProcess:
        return subprocess.run([str(script), name, "ops@controller"], capture_output=True, text=True, env=env,
                              timeout=60)

    def log() -> list[str]:
        path = tmp_path / "log"
        return path.read_text().splitlines() if path.exists() else []

    return SimpleNamespace(run=run, log=log, folder=folder, backups=backups, tmp=tmp_path, tar=tmp_path / "in.tar")


def refused(done) -> str:
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize("how", ["truncated", "changed"])
def test_a_corrupt_file_is_refused_in_one_line_naming_it_before_anything_runs(host, how):
    dump = host.folder / "db.dump"
    dump.write_bytes(dump.read_bytes()[:5] if how == "truncated" else dump.read_bytes().replace(b"dump", b"dumq"))
    line = refused(host.run())
    assert line.startswith(f"restore: {host.folder}/db.dump does not match its SHA-256 in SHA256SUMS")
    assert "nothing changed" in line
    assert host.log() == []  # no safety backup, nothing in the container
    assert sorted(p.name for p in host.backups.iterdir()) == [NAME]


def test_a_missing_file_or_one_the_manifest_does_not_list_is_refused(host):
    sums = (host.folder / "SHA256SUMS").read_text()
    (host.folder / "SHA256SUMS").write_text("".join(line + "\n" for line in sums.splitlines()
                                                    if not line.endswith("roles.sql")))
    assert "SHA256SUMS does not list roles.sql; nothing changed" in refused(host.run())
    (host.folder / "SHA256SUMS").write_text(sums)
    (host.folder / "counts.tsv").unlink()
    assert f"{host.folder}/counts.tsv is missing; nothing changed" in refused(host.run())
    assert "is not a backup's name" in refused(host.run("../x"))
    assert "no backup" in refused(host.run("20200101T000000Z"))
    assert host.log() == []


def test_the_safety_backup_comes_first_then_the_restore_then_sql_and_migrations(host):
    done = host.run()
    assert done.returncode == 0, done.stderr
    log = host.log()
    assert [line.split()[0] for line in log] == ["backup", "compose", "apply-sql", "migrate"]
    assert log[0].startswith("backup ") and log[0].endswith("Z-pre-restore")
    assert log[1] == "compose exec -T db sh -c " + log[1].split(" sh -c ", 1)[1]
    assert log[3] == "migrate ops@controller"
    with tarfile.open(fileobj=io.BytesIO(host.tar.read_bytes())) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    assert set(members) == {"restore.sh", "db.dump", "roles.sql", "counts.tsv"}
    assert all(members[name] == FILES[name] for name in ("db.dump", "roles.sql", "counts.tsv"))
    assert b"DROP DATABASE IF EXISTS :\"db\" WITH (FORCE)" in members["restore.sh"]
    assert f"restore: {NAME} restored into app" in done.stdout
    assert not [p for p in host.backups.iterdir() if p.name.startswith(".")]  # the hard links removed


def test_a_backup_the_safety_backup_pruned_is_still_restored(host):
    (host.tmp / "prune").touch()
    done = host.run()
    assert done.returncode == 0, done.stderr
    assert not host.folder.exists()
    with tarfile.open(fileobj=io.BytesIO(host.tar.read_bytes())) as tar:
        assert tar.extractfile("db.dump").read() == FILES["db.dump"]


@pytest.mark.parametrize(("failing", "expected"), [
    ("backup", "restore: the safety backup "),
    ("container", "restore: backup 20261201T030000Z: pg_restore of db.dump failed: boom; app not touched"),
])
def test_a_failure_before_the_swap_stops_with_one_line_and_runs_no_sql(host, failing, expected):
    (host.tmp / f"{failing}-fails").touch()
    line = refused(host.run())
    assert line.startswith(expected)
    assert not [entry for entry in host.log() if entry.split()[0] in ("apply-sql", "migrate")]
    if failing == "backup":
        assert "(backup: it failed); nothing restored" in line
        assert [entry.split()[0] for entry in host.log()] == ["backup"]


def test_restore_py_and_its_alerts_and_lock():
    from tasks import alerting, runlock

    assert "restore.py" in runlock.LOCKED_SCRIPTS and "restore.py" in alerting.WATCHED_SCRIPTS
    assert Path(ROOT / "restore.py").is_file()
