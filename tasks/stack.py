"""The stack on one host: directories, files, then only the actions the plan names."""

from __future__ import annotations

import posixpath

from pyinfra.api import deploy
from pyinfra.operations import server

from postgrest_stack import plan as planning
from postgrest_stack.probe import HostState
from postgrest_stack.render import DIRECTORIES, JWKS_FILE, RenderedFile
from postgrest_stack.settings import Settings
from tasks import stack_files


@deploy("PostgREST stack")
def apply_stack(settings: Settings, files: dict[str, RenderedFile], state: HostState, plan: planning.Plan):
    app = settings.app_dir
    for relative in plan.directories:
        mode, uid = DIRECTORIES[relative]
        stack_files.directory(name=f"Directory {relative}", path=posixpath.normpath(posixpath.join(app, relative)),
                              mode=mode, uid=uid)
    # Scripts and data first, the compose file last: nothing runs on half a set.
    for relative in sorted(plan.files, key=lambda name: name == "compose.yaml"):
        rendered = files[relative]
        stack_files.put(
            name=f"File {relative}",
            dest=posixpath.join(app, relative),
            content=rendered.content,
            mode=rendered.mode,
            uid=rendered.owner_uid,
            secret=rendered.secret,
            keep_previous=relative == JWKS_FILE,
            exists=relative in state.paths,
        )
    if plan.up:
        server.shell(name="Bring the stack up (compose up -d)",
                     commands=[f"{app}/bin/compose up -d --remove-orphans"])
    if plan.sql:
        # An external database is shared by every api host: once per run is enough.
        server.shell(name="Apply SQL in the db container" if settings.runs_db else "Apply SQL to the external database",
                     commands=[f"{app}/bin/health-gate db", f"{app}/bin/apply-sql"],
                     _run_once=bool(settings.external_db_uri))
    if plan.reload:
        server.shell(name="Reload PostgREST (SIGUSR2)", commands=[f"{app}/bin/reload-postgrest"])


@deploy("PostgREST stack")
def health_gate(settings: Settings):
    server.shell(name="Health gate", commands=[f"{settings.app_dir}/bin/health-gate"])
