"""The stack's file operations (tasks/stack.py apply_stack, tasks/files.py put) run for
real through pyinfra's API on @local, in seconds: a new key set for a stopped PostgREST
(the plain upload) keeps jwks.json.prev, and ``--diff`` names secret files without
ever printing them, while it shows the other files' changes.

The directory is the rendered one; ``bin/compose`` stands in for Compose. The probed
state is built from the files the directory holds (the probe itself is pinned in
test_commands.py and run for real end to end).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import stat

from postgrest_stack import jwks, layout, probe, render, settings
from postgrest_stack import plan as planning
from tasks.stack import apply_stack
from tests import jwks_corpus
from tests.harness.local_pyinfra import local_host, run_deploy
from tests.unit.test_plan import deployed_state

STUB_COMPOSE = """#!/bin/sh
echo "compose $*" >> "$(dirname "$0")/../compose.log"
# What `up` starts PostgREST with: the key file on disk at that moment.
[ "$1" = up ] && cp "$(dirname "$0")/../postgrest/jwks.json" "$(dirname "$0")/../key-file-at-up"
exit 0
"""


def key_file(*names: str) -> bytes:
    return jwks.validate(jwks_corpus.dumps(jwks_corpus.auth0_jwks(*names)), "tenant").canonical


def test_a_new_key_set_for_a_stopped_postgrest_keeps_the_previous_file(data, secrets, tmp_path):
    app = tmp_path / "app"
    resolved = settings.resolve(dict(data, app_dir=str(app)))
    old, new = key_file("k1", "k2"), key_file("k2", "k3")
    deployed = planning.with_jwks(render.render(resolved, secrets), old)
    render.write_tree(deployed, app)
    (app / "bin" / "compose").write_text(STUB_COMPOSE)
    # PostgREST stopped (by hand, or it crashed): its container exited, the database runs.
    state = deployed_state(deployed, ready=None)
    state.services["postgrest"] = probe.ServiceState("exited", "", "t0", "image")
    files = planning.with_jwks(render.render(resolved, secrets), new)
    plan = planning.make_plan(files, state)
    # The plain upload path: no rotation steps (nothing runs to reload), compose up after.
    assert plan.files == [layout.JWKS_FILE] and not plan.rotate_keys and plan.up

    with local_host() as (pyinfra_state, _host):
        run_deploy(pyinfra_state, apply_stack, resolved, files, state, plan)

    assert (app / "postgrest/jwks.json").read_bytes() == new
    assert (app / "postgrest/jwks.json.prev").read_bytes() == old
    info = os.stat(app / "postgrest/jwks.json")
    assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o600, layout.POSTGREST_UID)
    assert (app / "compose.log").read_text() == "compose up -d --remove-orphans\n"
    assert (app / "key-file-at-up").read_bytes() == new


OLD_SECRETS = {"postgres_password": "old-superuser-secret-4711", "authenticator_password": "old-authenticator-secret-4711"}
NEW_SECRETS = {"postgres_password": "new-superuser-secret-0815", "authenticator_password": "new-authenticator-secret-0815"}


def test_diff_names_secret_files_and_never_prints_them(data, tmp_path, caplog):
    app = tmp_path / "app"
    before = settings.resolve(dict(data, app_dir=str(app)))
    after = settings.resolve(dict(data, app_dir=str(app), jwt_audience="https://api-v2.example.com"))
    deployed = planning.with_jwks(render.render(before, OLD_SECRETS), key_file("k1"))
    render.write_tree(deployed, app)
    files = planning.with_jwks(render.render(after, NEW_SECRETS), key_file("k1"))
    plan = planning.make_plan(files, deployed_state(deployed))
    secret_files = [name for name, rendered in files.items() if rendered.secret]
    assert {layout.DIGEST_KEY, ".env", "db/superuser-password", "sql/01-roles.sql"} <= set(secret_files)
    assert set(secret_files) <= set(plan.files)  # every one of them changes with the secrets
    assert "postgrest/postgrest.conf" in plan.files
    caplog.set_level(logging.DEBUG, logger="pyinfra")  # as at -vvv

    with local_host(diff=True) as (pyinfra_state, _host):
        # Only the file operations: what --diff prints is decided there.
        run_deploy(pyinfra_state, apply_stack, after, files, deployed_state(deployed),
                   dataclasses.replace(plan, up=False, sql=False, reload=False))

    output = caplog.text
    printed = [value for value in (*OLD_SECRETS.values(), *NEW_SECRETS.values()) if value in output]
    # What a diff of a secret file would print: its changed lines (SCRAM verifiers, the
    # digest key, the password lines of .env).
    for name in secret_files:
        old_lines, new_lines = (set(f[name].content.decode().splitlines()) for f in (deployed, files))
        printed += [line for line in old_lines ^ new_lines if line.strip() and line in output]
    assert printed == [], "secret material printed"
    # Other files' changes are shown, so what is missing above is missing by design.
    assert '- jwt-aud = "https://api.example.com"' in output and '+ jwt-aud = "https://api-v2.example.com"' in output
    for name in secret_files:
        assert f"Will modify {app / name} (holds secrets: content not shown)" in output
    # And the new secrets did land.
    assert (app / "db/superuser-password").read_text() == NEW_SECRETS["postgres_password"]
