"""Which folder the command line takes as the operator's project (postgrest_stack/project.py):
``-C PROJECT_DIR``, a checkout's own folder, else the current directory or the inventory's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import postgrest_stack
from postgrest_stack import project
from postgrest_stack.settings import SettingsError
from stackctl import main as cli
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _restored(monkeypatch):
    """Every test leaves the process's folder and PROJECT_ROOT as they were."""
    monkeypatch.chdir(Path.cwd())
    monkeypatch.setattr(postgrest_stack, "PROJECT_ROOT", postgrest_stack.PROJECT_ROOT)


def _operator_project(tmp_path: Path, marker: str = "group_data") -> Path:
    folder = tmp_path / "ops-project"
    (folder / "inventories").mkdir(parents=True)
    (folder / "inventories" / "prod.py").write_text("api = ['api-1']\n")
    if marker == "group_data":
        (folder / "group_data").mkdir()
    else:
        (folder / "deploy.py").write_text("")
    return folder


def test_in_a_checkout_templates_and_project_are_the_checkout():
    assert postgrest_stack.INSTALLED is False
    assert postgrest_stack.TEMPLATES == ROOT / "templates"
    assert postgrest_stack.PROJECT_ROOT == ROOT


@pytest.mark.parametrize("marker", ["group_data", "deploy.py"])
def test_the_current_directory_when_it_is_a_project(tmp_path, marker):
    folder = _operator_project(tmp_path, marker)
    assert project.find(folder, "elsewhere/inventory.py") == folder
    assert project.find(folder, None) == folder


def test_else_the_project_above_the_inventory_file(tmp_path):
    folder = _operator_project(tmp_path)
    (tmp_path / "cwd").mkdir()
    assert project.find(tmp_path / "cwd", str(folder / "inventories" / "prod.py")) == folder
    # relative to the current directory, as the command line reads it
    assert project.find(tmp_path, "ops-project/inventories/prod.py") == folder


def test_else_the_inventory_file_s_own_folder(tmp_path):
    (tmp_path / "loose").mkdir()
    (tmp_path / "loose" / "hosts.py").write_text("web = ['a']\n")
    assert project.find(tmp_path, "loose/hosts.py") == tmp_path / "loose"


def test_else_the_current_directory(tmp_path):
    assert project.find(tmp_path, None) == tmp_path
    assert project.find(tmp_path, "no-such-inventory.py") == tmp_path


def test_minus_c_changes_into_the_project(tmp_path):
    folder = _operator_project(tmp_path)
    assert project.choose(str(folder), "inventories/prod.py") == folder
    assert Path.cwd() == folder and postgrest_stack.PROJECT_ROOT == folder
    assert postgrest_stack.project_path("migrations") == folder / "migrations"


def test_minus_c_to_a_missing_folder_is_one_line_and_changes_nothing(tmp_path):
    before = Path.cwd()
    with pytest.raises(SettingsError) as raised:
        project.choose(str(tmp_path / "nope"), None)
    assert str(raised.value) == f"-C {tmp_path / 'nope'}: no such directory"
    assert Path.cwd() == before and postgrest_stack.PROJECT_ROOT == ROOT


def test_without_minus_c_a_checkout_keeps_its_own_folder(tmp_path, monkeypatch):
    folder = _operator_project(tmp_path)
    monkeypatch.chdir(folder)
    assert project.choose(None, "inventories/prod.py") == ROOT


def test_without_minus_c_an_installed_package_finds_the_project(tmp_path, monkeypatch):
    folder = _operator_project(tmp_path)
    monkeypatch.setattr(postgrest_stack, "INSTALLED", True)
    monkeypatch.chdir(tmp_path)
    assert project.choose(None, "ops-project/inventories/prod.py") == folder
    assert postgrest_stack.PROJECT_ROOT == folder and Path.cwd() == tmp_path  # no chdir without -C


def test_the_command_line_takes_minus_c_before_the_command(tmp_path, capsys):
    folder = _operator_project(tmp_path)
    assert cli.main(["-C", str(folder), "migration", "new", "first table"]) == 0
    assert capsys.readouterr().out == f"{folder / 'migrations' / '0001_first_table.sql'}\n"
    assert os.listdir(folder / "migrations") == ["0001_first_table.sql"]
    assert cli.main(["--project-dir", str(tmp_path / "nope"), "migration", "new", "x"]) == 1
    assert capsys.readouterr().err == f"error: -C {tmp_path / 'nope'}: no such directory\n"


@pytest.mark.parametrize("argv, words", [
    (["status", "x.py"], ["status", "x.py"]),
    (["-C", "d", "status", "x.py"], ["status", "x.py"]),
    (["-Cd", "logs", "x.py"], ["logs", "x.py"]),
    (["--project-dir", "d", "migration", "list"], ["migration", "list"]),
    (["--project-dir=d", "migration", "list"], ["migration", "list"]),
    (["-C"], []),
])
def test_the_gevent_check_sees_the_command_after_minus_c(argv, words):
    assert cli._command_words(argv) == words


@pytest.mark.parametrize("path, script", [
    ("/venv/bin/postgrest-stack", True), ("postgrest-stack", True), ("/usr/lib/python3.11/runpy.py", False),
    ("/venv/bin/postgrest-stack-old", False), (None, False),
])
def test_the_installed_script_is_recognised_by_its_name(path, script):
    assert cli._is_script(path) is script
