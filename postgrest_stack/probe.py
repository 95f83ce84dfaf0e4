"""One read-only probe of a host: the command a pyinfra fact runs, and its parser.

A single remote command reports everything the deploy decides on: init system, Docker
and compose, the stack's files (digest, mode, owner), its containers, PostgREST's
/ready and the digest of the SQL last applied. A no-change rerun therefore costs one
remote command, and the decisions stay pure (see plan.py).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field

from .layout import DIGEST_KEY, GUARD_SCHEMA, JWKS_FILE
from .migrations import LEDGER_TABLE


@dataclass(frozen=True)
class PathState:
    kind: str  # "f" file, "d" directory
    mode: int
    uid: int
    gid: int
    sha256: str | None = None
    #: For secret files: sha256(digest key || content), never the plain digest.
    keyed_sha256: str | None = None


@dataclass(frozen=True)
class ServiceState:
    status: str  # running, exited, created, ...
    health: str  # healthy, starting, unhealthy, "" when the image has no healthcheck
    started_at: str
    image: str
    #: The ID of the image the container runs (``sha256:...``); "" from an older probe line.
    image_id: str = ""


@dataclass
class HostState:
    init: str = ""
    docker: str = "missing"  # running | stopped | missing
    paths: dict[str, PathState] = field(default_factory=dict)
    services: dict[str, ServiceState] = field(default_factory=dict)
    ready: int | None = None
    sql_digest: str | None = None
    #: The migrations ledger's digest (migrations.ledger_digest); None: no ledger read.
    ledger_digest: str | None = None
    #: The kids of the deployed key file (postgrest/jwks.json), in its order.
    jwks_kids: list[str] = field(default_factory=list)
    #: image_source = controller: reference compose uses -> image ID the host holds under it (None: none).
    images: dict[str, str | None] = field(default_factory=dict)
    #: With ``details`` (the status command): Docker engine and compose versions (None:
    #: not installed or not answering).
    engine_version: str | None = None
    compose_version: str | None = None

    @property
    def systemd(self) -> bool:
        return self.init == "systemd"


def command(app_dir: str, stack_name: str, admin_port: int, external: tuple[str, str] | None = None,
            images: tuple[str, ...] = (), secret_files: tuple[str, ...] = (), details: bool = False,
            ready_in_container: tuple[str, ...] = ()) -> str:
    """The probe script: one shell program made of the parts below, each pinned by a test.

    ``external``: (postgres image, superuser conninfo) of an external database, whose SQL
    digest is read with psql from a one-off container. ``images``: the references whose
    image ID the host holds is reported (image_source = controller). ``secret_files``:
    paths under app_dir digested with the host's digest key (digests.py), never plainly.
    ``details`` (the status command): also the engine and compose versions, before the
    Docker check that ends the script early.
    """
    app = shlex.quote(app_dir)
    project = f"com.docker.compose.project={stack_name}"
    return "\n".join([
        'echo "init $(cat /proc/1/comm 2>/dev/null || echo unknown)"',
        _files_command(app, secret_files),
        *([_details_command()] if details else []),
        _docker_command(),
        *_image_lines(images),
        _services_command(project),
        _ready_command(admin_port, project, ready_in_container),
        _digest_command(app, project, external),
        "exit 0",
    ])


def _files_command(app: str, secret_files: tuple[str, ...]) -> str:
    """Every path under app_dir (kind, mode, owner) and every file's digest, relative to
    app_dir: ``cd`` follows a symlinked app_dir, and relative names never need escaping."""
    keyed = " | ".join(shlex.quote(f"./{path}") for path in secret_files) or "''"
    return (
        f"if cd {app} 2>/dev/null; then\n"
        "  find . -printf 'path %y %m %U %G %P\\n'\n"
        "  find . -type f | while IFS= read -r f; do\n"
        '    case "$f" in\n'
        f"      {keyed}) [ -f {DIGEST_KEY} ] &&"
        ' printf \'ksha %s %s\\n\' "$(cat ' + DIGEST_KEY + ' "$f" | sha256sum | cut -d" " -f1)" "${f#./}" ;;\n'
        '      *) printf \'sha %s %s\\n\' "$(sha256sum < "$f" | cut -d" " -f1)" "${f#./}" ;;\n'
        "    esac\n"
        "  done\n"
        # The key file is public: its kids come with the probe, not a second command.
        f"  [ -f {shlex.quote(JWKS_FILE)} ] && printf 'jwks %s\\n' \"$(head -c 65536 {shlex.quote(JWKS_FILE)} | tr -d '\\n')\"\n"
        "  cd /\n"
        "fi"
    )


def _details_command() -> str:
    """``engine VERSION`` and ``compose VERSION`` (the compose bin/compose would pick: the
    v2 plugin first, else v1)."""
    server_version = shlex.quote("{{.Server.Version}}")
    return (
        "if command -v docker >/dev/null 2>&1; then\n"
        f'  echo "engine $(docker version --format {server_version} 2>/dev/null)"\n'
        "  if docker compose version >/dev/null 2>&1; then\n"
        '    echo "compose $(docker compose version --short 2>/dev/null)"\n'
        "  elif command -v docker-compose >/dev/null 2>&1; then\n"
        '    echo "compose $(docker-compose version --short 2>/dev/null)"\n'
        "  fi\n"
        "fi"
    )


#: Where an installed engine leaves its daemon's service (Debian's docker.io, Docker's
#: docker-ce). A ``docker`` client alone is no engine: an image may ship one without it.
ENGINE_SERVICES = ("/etc/init.d/docker", "/lib/systemd/system/docker.service",
                   "/usr/lib/systemd/system/docker.service", "/etc/systemd/system/docker.service")


def _docker_command() -> str:
    """``docker running``, ``docker stopped`` (an engine is installed: its daemon or its
    service is there) or ``docker missing`` (no client, or a client with no engine)."""
    services = " || ".join(f"[ -e {path} ]" for path in ENGINE_SERVICES)
    return (
        'if ! command -v docker >/dev/null 2>&1; then echo "docker missing"; exit 0; fi\n'
        'if ! docker info >/dev/null 2>&1; then\n'
        f'  if command -v dockerd >/dev/null 2>&1 || {services}; then echo "docker stopped"; '
        'else echo "docker missing"; fi\n'
        '  exit 0\n'
        'fi\n'
        'echo "docker running"'
    )


def _image_lines(references: tuple[str, ...]) -> list[str]:
    """One line per reference: ``image REF ID`` (ID empty when the host has no such image)."""
    return [f"printf 'image %s %s\\n' {shlex.quote(ref)} "
            "\"$(docker image inspect --format '{{.Id}}' " + shlex.quote(ref) + " 2>/dev/null)\""
            for ref in references]


#: The stack's own service containers: compose's labels, never its one-off `run` containers.
def _stack_filter(project: str) -> str:
    return f"--filter label={shlex.quote(project)} --filter label=com.docker.compose.oneoff=False"


def _services_command(project: str) -> str:
    inspect_format = shlex.quote(
        'service {{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} '
        "{{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}} {{.State.StartedAt}} {{.Config.Image}} {{.Image}}"
    )
    return (f"ids=$(docker ps -aq {_stack_filter(project)})\n"
            f'if [ -n "$ids" ]; then docker inspect -f {inspect_format} $ids; fi')


def _ready_command(admin_port: int, project: str, ready_in_container: tuple[str, ...] = ()) -> str:
    """``ready CODE``: /ready through the published admin port (PostgREST 12, 13), or, with
    ``ready_in_container`` (PostgREST 14+, versions.Profile.ready_argv), `postgrest --ready`
    run in the PostgREST container: 200 when it succeeds, else 503."""
    if ready_in_container:
        argv = " ".join(shlex.quote(arg) for arg in ready_in_container)
        return (f"pgrst=$(docker ps -q {_stack_filter(project)} --filter label=com.docker.compose.service=postgrest"
                " | head -n 1)\n"
                'if [ -n "$pgrst" ]; then\n'
                f'  if timeout 10 docker exec "$pgrst" {argv} >/dev/null 2>&1; then echo "ready 200"; '
                'else echo "ready 503"; fi\n'
                "fi")
    return ("if command -v curl >/dev/null 2>&1; then\n"
            f"  echo \"ready $(curl -s -o /dev/null -m 3 -w '%{{http_code}}' http://127.0.0.1:{int(admin_port)}/ready)\"\n"
            "fi")


def _digest_command(app: str, project: str, external: tuple[str, str] | None) -> str:
    """``sqldigest D`` (the project SQL's digest, recorded on the guard schema) and
    ``ledger D`` (the migrations ledger's digest, migrations.ledger_digest; empty
    without a ledger), from one psql session."""
    digest_sql = shlex.quote(
        f"SELECT 'sqldigest ' || coalesce(obj_description(oid, 'pg_namespace'), '') "
        f"FROM pg_namespace WHERE nspname = '{GUARD_SCHEMA}'"
    )
    ledger_sql = shlex.quote(
        "SELECT 'ledger ' || encode(sha256(convert_to(coalesce(string_agg(version::text || ' ' || sha256 || "
        f"E'\\n', '' ORDER BY version), ''), 'UTF8')), 'hex') FROM {LEDGER_TABLE}"
    )
    if external:
        image, conninfo = external
        return (f"if [ -f {app}/.env ]; then\n"
                f"  docker run --rm --network host --env-file {app}/.env {shlex.quote(image)} "
                f"sh -c 'PGPASSWORD=\"$POSTGRES_PASSWORD\" psql -X -tA \"$0\" -c \"$1\" -c \"$2\"' "
                f"{shlex.quote(conninfo)} {digest_sql} {ledger_sql} 2>/dev/null\n"
                "fi")
    return (f"db=$(docker ps -q {_stack_filter(project)} --filter label=com.docker.compose.service=db)\n"
            'if [ -n "$db" ]; then\n'
            "  docker exec \"$db\" sh -c 'psql -X -tA -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\" "
            f"-c \"$0\" -c \"$1\"' {digest_sql} {ledger_sql} 2>/dev/null\n"
            "fi")


def ledger_rows_command(app_dir: str, stack_name: str, external: tuple[str, str] | None = None) -> str:
    """The migrations ledger's rows, ``row VERSION SHA256 NAME`` each (read only when its
    digest differs from the folder's, so a no-change rerun stays one remote command)."""
    app = shlex.quote(app_dir)
    rows_sql = shlex.quote(f"SELECT 'row ' || version || ' ' || sha256 || ' ' || name FROM {LEDGER_TABLE} "
                           "ORDER BY version")
    if external:
        image, conninfo = external
        return (f"docker run --rm --network host --env-file {app}/.env {shlex.quote(image)} "
                f"sh -c 'PGPASSWORD=\"$POSTGRES_PASSWORD\" psql -X -tA -v ON_ERROR_STOP=1 \"$0\" -c \"$1\"' "
                f"{shlex.quote(conninfo)} {rows_sql}")
    project = f"com.docker.compose.project={stack_name}"
    return (f"db=$(docker ps -q {_stack_filter(project)} --filter label=com.docker.compose.service=db)\n"
            "docker exec \"$db\" sh -c 'psql -X -tA -v ON_ERROR_STOP=1 -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\" "
            f"-c \"$0\"' {rows_sql}")


def parse_ledger_rows(lines: list[str]) -> list[tuple[int, str, str]]:
    """``(version, sha256, name)`` of each ``row`` line."""
    rows = []
    for line in lines:
        word, _, rest = line.partition(" ")
        if word == "row":
            version, sha256, name = rest.strip().split(" ", 2)
            rows.append((int(version), sha256, name))
    return rows


def _kids(text: str) -> list[str]:
    try:
        return [str(key.get("kid", "?")) for key in json.loads(text)["keys"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []


def parse(lines: list[str], app_dir: str) -> HostState:
    state = HostState()
    shas: dict[str, str] = {}
    keyed: dict[str, str] = {}
    raw_paths: dict[str, tuple] = {}
    for line in lines:
        word, _, rest = line.partition(" ")
        if word == "init":
            state.init = rest.strip()
        elif word == "docker":
            state.docker = rest.strip()
        elif word == "path":
            kind, mode, uid, gid, relative = rest.split(" ", 4)
            raw_paths[relative or "."] = (kind, int(mode, 8), int(uid), int(gid))
        elif word in ("sha", "ksha"):
            digest, _, relative = rest.partition(" ")
            (shas if word == "sha" else keyed)[relative] = digest
        elif word == "service":
            parts = rest.split(" ")
            if len(parts) >= 5:
                name, status, health, started, image = parts[:5]
                image_id = parts[5] if len(parts) > 5 else ""
                # A leftover container of the same service never hides the running one.
                if state.services.get(name) is None or state.services[name].status != "running":
                    state.services[name] = ServiceState(status, "" if health == "-" else health, started, image,
                                                        image_id)
        elif word == "ready":
            value = rest.strip()
            state.ready = int(value) if value.isdigit() else None
        elif word == "sqldigest":
            state.sql_digest = rest.strip() or None
        elif word == "ledger":
            state.ledger_digest = rest.strip() or None
        elif word == "jwks":
            state.jwks_kids = _kids(rest)
        elif word == "image":
            reference, _, image_id = rest.strip().partition(" ")
            state.images[reference] = image_id.strip() or None
        elif word == "engine":
            state.engine_version = rest.strip() or None
        elif word == "compose":
            state.compose_version = rest.strip() or None
    for relative, (kind, mode, uid, gid) in raw_paths.items():
        state.paths[relative] = PathState(kind, mode, uid, gid, shas.get(relative), keyed.get(relative))
    return state
