"""The stack on one host: directories, files, then only the actions the plan names."""

from __future__ import annotations

import getpass
import posixpath
import shlex
import socket

from pyinfra.api import deploy
from pyinfra.operations import server

from postgrest_stack import compare, key_proof, loaded
from postgrest_stack import plan as planning
from postgrest_stack.layout import DIRECTORIES, JWKS_FILE, RenderedFile, host_script
from postgrest_stack.probe import HostState
from postgrest_stack.settings import Settings
from tasks import files
from tasks.backups import take_backup


@deploy("PostgREST stack")
def apply_stack(settings: Settings, rendered_files: dict[str, RenderedFile], state: HostState, plan: planning.Plan,
                backup_first: str | None = None):
    """``backup_first``: the name of a verified backup to take before the migrations (deploy.py)."""
    app = settings.app_dir
    for relative in plan.directories:
        mode, uid = DIRECTORIES[relative]
        files.directory(name=f"Directory {relative}", path=posixpath.normpath(posixpath.join(app, relative)),
                        mode=mode, uid=uid, current=state.paths.get(relative))
    # Scripts and data first, the compose file last: nothing runs on half a set.
    for relative in sorted(plan.files, key=lambda name: name == "compose.yaml"):
        rendered = rendered_files[relative]
        files.put(
            name=f"File {relative}",
            dest=posixpath.join(app, relative),
            content=rendered.content,
            mode=rendered.mode,
            uid=rendered.owner_uid,
            secret=rendered.secret,
            keep_previous=relative == JWKS_FILE,
            current=state.paths.get(relative),
            digest_key=compare.digest_key_of(rendered_files),
        )
    if plan.remove:
        # bin/apply-sql and bin/migrate apply every file of their folder.
        server.shell(name="Remove SQL files and migrations the project no longer has",
                     commands=[" ".join(["rm", "-f", *(shlex.quote(posixpath.join(app, name)) for name in plan.remove)])])
    if plan.upgrade_db:
        # Before up: the old server still runs on the old data (read-only from here on);
        # compose up then recreates db with the new image on the restored data.
        old, new = plan.upgrade_db
        server.shell(name=f"Upgrade PostgreSQL {old} to {new} (backup, restore on a new volume, switch)",
                     commands=[host_script(app, "upgrade-db")])
    if plan.sql and plan.sql_first:
        # The database answers: a new authenticator password reaches it before up
        # recreates PostgREST with that password.
        _apply_sql(settings)
    if plan.up:
        server.shell(name="Bring the stack up (compose up -d)",
                     commands=[host_script(app, "compose", "up", "-d", "--remove-orphans")])
    if plan.sql and not plan.sql_first:
        _apply_sql(settings)  # a fresh database: once up has started it
    if plan.migrate and backup_first:
        # The database is up (the SQL above, or the running stack): the data as it is
        # before the migrations, verified; a failure stops the host here.
        take_backup(settings, backup_first)
    if plan.migrate:
        # After the SQL (it keeps the ledger); once per run for an external database.
        server.shell(name="Apply migrations" if settings.runs_db else "Apply migrations to the external database",
                     commands=[host_script(app, "migrate", operator())],
                     _run_once=bool(settings.external_db_uri))
    if plan.reload:
        server.shell(name="Reload PostgREST (SIGUSR2)", commands=[host_script(app, "reload-postgrest")])
    if plan.reload_edge:
        server.shell(name="Reload the TLS edge (caddy reload)", commands=[host_script(app, "reload-edge")])


def operator() -> str:
    """Who applies a migration, for the ledger: the controller's user@host."""
    return f"{getpass.getuser()}@{socket.gethostname()}"


def _apply_sql(settings: Settings) -> None:
    # An external database is shared by every api host: once per run is enough.
    app = settings.app_dir
    server.shell(name="Apply SQL in the db container" if settings.runs_db else "Apply SQL to the external database",
                 commands=[host_script(app, "health-gate", "db"), host_script(app, "apply-sql")],
                 _run_once=bool(settings.external_db_uri))


@deploy("PostgREST stack")
def record_loaded(settings: Settings, rendered_files: dict[str, RenderedFile], records: list[str]):
    """After the gate: record what the services now run and have loaded (loaded.py)."""
    server.shell(name=f"Record what the stack has loaded ({', '.join(records)})",
                 commands=[loaded.record_command(settings.app_dir,
                                                 {record: loaded.sources(record, rendered_files)
                                                  for record in records})])


def prove_or_remove_command(app_dir: str) -> str:
    """bin/prove-keys; should PostgREST have read the key file as a shared secret, its
    container is removed (not stopped: restart=always would bring it back at boot)."""
    return (f"{host_script(app_dir, 'prove-keys')} || {{ status=$?; "
            f"{host_script(app_dir, 'compose', 'rm', '-fs', 'postgrest')} >/dev/null 2>&1; exit $status; }}")


@deploy("PostgREST stack")
def health_gate(settings: Settings, key_file: bytes):
    """Wait for a healthy stack; where PostgREST runs, prove it read ``key_file`` as keys.

    A PostgREST that took the key file as a shared secret would accept tokens anyone
    can forge from the public JWKS: its container is removed, and the host fails.
    """
    app = settings.app_dir
    server.shell(name="Health gate", commands=[host_script(app, "health-gate")])
    if settings.runs_api:
        server.shell(
            name="Prove PostgREST read the key file as keys",
            commands=[prove_or_remove_command(app)],
            _stdin=key_proof.stdin_for(key_proof.forged_tokens(key_file, settings)),
        )
