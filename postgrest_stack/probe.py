"""One read-only probe of a host: the command a pyinfra fact runs, and its parser.

A single remote command reports everything the deploy decides on: init system, Docker
and compose, the stack's files (digest, mode, owner), its containers, PostgREST's
/ready and the digest of the SQL last applied. A no-change rerun therefore costs one
remote command, and the decisions stay pure (see plan.py). The shell is
templates/probe.sh.j2 (its readiness lines: templates/shell/ready.sh.j2, shared with
the host's scripts); what it prints, one line per fact, is read by :func:`parse`, and
tests/unit/probe_outputs/ holds real outputs with the states they parse to.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from functools import lru_cache

import jinja2

from . import TEMPLATES, backups, versions
from .layout import DIGEST_KEY, ENV, GUARD_SCHEMA, JWKS_FILE, data_volume
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
    #: On a db host: the newest verified backup's name in backups_path (None: none, or not probed).
    latest_backup: str | None = None
    #: The major version of the data on the stack's db volume (its PG_VERSION); None: no
    #: volume, no data yet, or not read (an external database).
    data_major: int | None = None

    @property
    def systemd(self) -> bool:
        return self.init == "systemd"


#: The probe's Docker check: where an installed engine leaves its daemon's service
#: (Debian's docker.io, Docker's docker-ce). A ``docker`` client alone is no engine.
ENGINE_SERVICES = ("/etc/init.d/docker", "/lib/systemd/system/docker.service",
                   "/usr/lib/systemd/system/docker.service", "/etc/systemd/system/docker.service")
#: What `docker inspect` prints for each of the stack's containers: a ``service`` line,
#: its fields in the order parse() reads them.
SERVICE_FORMAT = ('service {{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} '
                  "{{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}} {{.State.StartedAt}} "
                  "{{.Config.Image}} {{.Image}}")
#: The project SQL's digest, recorded on the guard schema by bin/apply-sql.
DIGEST_SQL = (f"SELECT 'sqldigest ' || coalesce(obj_description(oid, 'pg_namespace'), '') "
              f"FROM pg_namespace WHERE nspname = '{GUARD_SCHEMA}'")
#: The migrations ledger's digest (migrations.ledger_digest computes the same).
LEDGER_SQL = ("SELECT 'ledger ' || encode(sha256(convert_to(coalesce(string_agg(version::text || ' ' || sha256 || "
              f"E'\\n', '' ORDER BY version), ''), 'UTF8')), 'hex') FROM {LEDGER_TABLE}")


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    """templates/, read as render.py reads it (the probe never imports render)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                             lstrip_blocks=True, autoescape=False)
    env.filters["shell"] = shlex.quote
    return env


def command(app_dir: str, stack_name: str, admin_port: int, external: tuple[str, str] | None = None,
            images: tuple[str, ...] = (), secret_files: tuple[str, ...] = (), details: bool = False,
            postgrest_version: str = versions.TESTED_RELEASE, backups_path: str | None = None) -> str:
    """The probe script (templates/probe.sh.j2) for a host of these settings.

    ``external``: (postgres image, superuser conninfo) of an external database, whose SQL
    digest is read with psql from a one-off container. ``images``: the references whose
    image ID the host holds is reported (image_source = controller). ``secret_files``:
    paths under app_dir digested with the host's digest key (digests.py), never plainly.
    ``details`` (the status command): also the engine and compose versions, before the
    Docker check that ends the script early. ``postgrest_version``: how readiness is
    asked (templates/shell/ready.sh.j2). ``backups_path`` (a db host's): the newest
    verified backup there is reported (a ``backup`` line).
    """
    for path in secret_files:
        # find -path takes them as patterns: left out of the plain digests, a name with a
        # pattern character could leave out another file, or not itself.
        if set(path) & set("*?[\\"):
            raise ValueError(f"{path!r}: a keyed file's name has a pattern character")
    pgrst = versions.profile(postgrest_version)
    return _templates().get_template("probe.sh.j2").render(
        app_dir=app_dir, stack_name=stack_name, admin_port=int(admin_port), external=external, images=images,
        secret_files=secret_files, details=details, pgrst=pgrst,
        ready_command=" ".join(shlex.quote(arg) for arg in pgrst.ready_argv),
        digest_key=DIGEST_KEY, jwks_file=JWKS_FILE, env_file=posixpath.join(app_dir, ENV),
        engine_services=ENGINE_SERVICES, server_version_format="{{.Server.Version}}", image_id_format="{{.Id}}",
        service_format=SERVICE_FORMAT, digest_sql=DIGEST_SQL, ledger_sql=LEDGER_SQL, backups_path=backups_path,
        backup_name=backups.NAME_PATTERN, data_volume=data_volume(stack_name), mountpoint_format="{{.Mountpoint}}")


def _stack_filter(project: str) -> str:
    """The stack's own service containers: compose's labels, never its one-off `run` containers."""
    return f"--filter label={shlex.quote(project)} --filter label=com.docker.compose.oneoff=False"


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


def _unescape(name: str) -> str:
    r"""A name as sha256sum prints it on a line it starts with ``\``: ``\\`` for a
    backslash, ``\n`` a line feed, ``\r`` a carriage return."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), name)


def parse(lines: list[str]) -> HostState:
    """The probe's output, line by line."""
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
            if digest.startswith("\\"):  # sha256sum escaped a \ or a newline in the name
                digest, relative = digest[1:], _unescape(relative)
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
        elif word == "backup":
            name = rest.strip()
            state.latest_backup = name if backups.is_name(name) else None
        elif word == "pgdata":
            value = rest.strip()
            # PG_VERSION holds the major alone since PostgreSQL 10 ("15"), "9.6" before.
            major = value.split(".", 1)[0]
            state.data_major = int(major) if major.isdigit() else None
    for relative, (kind, mode, uid, gid) in raw_paths.items():
        state.paths[relative] = PathState(kind, mode, uid, gid, shas.get(relative), keyed.get(relative))
    return state
