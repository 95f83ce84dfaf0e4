"""scripts/lint_shell.py, the shell half of `make lint`: it fails on a shellcheck finding
(so the lint cannot pass by checking nothing), names the file, the line and the code, and
covers every supported PostgREST line, tls_mode and stack_role when it renders bin/."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from postgrest_stack import versions
from tests.conftest import ROOT

RUNNER = ROOT / "scripts" / "lint_shell.py"


def lint(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RUNNER), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def runner():
    """scripts/lint_shell.py as a module (its dataclasses need it in sys.modules)."""
    spec = importlib.util.spec_from_file_location("lint_shell", RUNNER)
    module = importlib.util.module_from_spec(spec)
    sys.modules["lint_shell"] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules["lint_shell"]


def test_a_script_with_a_finding_is_refused_by_file_line_and_code(tmp_path):
    script = tmp_path / "unquoted.sh"
    script.write_text('#!/bin/sh\nset -eu\necho $1\n')  # SC2086: $1 split and globbed
    done = lint(str(script))
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(f"{script}:3: SC2086 (info): Double quote to prevent globbing")
    assert len(done.stdout.splitlines()) == 1


def test_a_style_level_finding_counts_too(tmp_path):
    script = tmp_path / "echo.sh"
    script.write_text('#!/bin/sh\nset -eu\nx=$(echo "$(date)")\necho "$x"\n')  # SC2005/SC2116: style
    done = lint(str(script))
    assert done.returncode == 1
    assert "(style)" in done.stdout


def test_a_clean_script_passes(tmp_path):
    script = tmp_path / "clean.sh"
    script.write_text('#!/bin/sh\nset -eu\necho "$1"\n')
    done = lint(str(script))
    assert (done.returncode, done.stdout) == (0, ""), done.stderr


def test_a_local_in_a_posix_sh_script_is_refused(tmp_path):
    script = tmp_path / "local.sh"
    script.write_text('#!/bin/sh\nf() {\n  local x="$1"\n  echo "$x"\n}\nf a\n')  # SC3043: not POSIX
    done = lint(str(script))
    assert done.returncode == 1
    assert ":3: SC3043 " in done.stdout


def test_skipping_a_template_that_does_not_exist_is_refused():
    done = lint("--skip", "no-such-template")
    assert done.returncode == 2
    assert "--skip no-such-template: no such template in templates/bin" in done.stderr


def test_every_line_tls_mode_and_role_is_rendered(runner, tmp_path):
    labels = [label for label, _given in runner.variants(tmp_path)]
    assert len(labels) == len(set(labels)) == len(versions.LINES) * 4 * 4
    for line in versions.LINES:
        assert any(label.startswith(f"PostgREST {runner.RELEASES[line]},") for label in labels)
    for mode in ("off", "internal", "acme", "files"):
        assert sum(f"tls_mode={mode}," in label for label in labels) == len(labels) // 4
    for role in ("all", "db", "api (db_host)", "api (external_db_uri)"):
        assert sum(label.endswith(f"stack_role={role}") for label in labels) == len(labels) // 4


def test_a_finding_in_a_rendered_script_names_its_template_and_variants(runner, tmp_path):
    first, second = tmp_path / "a" / "migrate", tmp_path / "b" / "migrate"
    for path, line in ((first, 5), (second, 7)):  # the same template line, moved by an {% if %}
        path.parent.mkdir()
        path.write_text("\n" * (line - 1) + "for name in $(ls x); do\n")
    scripts = {first: runner.Rendered("migrate", 3, ("v3", "v4")), second: runner.Rendered("migrate", 1, ("v1",))}
    comments = [{"file": str(first), "line": 5, "code": 2045, "level": "error", "message": "Iterating over ls output"},
                {"file": str(second), "line": 7, "code": 2045, "level": "error", "message": "Iterating over ls output"}]
    assert [str(f) for f in runner.rendered_findings(comments, scripts, 80)] == [
        "templates/bin/migrate.j2 (bin/migrate for 3 of 80 variants, e.g. v1):7: SC2045 (error): "
        "Iterating over ls output"]


def test_shipped_files_are_the_shell_of_scripts_and_images(runner):
    shipped = {path.relative_to(ROOT).as_posix() for path in runner.shipped_files()}
    assert {"scripts/install-system-packages.sh", "images/build.sh", "images/lib.sh", "images/testhost/build.sh",
            "images/postgres/docker-entrypoint.sh", "images/swagger/docker-entrypoint.sh"} <= shipped
    assert not any(path.endswith(("Dockerfile", ".conf")) for path in shipped)
