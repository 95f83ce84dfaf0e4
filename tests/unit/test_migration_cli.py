"""`python -m postgrest_stack migration new NAME [--dir DIR]`: the next numbered file."""

from __future__ import annotations

import subprocess
import sys

import pytest

import postgrest_stack
from postgrest_stack import migrations
from stackctl.main import main
from tests.conftest import ROOT
from tests.harness.ports import free_port


def new(capsys, *args) -> tuple[int, str, str]:
    code = main(["migration", "new", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_first_migration_is_0001_with_a_header_and_applies_in_a_transaction(tmp_path, capsys):
    folder = tmp_path / "db" / "migrations"  # created when missing
    code, out, err = new(capsys, "Add Orders!", "--dir", str(folder))
    assert (code, err) == (0, "")
    path = folder / "0001_add_orders.sql"
    assert out == f"{path}\n"
    text = path.read_text()
    assert text.startswith("-- 0001_add_orders.sql: Add Orders!\n")
    assert all(line.startswith("-- ") for line in text.strip().splitlines())  # only comments: nothing runs
    [migration] = migrations.scan(folder)
    assert migration.name == "0001_add_orders.sql" and not migration.no_transaction


def test_the_next_number_follows_the_highest_not_the_count(tmp_path, capsys):
    folder = tmp_path / "m"
    folder.mkdir()
    for name in ("0001_todos.sql", "0007_orders.sql", "README.md"):
        (folder / name).write_text("SELECT 1;\n")
    assert new(capsys, "invoices", "--dir", str(folder))[1] == f"{folder / '0008_invoices.sql'}\n"
    (folder / "9999_late.sql").write_text("SELECT 1;\n")
    assert new(capsys, "  Rename  -- column   (users) ", "--dir", str(folder))[1] == \
        f"{folder / '10000_rename_column_users.sql'}\n"
    assert [m.version for m in migrations.scan(folder)] == [1, 7, 8, 9999, 10000]


def test_an_empty_folder_starts_at_0001(tmp_path, capsys):
    (tmp_path / "m").mkdir()
    assert new(capsys, "first", "--dir", str(tmp_path / "m"))[1] == f"{tmp_path / 'm' / '0001_first.sql'}\n"


@pytest.mark.parametrize("name", ["", "!!!", "  ", "ü"])
def test_a_name_without_letters_or_digits_is_refused(tmp_path, capsys, name):
    code, out, err = new(capsys, name, "--dir", str(tmp_path))
    assert (code, out) == (1, "")
    assert err == (f"error: migration name {name!r} has no letters or digits for the file name: give a name "
                   "such as 'add orders'\n")
    assert list(tmp_path.iterdir()) == []


def test_a_broken_folder_is_refused_before_writing(tmp_path, capsys):
    (tmp_path / "0001_a.sql").write_text("")
    (tmp_path / "0001_b.sql").write_text("")
    code, out, err = new(capsys, "next", "--dir", str(tmp_path))
    assert (code, out) == (1, "")
    assert err.startswith("error: migrations 0001_a.sql and 0001_b.sql") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0001_a.sql", "0001_b.sql"]


def test_an_existing_file_is_never_overwritten(tmp_path, capsys, monkeypatch):
    (tmp_path / "0002_taken.sql").write_text("precious\n")
    # Another run wrote the same name between the scan and the write.
    monkeypatch.setattr(migrations, "next_name", lambda found, slug: "0002_taken.sql")
    code, out, err = new(capsys, "taken", "--dir", str(tmp_path))
    assert (code, out) == (1, "")
    assert err == f"error: {tmp_path / '0002_taken.sql'} already exists: not overwritten\n"
    assert (tmp_path / "0002_taken.sql").read_text() == "precious\n"


def test_without_dir_it_writes_into_the_default_migrations_dir_of_the_project(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(postgrest_stack, "PROJECT_ROOT", tmp_path)
    code, out, _err = new(capsys, "todos")
    assert code == 0 and out == f"{tmp_path / 'migrations' / '0001_todos.sql'}\n"


def test_the_command_line_runs_it(tmp_path):
    done = subprocess.run([sys.executable, "-m", "postgrest_stack", "migration", "new", "add orders", "--dir",
                           str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{tmp_path / '0001_add_orders.sql'}\n"


def test_a_database_that_cannot_be_reached_is_named_and_exits_2(tmp_path):
    """migration list, as an operator runs it, with the db host's sshd down: one line
    naming the host, no traceback, exit 2 (the listing is incomplete)."""
    inventory = tmp_path / "inventory.py"
    inventory.write_text(f"db = [('db-x', {{'ssh_hostname': '127.0.0.1', 'ssh_port': {free_port()}, "
                         "'stack_role': 'db', 'db_bind': '127.0.0.1'})]\n")
    done = subprocess.run([sys.executable, "-m", "postgrest_stack", "migration", "list", str(inventory),
                           "--data", "auth0_domain=tenant.eu.auth0.com", "--data", "jwt_audience=https://a.example.com"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert [line for line in done.stdout.splitlines() if line.startswith("db-x: ")] != []
