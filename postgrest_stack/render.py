"""Render every file a host keeps under ``app_dir`` from settings and secrets.

Pure: no host, no pyinfra. ``deploy.py`` and ``python -m postgrest_stack render`` both
call :func:`render`, so a preview shows exactly the bytes a deploy pushes. The JWKS is
not rendered: it is fetched and validated at deploy time.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import shlex
from dataclasses import dataclass
from pathlib import Path

import jinja2

from . import PROJECT_ROOT, edge, key_proof, migrations, project_path, scram, versions
from .atomic_write import write_atomic
from .digests import KEY_FILE, digest_key
from .images import compose_references
from .settings import Settings

TEMPLATES = PROJECT_ROOT / "templates"
GUARD_SCHEMA = "auth_guard"
PRE_REQUEST = f"{GUARD_SCHEMA}.check_token"
#: The official PostgREST image runs as this uid; files it reads are owned by it.
POSTGREST_UID = 1000
#: The official postgres image's postgres user.
POSTGRES_UID = 999


@dataclass(frozen=True)
class RenderedFile:
    content: bytes
    mode: int
    owner_uid: int = 0
    #: Holds a secret: shown as changed, never shown.
    secret: bool = False


#: Directories under app_dir: relative path -> (mode, owner uid).
DIRECTORIES = {
    ".": (0o700, 0),
    "bin": (0o700, 0),
    "db": (0o700, POSTGRES_UID),
    "postgrest": (0o700, POSTGREST_UID),
    "sql": (0o700, 0),
    # The operator's migrations (postgrest_stack/migrations.py), where the SQL is applied.
    "migrations": (0o700, 0),
    # The TLS edge (tls_mode other than off): the Caddyfile, and the certificate for `files`.
    edge.EDGE_DIR: (0o700, 0),
    "edge/tls": (0o700, 0),
}

#: Files that hold secrets (the probe digests them with a key, --diff never shows them).
SECRET_FILES = (".env", "db/superuser-password", "sql/01-roles.sql", edge.KEY_FILE)

#: Where the validated JWKS lives under app_dir (mounted at Settings.jwks_container_path).
JWKS_FILE = "postgrest/jwks.json"


def conf_string(value: str) -> str:
    """Quote ``value`` for PostgREST's config file syntax.

    PostgREST interpolates ``$(VAR)`` from its environment in config values and reads
    ``$$`` as a literal ``$`` (checked on 12.0.2 with ``--dump-config``): unescaped, a
    ``$(PGPASSWORD)`` in a setting would put the authenticator's password in the
    OpenAPI output, and a lone ``$`` stops PostgREST at start.
    """
    if any(c in value for c in "\n\r\0"):
        raise ValueError(f"config value must be a single line: {value!r}")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$")
    return f'"{escaped}"'


def compose_string(value: str) -> str:
    """A double-quoted YAML scalar for compose.yaml, with ``$`` doubled so compose
    never interpolates it (``${AUTHENTICATOR_PASSWORD}`` stays text)."""
    return json.dumps(value.replace("$", "$$"))


def dollar_quote_tag(*values: str) -> str:
    """A PostgreSQL dollar-quote tag that occurs in none of ``values`` (a ``$$`` inside a
    setting would otherwise end a function body early)."""
    tag, n = "$guard$", 0
    while any(tag in value for value in values):
        n += 1
        tag = f"$guard{n}$"
    return tag


def sql_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def db_uri(settings: Settings) -> str:
    """The authenticator's connection URI, without password (libpq takes PGPASSWORD)."""
    database = settings.database
    host = f"[{database.host}]" if ":" in database.host else database.host
    return f"postgres://authenticator@{host}:{database.port}/{settings.db_name}{database.query}"


def external_conninfo(settings: Settings) -> str:
    """libpq connection string of the superuser to an external database (no password)."""
    if not settings.external_db_uri:
        return ""
    database = settings.database
    options = " ".join(f"{k}={v}" for k, v in (p.split("=", 1) for p in database.query.lstrip("?").split("&") if "=" in p))
    return f"host={database.host} port={database.port} dbname={settings.db_name} user={settings.db_superuser} {options}".strip()


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["conf"] = conf_string
    env.filters["compose"] = compose_string
    env.filters["literal"] = sql_literal
    env.filters["shell"] = shlex.quote
    return env


def sql_digest(files: dict[str, RenderedFile]) -> str:
    """Digest of the SQL files, recorded in the database once they are applied.

    Keyed with the digest key (digests.py): the roles SQL holds passwords, and the
    recorded digest is printed by the probe.
    """
    digest = hashlib.sha256(files[KEY_FILE].content if KEY_FILE in files else b"")
    for name in sorted(n for n in files if n.startswith("sql/")):
        digest.update(name.encode() + b"\0" + files[name].content + b"\0")
    return digest.hexdigest()


def host_script(app_dir: str, name: str, *args: str) -> str:
    """The command that runs the stack's host-side script ``bin/NAME`` (every part quoted)."""
    return " ".join(shlex.quote(part) for part in (posixpath.join(app_dir, "bin", name), *args))


def smoke_url(settings: Settings) -> str:
    """PostgREST's published address as seen from the host itself."""
    bind = settings.postgrest_bind
    if bind in ("0.0.0.0", "::"):
        bind = "127.0.0.1"
    host = f"[{bind}]" if ":" in bind else bind
    return f"http://{host}:{settings.postgrest_port}"


