"""layout.py is the one description of what a host holds: every file render makes, for
every role and tls_mode, has its row, and carries that row's mode, owner and flag."""

from __future__ import annotations

import pytest

from postgrest_stack import app_dir, layout, render, settings
from tests.harness.certificates import TestCA
from tests.unit.test_edge import HOST, files_mode


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    return TestCA(tmp_path_factory.mktemp("ca")).issue("api", (HOST,), with_chain=True)


def every_rendering(data, secrets, issued):
    for role in ("all", "db", "api"):
        extra = {"db_host": "10.0.0.5"} if role == "api" else {}
        yield render.render(settings.resolve(dict(data, stack_role=role, **extra)), secrets)
    yield render.render(settings.resolve(files_mode(data, issued)), secrets)


def test_every_rendered_file_is_its_rows(data, secrets, issued):
    seen = set()
    for files in every_rendering(data, secrets, issued):
        for name, rendered in files.items():
            managed = layout.row(name)
            seen.add(managed.path)
            assert (rendered.mode, rendered.owner_uid, rendered.secret) == (managed.mode, managed.owner,
                                                                             managed.secret), name
    # Every row is used by some host (the JWKS is fetched at deploy time, not rendered).
    assert seen | {layout.JWKS_FILE} == {managed.path for managed in layout.ROWS}


@pytest.mark.parametrize("path", ["sql/x/y.sql", "migrations/notes.txt", "postgrest/other.conf", "bin/x/y"])
def test_a_path_without_a_row_is_refused(path):
    with pytest.raises(ValueError, match="is not a path the stack manages under app_dir"):
        layout.row(path)


def test_what_a_change_sets_off():
    assert layout.RECREATE_ON_CHANGE == ("compose.yaml", ".env")
    assert layout.RELOADED_BY_SIGNAL == ("postgrest/postgrest.conf",)
    assert layout.RELOADED_BY_EDGE == ("edge/Caddyfile", "edge/tls/cert.pem", "edge/tls/key.pem")
    assert layout.triggering(layout.ROTATE_KEYS) == ("postgrest/jwks.json",)
    assert set(layout.KEYED_FILES) == {".env", "db/superuser-password", "sql/01-roles.sql", "edge/tls/key.pem"}


def test_the_app_dir_check_knows_every_named_row():
    named = {managed.path for managed in layout.ROWS if "*" not in managed.path}
    assert named <= app_dir.managed_files()
