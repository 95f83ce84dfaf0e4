"""What a backup is (postgrest_stack/backups.py), backup_offsite's checks (tasks/offsite.py,
place_of), and the backup hosts' settings, status line and place in deploy runs."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from postgrest_stack import backups, settings, status
from tests.conftest import ROOT

A, B, C = "20260101T000000Z", "20260102T000000Z", "20260103T120000Z"


def make_backup(folder: Path, contents: dict[str, bytes] | None = None) -> Path:
    folder.mkdir(parents=True)
    contents = contents or {m: f"{m} bytes\n".encode() for m in backups.MEMBERS}
    for member, content in contents.items():
        (folder / member).write_bytes(content)
    (folder / backups.MANIFEST).write_text("".join(f"{hashlib.sha256(c).hexdigest()}  {m}\n"
                                                   for m, c in contents.items()))
    return folder


# --- Names, latest, retention -------------------------------------------------------------


@pytest.mark.parametrize(("name", "ok"), [
    (A, True), (f"{A}-pre-migrations", True), (f"{A}-pre-restore", True),
    (f"{A}.partial", False), ("20260101T000000", False), (f"{A}-", False), (f"{A}-Pre", False), ("latest", False),
])
def test_backup_names(name, ok):
    assert backups.is_name(name) is ok


def test_latest_is_the_greatest_name_but_never_a_restores_safety_copy():
    assert backups.choose_latest([A, C, B, f"{C}.partial"]) == C
    assert backups.choose_latest([A, f"{B}-pre-migrations"]) == f"{B}-pre-migrations"
    assert backups.choose_latest([A, f"{C}-pre-restore"]) == A
    assert backups.choose_latest(["junk", f"{A}.partial"]) is None


def test_prune_keeps_the_newest_and_touches_nothing_else():
    names = [C, A, "junk", f"{A}.partial", B, f"{B}-pre-migrations"]
    assert backups.to_prune(names, 2) == [A, B]
    assert backups.to_prune(names, 4) == []
    assert backups.to_prune([A], 1) == []
    with pytest.raises(ValueError):
        backups.to_prune(names, 0)


def test_prune_only_this_stacks_backups():
    assert backups.stack_of("stack=prod\ndb_name=app\n") == "prod"
    assert backups.stack_of("db_name=app\nstack=prod extra\n") == "prod"
    assert backups.stack_of("db_name=app\n") is None
    entries = [(A, "prod"), (B, "staging"), (C, "prod"), ("20260104T000000Z", None), ("20260105T000000Z", "prod")]
    assert backups.to_prune_of_stack(entries, "prod", 2) == [A]
    assert backups.to_prune_of_stack(entries, "staging", 1) == []


def test_verified_needs_the_manifest_and_a_name():
    assert backups.verified([(B, True), (A, True), (C, False), (f"{A}.partial", True)]) == [A, B]


# --- The manifest -----------------------------------------------------------------------


def test_manifest_lists_exactly_the_four_members():
    good = "".join(f"{'a' * 64}  {m}\n" for m in backups.MEMBERS)
    assert set(backups.parse_manifest(good)) == set(backups.MEMBERS)
    assert backups.parse_manifest(good.replace("  info", " *info"))["info"] == "a" * 64
    with pytest.raises(backups.BackupError, match="does not list info"):
        backups.parse_manifest(good.replace(f"{'a' * 64}  info\n", ""))
    with pytest.raises(backups.BackupError, match="unexpected line"):
        backups.parse_manifest(good + f"{'a' * 64}  ../../etc/shadow\n")
    with pytest.raises(backups.BackupError, match="unexpected line"):
        backups.parse_manifest(good + f"{'a' * 64}  info\n")


def test_check_folder_names_the_bad_file(tmp_path):
    folder = make_backup(tmp_path / A)
    assert backups.check_folder(folder) is None
    (folder / "roles.sql").write_bytes(b"roles.sql")  # truncated
    assert backups.check_folder(folder, shown=f"db-1:/b/{A}") == \
        f"db-1:/b/{A}/roles.sql: checksum mismatch (corrupted or truncated)"
    (folder / "roles.sql").write_bytes(b"roles.sql bytes\n")
    assert backups.check_folder(folder) is None
    (folder / "info").unlink()
    assert backups.check_folder(folder) == f"{folder}/info: missing"


def _check_on_host(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", backups.check_shell(str(folder))], capture_output=True, text=True, timeout=30)


def test_the_host_side_check_refuses_with_one_line(tmp_path):
    folder = make_backup(tmp_path / A, {m: os.urandom(5000) for m in backups.MEMBERS})
    done = _check_on_host(folder)
    assert (done.returncode, done.stderr) == (0, "")
    dump = folder / "db.dump"
    dump.write_bytes(dump.read_bytes()[:100])
    done = _check_on_host(folder)
    assert done.returncode == 1
    assert done.stderr == f"{folder}/db.dump: checksum mismatch (corrupted or truncated)\n"
    (folder / "counts.tsv").unlink()
    assert _check_on_host(folder).stderr == f"{folder}/counts.tsv: missing\n"


def test_the_host_side_check_wants_the_four_members_in_the_manifest(tmp_path):
    folder = make_backup(tmp_path / A)
    manifest = folder / backups.MANIFEST
    lines = manifest.read_text().splitlines(keepends=True)
    manifest.write_text("".join(lines[:-1]))  # info not listed: sha256sum -c alone would pass
    done = _check_on_host(folder)
    assert (done.returncode, done.stderr) == (1, f"{folder}/SHA256SUMS: does not list info once\n")
    manifest.write_text("".join(lines) + lines[0])
    assert _check_on_host(folder).returncode == 1


# --- backup_offsite -----------------------------------------------------------------------


def test_parse_offsite():
    assert backups.parse_offsite("controller:backups") == backups.Offsite("controller", "backups")
    assert str(backups.parse_offsite("group:backup")) == "group:backup"
    with pytest.raises(backups.BackupError):
        backups.parse_offsite("rsync:host")


@pytest.mark.parametrize("where", [".", "..", "/", ".git/backups", "docs", "docs/backups", "tasks/x/y"])
def test_a_controller_folder_in_the_projects_own_files_is_refused(tmp_path, where):
    root = tmp_path / "project"
    (root / "docs").mkdir(parents=True)
    with pytest.raises(backups.BackupError, match="setting 'backup_offsite'"):
        backups.controller_folder(where, root, ["docs/settings.md", "tasks/x/y/z.py", "README.md"])


def test_a_controller_folder_of_its_own_is_allowed(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    tracked = ["docs/settings.md", "README.md"]
    assert backups.controller_folder("backups", root, tracked) == root.resolve() / "backups"
    assert backups.controller_folder("build/backups", root, tracked) == root.resolve() / "build" / "backups"
    assert backups.controller_folder(str(tmp_path / "elsewhere"), root, tracked) == (tmp_path / "elsewhere").resolve()


# --- Backup hosts -------------------------------------------------------------------------


def test_a_backup_host_needs_none_of_the_stacks_required_settings():
    resolved = settings.resolve({"stack_role": "backup", "backup_dir": "/srv/backups/app"})
    assert (resolved.runs_db, resolved.runs_api, resolved.backups_path) == (False, False, "/srv/backups/app")
    with pytest.raises(settings.SettingsError, match="auth0_domain"):
        settings.resolve({"stack_role": "db"})


def test_status_names_a_backup_host_without_comparing_it():
    report = status.FleetReport([status.backup_host("bk-1")])
    assert report.exit_code == status.EXIT_OK
    assert "bk-1  role backup  keeps offsite backups only" in report.text()


def _pyinfra(tmp_path: Path, inventory_text: str, *args: str) -> subprocess.CompletedProcess:
    inventory = tmp_path / "inv.py"
    inventory.write_text(inventory_text)
    pyinfra = str(Path(sys.executable).with_name("pyinfra"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACK_")}
    return subprocess.run([pyinfra, "-y", str(inventory), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("script", ["deploy.py", "rotate_keys.py"])
def test_deploy_and_rotation_leave_backup_hosts_out(tmp_path, script):
    done = _pyinfra(tmp_path, "backup = [('bk1', {'ssh_port': 1})]\n", script)
    assert done.returncode == 1
    assert "[bk1] stack_role backup: keeps offsite backups only; left out of this run" in done.stderr
    assert "no host to run on: bk1 only keep offsite backups (stack_role backup)" in done.stderr
    assert "Connecting to hosts" not in done.stdout + done.stderr


# --- place_of: checked before any host is touched ----------------------------------------


def _state(tmp_path: Path, inventory_text: str, limit: list[str] | None = None):
    from pyinfra.api import State
    from pyinfra.context import ctx_state

    from tasks.host_data import read_inventory

    inventory = tmp_path / "inv.py"
    inventory.write_text(inventory_text)
    state = State(check_for_changes=False)
    with ctx_state.use(state):
        state.inventory = read_inventory(str(inventory), {"auth0_domain": "t.example.com", "jwt_audience": "x"})
        state.inventory.state = state
        for host in state.inventory:
            host.state = state
    state.limit_hosts = None if limit is None else [host for host in state.inventory if host.name in limit]
    return state


INVENTORY = "db = ['db1']\nbackup = ['bk1', 'bk2']\n"


@pytest.fixture
def _cwd(monkeypatch):
    monkeypatch.chdir(ROOT)


def _place(state, offsite: str):
    from tasks import offsite as tasks_offsite

    resolved = settings.resolve({"auth0_domain": "t.example.com", "jwt_audience": "x", "backup_offsite": offsite})
    return tasks_offsite.place_of(resolved, state, state.inventory.get_host("db1"))


@pytest.mark.usefixtures("_cwd")
def test_place_of_a_group_is_its_backup_hosts(tmp_path):
    place = _place(_state(tmp_path, INVENTORY), "group:backup")
    assert [h.name for h in place.hosts] == ["bk1", "bk2"]


@pytest.mark.usefixtures("_cwd")
@pytest.mark.parametrize(("inventory", "offsite", "limit", "message"), [
    (INVENTORY, "group:nosuch", None, "the inventory has no group 'nosuch' with hosts (groups: backup, db, inv)"),
    (INVENTORY, "group:backup", ["db1", "bk1"], "host bk2 of that group is left out of this run (--limit)"),
    (INVENTORY, "group:db", None, "db1 is in that group itself"),
    ("db = ['db1']\napi = [('a1', {'stack_role': 'api', 'db_host': '10.0.0.5'})]\n", "group:api", None,
     "host a1 has stack_role 'api', not 'backup'"),
])
def test_place_of_refusals_are_one_line(tmp_path, inventory, offsite, limit, message):
    with pytest.raises(settings.SettingsError) as refused:
        _place(_state(tmp_path, inventory, limit), offsite)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.usefixtures("_cwd")
def test_place_of_the_project_root_is_refused(tmp_path):
    with pytest.raises(settings.SettingsError, match="is the project root"):
        _place(_state(tmp_path, INVENTORY), "controller:.")
