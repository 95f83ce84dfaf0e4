"""What a host holds under ``app_dir``: one row per managed path, the one description.

Pure, and importing nothing of the project: render writes by it, the probe reads by it,
plan and status compare by it, and the tasks put files by it. A row says a path's mode,
its owner, whether it is a secret, and what a change to it sets off on the host:

- :data:`RECREATE`: ``compose up -d`` (compose recreates what changed);
- :data:`RELOAD_POSTGREST`: PostgREST re-reads its config (SIGUSR2), no restart;
- :data:`ROTATE_KEYS`: the key rotation steps (write, reload, proof, roll back);
- :data:`RELOAD_EDGE`: ``caddy reload`` in the edge container;
- :data:`APPLY_SQL` / :data:`MIGRATE`: bin/apply-sql or bin/migrate, which run every
  file of their folder (so a file there the rendered set lacks is removed first);
- :data:`NOTHING`: read when used (scripts), or once (the superuser's password, at initdb).

Adding a managed file is one row here (and its content in render.py).
"""

from __future__ import annotations

import fnmatch
import posixpath
import shlex
from dataclasses import dataclass

#: The official PostgREST image runs as this uid; files it reads are owned by it.
POSTGREST_UID = 1000
#: The official postgres image's postgres user.
POSTGRES_UID = 999

RECREATE, RELOAD_POSTGREST, ROTATE_KEYS, RELOAD_EDGE, APPLY_SQL, MIGRATE, NOTHING = (
    "recreate", "reload postgrest", "rotate keys", "reload edge", "apply sql", "migrate", "nothing")

#: Directories under app_dir: relative path -> (mode, owner uid). The edge's (tls_mode
#: other than off) hold its Caddyfile and, for ``files``, the certificate and key;
#: ``state`` holds what the services have loaded (loaded.py), written by the deploy.
DIRECTORIES = {
    ".": (0o700, 0),
    "bin": (0o700, 0),
    "db": (0o700, POSTGRES_UID),
    "postgrest": (0o700, POSTGREST_UID),
    "sql": (0o700, 0),
    "migrations": (0o700, 0),
    "edge": (0o700, 0),
    "edge/tls": (0o700, 0),
}


@dataclass(frozen=True)
class Managed:
    """One row: a path under app_dir (a ``*`` pattern names a folder's files)."""

    path: str
    mode: int
    owner: int = 0
    #: Never shown: not in --diff, output or logs.
    secret: bool = False
    #: Digested by the probe with the host's digest key, never plainly (digests.py): a
    #: plain SHA-256 of a password file is a fast hash of the password.
    keyed: bool = False
    trigger: str = NOTHING


@dataclass(frozen=True)
class RenderedFile:
    """A file's bytes as a host should hold them, with its row's mode, owner and flag."""

    content: bytes
    mode: int
    owner_uid: int = 0
    #: Holds a secret: shown as changed, never shown.
    secret: bool = False


DIGEST_KEY = ".digest-key"
COMPOSE = "compose.yaml"
ENV = ".env"
SUPERUSER_PASSWORD = "db/superuser-password"
POSTGREST_CONF = "postgrest/postgrest.conf"
#: The validated JWKS (mounted at Settings.jwks_container_path); the previous one is kept as .prev.
JWKS_FILE = "postgrest/jwks.json"
ROLES_SQL = "sql/01-roles.sql"
#: The edge's files. Its directory is mounted at /etc/caddy, never the single files: an
#: atomic replace makes a new inode that a single-file bind mount would never show.
CADDYFILE = "edge/Caddyfile"
CERT_FILE = "edge/tls/cert.pem"
KEY_FILE = "edge/tls/key.pem"
#: Folders whose every file their script applies (bin/apply-sql, bin/migrate).
SQL_DIR, MIGRATIONS_DIR = "sql", "migrations"
#: In the database: the schema of the project's guard, whose comment records the digest
#: of the SQL applied (bin/apply-sql writes it, the probe reads it).
GUARD_SCHEMA = "auth_guard"

ROWS = (
    Managed(DIGEST_KEY, 0o600, secret=True),
    Managed(COMPOSE, 0o600, trigger=RECREATE),
    Managed(ENV, 0o600, secret=True, keyed=True, trigger=RECREATE),
    Managed(SUPERUSER_PASSWORD, 0o600, POSTGRES_UID, secret=True, keyed=True),
    Managed(POSTGREST_CONF, 0o600, POSTGREST_UID, trigger=RELOAD_POSTGREST),
    Managed(JWKS_FILE, 0o600, POSTGREST_UID, trigger=ROTATE_KEYS),
    Managed(ROLES_SQL, 0o600, secret=True, keyed=True, trigger=APPLY_SQL),  # the authenticator's password
    Managed(f"{SQL_DIR}/*.sql", 0o600, trigger=APPLY_SQL),
    Managed(f"{MIGRATIONS_DIR}/*.sql", 0o600, trigger=MIGRATE),
    Managed("bin/*", 0o700),
    Managed(CADDYFILE, 0o600, trigger=RELOAD_EDGE),
    Managed(CERT_FILE, 0o600, secret=True, trigger=RELOAD_EDGE),
    Managed(KEY_FILE, 0o600, secret=True, keyed=True, trigger=RELOAD_EDGE),
)


def row(path: str) -> Managed:
    """The row of ``path``: its own, else the first pattern that matches it."""
    for managed in ROWS:
        if managed.path == path:
            return managed
    for managed in ROWS:
        if "*" in managed.path and fnmatch.fnmatchcase(path, managed.path) and "/" not in path[
                len(posixpath.dirname(managed.path)) + 1:]:
            return managed
    raise ValueError(f"{path} is not a path the stack manages under app_dir (postgrest_stack/layout.py)")


def rendered(path: str, content: bytes) -> RenderedFile:
    """``content`` as the host should hold it at ``path``, by its row."""
    managed = row(path)
    return RenderedFile(content, managed.mode, managed.owner, managed.secret)


def triggering(trigger: str) -> tuple[str, ...]:
    """The named paths (not patterns) whose change sets off ``trigger``."""
    return tuple(managed.path for managed in ROWS if managed.trigger == trigger and "*" not in managed.path)


#: Files the probe digests with the key (digests.py), never plainly.
KEYED_FILES = tuple(managed.path for managed in ROWS if managed.keyed)
#: compose.yaml and .env: a change recreates what changed.
RECREATE_ON_CHANGE = triggering(RECREATE)
#: postgrest.conf: a change is a reload (SIGUSR2), no restart.
RELOADED_BY_SIGNAL = triggering(RELOAD_POSTGREST)
#: The edge's Caddyfile, certificate and key: a change is a `caddy reload`.
RELOADED_BY_EDGE = triggering(RELOAD_EDGE)
#: Folders whose every file is applied: a file there the rendered set lacks is removed.
APPLIED_FOLDERS = (f"{SQL_DIR}/", f"{MIGRATIONS_DIR}/")


def data_volume(stack_name: str) -> str:
    """The db service's volume (compose.yaml's ``db-data``): compose names it
    ``<project>_db-data``, and the project is stack_name (.env's COMPOSE_PROJECT_NAME)."""
    return f"{stack_name}_db-data"


def host_script(app_dir: str, name: str, *args: str) -> str:
    """The command that runs the stack's host-side script ``bin/NAME`` (every part quoted)."""
    return " ".join(shlex.quote(part) for part in (posixpath.join(app_dir, "bin", name), *args))
