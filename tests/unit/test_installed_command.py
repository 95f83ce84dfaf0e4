"""`pip install .` gives a `postgrest-stack` command that works from any directory.

The package is built into a wheel from a copy of its sources (pyproject.toml; pip
fetches setuptools into its isolated build environment) and installed with --no-deps
into a throwaway virtualenv whose dependencies are this interpreter's (a .pth file), so
nothing is downloaded but setuptools. The operator's project is a copy of
inventories/, group_data/ and migrations/ outside the checkout, with one setting changed:
the command must find it (from the inventory's path, or -C) and the templates the wheel
carries, and render byte for byte what `python -m postgrest_stack` renders in the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

SECRETS = {"STACK_POSTGRES_PASSWORD": "installed-superuser-pw-01", "STACK_AUTHENTICATOR_PASSWORD": "installed-auth-pw-01"}
API_HOST = "api-1.prod.example.com"
#: The setting the operator's copy changes, so that reading the checkout's instead shows.
PORT_LINE = "postgrest_port = 3999\n"


class Installed:
    def __init__(self, root: Path):
        self.root = root
        self.venv = root / "venv"
        self.command = self.venv / "bin" / "postgrest-stack"
        self.project = root / "operator-project"
        self.elsewhere = root / "elsewhere"
        self.wheel: Path | None = None

    def run(self, *args: str, python: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STACK_") and k != "PYTHONPATH"}
        env.update(SECRETS)
        argv = [str(self.venv / "bin" / "python"), *python, str(self.command)] if python else [str(self.command)]
        return subprocess.run([*argv, *args], cwd=self.elsewhere, env=env, capture_output=True, text=True,
                              timeout=120)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    box = Installed(tmp_path_factory.mktemp("installed"))
    source = box.root / "source"  # a copy: the build writes build/ and *.egg-info beside it
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("postgrest_stack", "stackctl", "tasks", "templates"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(box.root / "dist"),
                            str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (box.wheel,) = (box.root / "dist").glob("postgrest_stack-*.whl")

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(box.venv)], check=True, timeout=60)
    (site,) = box.venv.glob("lib/python3*/site-packages")
    (site / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(box.venv / "bin" / "python"), "install",
                           "--no-deps", "--quiet", str(box.wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    for name in ("inventories", "group_data", "migrations"):
        shutil.copytree(ROOT / name, box.project / name, ignore=shutil.ignore_patterns("__pycache__"))
    with (box.project / "group_data" / "prod.py").open("a") as group_file:
        group_file.write(PORT_LINE)
    box.elsewhere.mkdir()
    return box


def test_the_wheel_carries_every_template_and_no_checkout_file(installed):
    names = zipfile.ZipFile(installed.wheel).namelist()
    carried = sorted(n.removeprefix("postgrest_stack/templates/") for n in names
                     if n.startswith("postgrest_stack/templates/"))
    assert carried == sorted(str(p.relative_to(ROOT / "templates")) for p in (ROOT / "templates").rglob("*")
                             if p.is_file())
    assert {n.split("/")[0] for n in names} == {"postgrest_stack", "stackctl", "tasks",
                                                installed.wheel.name.split("-py3")[0] + ".dist-info"}
    entry_points = zipfile.ZipFile(installed.wheel).read(installed.wheel.name.split("-py3")[0]
                                                         + ".dist-info/entry_points.txt").decode()
    assert "postgrest-stack = stackctl.main:main" in entry_points


def test_help_runs_from_another_directory(installed):
    done = installed.run("--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: postgrest-stack [-h] [-C PROJECT_DIR]\n")
    for command in ("render", "settings", "status", "logs", "migration", "token", "jwks"):
        assert command in done.stdout
    where = subprocess.run([str(installed.venv / "bin" / "python"), "-c",
                            "import postgrest_stack, stackctl, tasks; print(postgrest_stack.__file__); "
                            "print(postgrest_stack.INSTALLED)"],
                           cwd=installed.elsewhere, capture_output=True, text=True, timeout=60)
    file, flag = where.stdout.splitlines()
    assert file.startswith(str(installed.venv)) and flag == "True"


def test_render_finds_the_project_from_the_inventory_path_and_matches_the_checkout(installed, tmp_path):
    out = tmp_path / "installed"
    done = installed.run("render", str(installed.project / "inventories" / "prod.py"), "--host", API_HOST,
                         "--out", str(out))
    assert (done.returncode, done.stderr) == (0, "")
    # the operator's group_data/prod.py, not the checkout's
    assert '"127.0.0.1:3999:3000"' in (out / "compose.yaml").read_text()

    env = {k: v for k, v in os.environ.items() if not k.startswith("STACK_")}
    reference = tmp_path / "checkout"
    checkout = subprocess.run([sys.executable, "-m", "postgrest_stack", "render", "inventories/prod.py", "--host",
                               API_HOST, "--data", "postgrest_port=3999", "--out", str(reference)], cwd=ROOT,
                              env={**env, **SECRETS}, capture_output=True, text=True, timeout=60)
    assert checkout.returncode == 0, checkout.stderr

    def tree(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    assert tree(out) == tree(reference) and tree(out)
    assert done.stdout.splitlines() == sorted(tree(out))


def test_minus_c_reads_the_project_and_its_relative_paths(installed):
    done = installed.run("-C", str(installed.project), "settings", "inventories/prod.py")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert API_HOST in report and {host["postgrest_port"] for host in report.values()} == {3999}

    made = installed.run("-C", str(installed.project), "migration", "new", "add orders")
    assert made.returncode == 0, made.stderr
    path = Path(made.stdout.strip())
    assert path.parent == installed.project / "migrations" and path.name.endswith("_add_orders.sql")
    assert path.read_text().startswith(f"-- {path.name}: add orders\n")

    missing = installed.run("-C", str(installed.root / "nope"), "settings", "inventories/prod.py")
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == f"error: -C {installed.root / 'nope'}: no such directory\n"


def test_status_patches_the_stdlib_for_gevent_before_ssl_under_the_installed_command(installed):
    """status drives pyinfra's SSH in gevent greenlets: the console script, like
    `python -m postgrest_stack`, patches first (tests/unit/test_cli.py), -C or not."""
    for args, patched in ((["-C", str(installed.project), "status", "nosuch.py"], True),
                          (["status", "nosuch.py"], True),
                          (["render", "nosuch.py", "--out", "x"], False)):
        done = installed.run(*args, python=("-X", "importtime"))
        assert "error: nosuch.py: no such inventory file\n" in done.stderr, args
        order = [line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
                 if line.startswith("import time:")]
        assert "ssl" in order
        assert ("gevent.monkey" in order and order.index("gevent.monkey") < order.index("ssl")) is patched, args
