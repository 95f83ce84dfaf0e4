"""Render every file a host keeps under ``app_dir`` from settings and secrets.

Pure: no host, no pyinfra. ``deploy.py`` and ``python -m postgrest_stack render`` both
call :func:`render`, so a preview shows exactly the bytes a deploy pushes. The JWKS is
not rendered: it is fetched and validated at deploy time.
"""

from __future__ import annotations

import json
import posixpath
import shlex
from pathlib import Path

import jinja2

from . import TEMPLATES, backups, edge, key_proof, layout, migrations, project_path, scram, versions
from . import restore as restoring
from .atomic_write import write_atomic
from .compare import sql_digest
from .digests import digest_key
from .images import compose_references
from .layout import GUARD_SCHEMA, RenderedFile
from .plan import UPGRADE_RUNBOOK
from .settings import Settings

PRE_REQUEST = f"{GUARD_SCHEMA}.check_token"
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
    pgrst = settings.profile
    context = {
        "s": settings,
        # What this PostgREST release needs (postgrest_stack/versions.py).
        "pgrst": pgrst,
        "ready_command": " ".join(shlex.quote(arg) for arg in pgrst.ready_argv),
        "healthcheck_test": json.dumps(["CMD", *pgrst.ready_argv]),
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
        # bin/backup and bin/restore: which names are backups; bin/restore's safety backup's
        # label and the database it restores into before the swap.
        "name_pattern": backups.NAME_PATTERN,
        "safety_label": backups.PRE_RESTORE,
        "tmp_db": restoring.temporary_database(settings.db_name),
        # bin/upgrade-db: the db service's volume, and where a refusal or rollback is explained.
        "volume": layout.data_volume(settings.stack_name),
        "runbook": UPGRADE_RUNBOOK,
        "roles_sql": layout.ROLES_SQL,
    }
    if settings.runs_edge:
        context["edge"] = {
            "origin": edge.public_origin(settings),
            "address": edge.local_address(settings),
            "config": edge.CONFIG_IN_CONTAINER,
            "cert": posixpath.join(edge.CONFIG_IN_CONTAINER, posixpath.relpath(layout.CERT_FILE, edge.EDGE_DIR)),
            "key": posixpath.join(edge.CONFIG_IN_CONTAINER, posixpath.relpath(layout.KEY_FILE, edge.EDGE_DIR)),
            "swagger_path": edge.SWAGGER_PATH,
        }

    def text(template: str) -> bytes:
        return env.get_template(template).render(context).encode()

    file = layout.rendered  # mode, owner and secret flag from the path's row
    files = {
        layout.DIGEST_KEY: file(layout.DIGEST_KEY, digest_key(secrets, settings.stack_name)),
        layout.COMPOSE: file(layout.COMPOSE, text("compose.yaml.j2")),
        layout.ENV: file(layout.ENV, text("env.j2")),
    }
    if settings.runs_db:
        files[layout.SUPERUSER_PASSWORD] = file(layout.SUPERUSER_PASSWORD, secrets["postgres_password"].encode())
    if settings.runs_api:
        conf = text("postgrest.conf.j2")
        # Only keys this release reads, in the syntax it parses; else no host gets it.
        versions.check_config(pgrst, conf.decode())
        files[layout.POSTGREST_CONF] = file(layout.POSTGREST_CONF, conf)
    if settings.applies_sql:
        context["authenticator_verifier"] = scram.verifier(
            secrets["authenticator_password"], stack_name=settings.stack_name, role="authenticator")
        if settings.runs_db:
            context["superuser_verifier"] = scram.verifier(
                secrets["postgres_password"], stack_name=settings.stack_name, role=settings.db_superuser)
        for template in sorted((TEMPLATES / "sql").glob("*.sql.j2")):
            name = f"{layout.SQL_DIR}/{template.name.removesuffix('.j2')}"
            files[name] = file(name, text(f"sql/{template.name}"))
        context["sql_digest"] = sql_digest(files)
        # The operator's migrations, as the controller's folder holds them (bin/migrate
        # applies those its database lacks); refused in one line before any host.
        for migration in migrations.scan(project_path(settings.migrations_dir)):
            name = f"{layout.MIGRATIONS_DIR}/{migration.name}"
            files[name] = file(name, migration.content)
    if settings.runs_edge:
        files[layout.CADDYFILE] = file(layout.CADDYFILE, text("Caddyfile.j2"))
        if settings.tls_mode == "files":
            # Read and checked on the controller (one line naming the setting when refused).
            pair = edge.load_pair(settings)
            files[layout.CERT_FILE] = file(layout.CERT_FILE, pair.certificate)
            files[layout.KEY_FILE] = file(layout.KEY_FILE, pair.key)
    scripts = ["compose", "health-gate"]
    scripts += ["apply-sql", "migrate"] if settings.applies_sql else []
    scripts += ["backup"] if settings.runs_db else []  # bin/backup NAME: a verified backup (templates/bin/backup.j2)
    scripts += ["restore"] if settings.runs_db else []
    scripts += ["upgrade-db"] if settings.runs_db else []
    scripts += ["reload-postgrest", "prove-keys"] if settings.runs_api else []
    scripts += ["reload-edge"] if settings.runs_edge else []
    for name in scripts:
        files[f"bin/{name}"] = file(f"bin/{name}", text(f"bin/{name}.j2"))
    return files


def write_tree(files: dict[str, RenderedFile], out: Path) -> None:
    """Write rendered files under ``out`` with their modes (owners are left to the deploy).

    Directories get their stack modes even when they already exist, and every file is
    created with its final mode before a byte is written (never readable in between).
    """
    needed = {str(Path(name).parent) for name in files} | {"."}
    for relative, (mode, _uid) in layout.DIRECTORIES.items():
        if relative not in needed:
            continue
        (out / relative).mkdir(mode=mode, parents=True, exist_ok=True)
        (out / relative).chmod(mode)
    for relative, rendered in files.items():
        write_atomic(out / relative, rendered.content, mode=rendered.mode)
