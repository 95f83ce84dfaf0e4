"""One read-only probe of a host: the command a pyinfra fact runs, and its parser.

A single remote command reports everything the deploy decides on: init system, Docker
and compose, the stack's files (digest, mode, owner), its containers, PostgREST's
/ready and the digest of the SQL last applied. A no-change rerun therefore costs one
remote command, and the decisions stay pure (see plan.py).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from .render import GUARD_SCHEMA


@dataclass(frozen=True)
class PathState:
    kind: str  # "f" file, "d" directory
    mode: int
    uid: int
    gid: int
    sha256: str | None = None


@dataclass(frozen=True)
class ServiceState:
    status: str  # running, exited, created, ...
    health: str  # healthy, starting, unhealthy, "" when the image has no healthcheck
    started_at: str
    image: str


@dataclass
class HostState:
    init: str = ""
    docker: str = "missing"  # running | stopped | missing
    compose: str | None = None  # "docker compose" | "docker-compose" | None
    uid1000: str = ""  # the host's name for uid 1000, if any
    paths: dict[str, PathState] = field(default_factory=dict)
    services: dict[str, ServiceState] = field(default_factory=dict)
    ready: int | None = None
    sql_digest: str | None = None
    #: image_source = controller: reference compose uses -> image ID the host holds under it (None: none).
    images: dict[str, str | None] = field(default_factory=dict)

    @property
    def systemd(self) -> bool:
        return self.init == "systemd"


def command(app_dir: str, stack_name: str, admin_port: int, external: tuple[str, str] | None = None,
            images: tuple[str, ...] = ()) -> str:
    """The probe script. ``external``: (postgres image, superuser conninfo) of an external
    database, whose SQL digest is read with psql from a one-off container. ``images``: the
    references whose image ID the host holds is reported (image_source = controller)."""
    app = shlex.quote(app_dir)
    project = shlex.quote(f"com.docker.compose.project={stack_name}")
    inspect_format = shlex.quote(
        'service {{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} '
        "{{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}} {{.State.StartedAt}} {{.Config.Image}}"
    )
    digest_sql = shlex.quote(
        f"SELECT coalesce(obj_description(oid, 'pg_namespace'), '') FROM pg_namespace WHERE nspname = '{GUARD_SCHEMA}'"
    )
    return f"""
echo "init $(cat /proc/1/comm 2>/dev/null || echo unknown)"
echo "uid1000 $(getent passwd 1000 2>/dev/null | cut -d: -f1)"
if [ -d {app} ]; then
  find {app} -printf 'path %y %m %U %G %P\\n'
  find {app} -type f -exec sha256sum {{}} + 2>/dev/null | sed 's/^/sha /'
fi
if ! command -v docker >/dev/null 2>&1; then echo "docker missing"; exit 0; fi
if ! docker info >/dev/null 2>&1; then echo "docker stopped"; exit 0; fi
echo "docker running"
if docker compose version >/dev/null 2>&1; then echo "compose docker compose";
elif command -v docker-compose >/dev/null 2>&1; then echo "compose docker-compose"; fi{_images_command(images)}
ids=$(docker ps -aq --filter label={project})
if [ -n "$ids" ]; then docker inspect -f {inspect_format} $ids; fi
if command -v curl >/dev/null 2>&1; then
  echo "ready $(curl -s -o /dev/null -m 3 -w '%{{http_code}}' http://127.0.0.1:{int(admin_port)}/ready)"
fi
{_digest_command(app, project, digest_sql, external)}
exit 0
""".strip()


def _digest_command(app: str, project: str, digest_sql: str, external: tuple[str, str] | None) -> str:
    if external:
        image, conninfo = external
        return f"""if [ -f {app}/.env ]; then
  echo "sqldigest $(docker run --rm --network host --env-file {app}/.env {shlex.quote(image)} sh -c 'PGPASSWORD="$POSTGRES_PASSWORD" psql -X -tA "$0" -c "$1"' {shlex.quote(conninfo)} {digest_sql} 2>/dev/null)"
fi"""
    return f"""db=$(docker ps -q --filter label={project} --filter label=com.docker.compose.service=db)
if [ -n "$db" ]; then
  echo "sqldigest $(docker exec "$db" sh -c 'psql -X -tA -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "$0"' {digest_sql} 2>/dev/null)"
fi"""


def _images_command(references: tuple[str, ...]) -> str:
    """One line per reference: ``image REF ID`` (ID empty when the host has no such image)."""
    return "".join(
        f"\nprintf 'image %s %s\\n' {shlex.quote(ref)} "
        "\"$(docker image inspect --format '{{.Id}}' " + shlex.quote(ref) + " 2>/dev/null)\""
        for ref in references
    )


def parse(lines: list[str], app_dir: str) -> HostState:
    state = HostState()
    prefix = app_dir.rstrip("/") + "/"
    shas: dict[str, str] = {}
    raw_paths: dict[str, tuple] = {}
    for line in lines:
        word, _, rest = line.partition(" ")
        if word == "init":
            state.init = rest.strip()
        elif word == "uid1000":
            state.uid1000 = rest.strip()
        elif word == "docker":
            state.docker = rest.strip()
        elif word == "compose":
            state.compose = rest.strip()
        elif word == "path":
            kind, mode, uid, gid, relative = rest.split(" ", 4)
            raw_paths[relative or "."] = (kind, int(mode, 8), int(uid), int(gid))
        elif word == "sha":
            digest, _, path = rest.partition("  ")
            if path.startswith(prefix):
                shas[path[len(prefix):]] = digest
        elif word == "service":
            parts = rest.split(" ")
            if len(parts) >= 5:
                name, status, health, started, image = parts[:5]
                state.services[name] = ServiceState(status, "" if health == "-" else health, started, image)
        elif word == "ready":
            value = rest.strip()
            state.ready = int(value) if value.isdigit() else None
        elif word == "sqldigest":
            state.sql_digest = rest.strip() or None
        elif word == "image":
            reference, _, image_id = rest.strip().partition(" ")
            state.images[reference] = image_id.strip() or None
    for relative, (kind, mode, uid, gid) in raw_paths.items():
        state.paths[relative] = PathState(kind, mode, uid, gid, shas.get(relative))
    return state