def render(settings: Settings, secrets: dict[str, str]) -> dict[str, RenderedFile]:
    """Return ``{path relative to app_dir: RenderedFile}`` for one host."""
    env = _environment()
    pgrst = versions.profile(settings.postgrest_version)
    context = {
        "s": settings,
        # What this PostgREST release needs (postgrest_stack/versions.py).
        "pgrst": pgrst,
        "ready_command": " ".join(shlex.quote(arg) for arg in pgrst.ready_argv),
        "healthcheck_test": json.dumps(["CMD", *pgrst.ready_argv]),
        "ready_what": "not ready (postgrest --ready)" if pgrst.ready_check == "container" else "/ready not 200",
        "secrets": secrets,
        "db_uri": db_uri(settings),
        "role_claim_path": versions.role_claim_path(settings.jwt_role_claim, pgrst.role_claim_syntax),
        "guard_schema": GUARD_SCHEMA,
        "pre_request": PRE_REQUEST,
        "api_url": smoke_url(settings),
        "wait_seconds": settings.health_timeout,
        "external_conninfo": external_conninfo(settings),
        "images": compose_references(settings),
        "rounds": key_proof.ROUNDS,
        "proof_path": key_proof.PROOF_PATH,
        "guard_body_tag": dollar_quote_tag(settings.jwt_issuer),
        # The operator's migrations (bin/migrate): the ledger, never exposed by PostgREST,
        # and the advisory lock key one run holds from its first check to its last row.
        "ledger_schema": migrations.LEDGER_SCHEMA,
        "ledger_table": migrations.LEDGER_TABLE,
        "migrate_lock": migrations.MIGRATE_LOCK,
        "no_transaction_marker": migrations.NO_TRANSACTION.decode(),
        "adopted_name": migrations.ADOPTED,
        "adopted_table": f"{settings.db_schema}.{migrations.ADOPTED_TABLE}",
    }
    if settings.runs_edge:
        context["edge"] = {
            "origin": edge.public_origin(settings),
            "address": edge.local_address(settings),
            "config": edge.CONFIG_IN_CONTAINER,
            "cert": posixpath.join(edge.CONFIG_IN_CONTAINER, posixpath.relpath(edge.CERT_FILE, edge.EDGE_DIR)),
            "key": posixpath.join(edge.CONFIG_IN_CONTAINER, posixpath.relpath(edge.KEY_FILE, edge.EDGE_DIR)),
            "swagger_path": edge.SWAGGER_PATH,
        }

    def text(template: str) -> bytes:
        return env.get_template(template).render(context).encode()

    files = {
        KEY_FILE: RenderedFile(digest_key(secrets, settings.stack_name), 0o600, secret=True),
        "compose.yaml": RenderedFile(text("compose.yaml.j2"), 0o600),
        ".env": RenderedFile(text("env.j2"), 0o600, secret=True),
    }
    if settings.runs_db:
        files["db/superuser-password"] = RenderedFile(
            secrets["postgres_password"].encode(), 0o600, owner_uid=POSTGRES_UID, secret=True)
    if settings.runs_api:
        conf = text("postgrest.conf.j2")
        # Only keys this release reads, in the syntax it parses; else no host gets it.
        versions.check_config(pgrst, conf.decode())
        files["postgrest/postgrest.conf"] = RenderedFile(conf, 0o600, owner_uid=POSTGREST_UID)
    if settings.applies_sql:
        context["authenticator_verifier"] = scram.verifier(
            secrets["authenticator_password"], stack_name=settings.stack_name, role="authenticator")
        if settings.runs_db:
            context["superuser_verifier"] = scram.verifier(
                secrets["postgres_password"], stack_name=settings.stack_name, role=settings.db_superuser)
        for template in sorted((TEMPLATES / "sql").glob("*.sql.j2")):
            name = template.name.removesuffix(".j2")
            # 01-roles.sql carries the authenticator's password.
            files[f"sql/{name}"] = RenderedFile(
                text(f"sql/{template.name}"), 0o600, secret=f"sql/{name}" in SECRET_FILES
            )
        context["sql_digest"] = sql_digest(files)
        # The operator's migrations, as the controller's folder holds them (bin/migrate
        # applies those its database lacks); refused in one line before any host.
        for migration in migrations.scan(project_path(settings.migrations_dir)):
            files[f"{migrations.HOST_DIR}/{migration.name}"] = RenderedFile(migration.content, 0o600)
    if settings.runs_edge:
        files[edge.CADDYFILE] = RenderedFile(text("Caddyfile.j2"), 0o600)
        if settings.tls_mode == "files":
            # Read and checked on the controller (one line naming the setting when refused).
            pair = edge.load_pair(settings)
            files[edge.CERT_FILE] = RenderedFile(pair.certificate, 0o600, secret=True)
            files[edge.KEY_FILE] = RenderedFile(pair.key, 0o600, secret=True)
    scripts = ["compose", "health-gate"]
    scripts += ["apply-sql", "migrate"] if settings.applies_sql else []
    scripts += ["reload-postgrest", "prove-keys"] if settings.runs_api else []
    scripts += ["reload-edge"] if settings.runs_edge else []
    for name in scripts:
        files[f"bin/{name}"] = RenderedFile(text(f"bin/{name}.j2"), 0o700)
    return files


def write_tree(files: dict[str, RenderedFile], out: Path) -> None:
    """Write rendered files under ``out`` with their modes (owners are left to the deploy).

    Directories get their stack modes even when they already exist, and every file is
    created with its final mode before a byte is written (never readable in between).
    """
    needed = {str(Path(name).parent) for name in files} | {"."}
    for relative, (mode, _uid) in DIRECTORIES.items():
        if relative not in needed:
            continue
        (out / relative).mkdir(mode=mode, parents=True, exist_ok=True)
        (out / relative).chmod(mode)
    for relative, rendered in files.items():
        write_atomic(out / relative, rendered.content, mode=rendered.mode)
