"""Every setting, declared once (:data:`SETTINGS`), and :class:`Settings`, a host's
validated settings.

:data:`SETTINGS` is the one declaration of every setting: name, type, default, what it
accepts (its checker, :mod:`postgrest_stack.settings.checks`), whether it is required or
secret, and its documentation line. Everything else derives from it or is checked
against it by a unit test.

:class:`Settings` is written out as a plain frozen dataclass, so that type checkers and
editors know its fields. It repeats only each field's name and type (the settings with
``field=True``, in the declaration's order) and no default (resolve() gives every
field); tests/unit/test_settings_declaration.py fails when the class and the
declaration differ.

No ``from __future__ import annotations`` in this module: the field types of Settings
stay the types themselves (``str | None``, not the text "str | None"), as the tests
compare them with the declared ones.
"""

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .. import versions
from .checks import (
    IMAGE_REFERENCE,
    AbsolutePath,
    AptProxy,
    Check,
    Choice,
    Command,
    Email,
    ExternalDbUri,
    Flag,
    HostName,
    HttpsUrl,
    Identifier,
    Image,
    IpAddress,
    KeySource,
    Number,
    PostgrestVersion,
    ProxyUri,
    RoleClaim,
    Secret,
    SecretRef,
    StringOrUri,
    Text,
    matched,
)
from .uri import EXTERNAL_DB

# --- What some settings are one of, or match -----------------------------------------

_STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
#: A folder path: not empty, no leading or trailing white space.
_FOLDER = re.compile(r"^\S(?:.*\S)?$")
#: backup_offsite: a folder on the controller, or an inventory group's hosts.
_OFFSITE = re.compile(r"^(controller:\S(?:.*\S)?|group:[A-Za-z0-9_.-]+)$")
DOCKER_INSTALL_MODES = ("official", "distro", "skip")
IMAGE_SOURCES = ("registry", "controller")
#: stack_role "backup": a host that only keeps offsite backups (backup_offsite = "group:NAME").
STACK_ROLES = ("all", "db", "api", "backup")
#: tls_mode: off (no edge), or how the Caddy edge gets its certificate (postgrest_stack/edge.py).
TLS_MODES = ("off", "acme", "files", "internal")
#: log_max_size: what Docker's json-file driver reads as a size (digits, then k, m or g).
_LOG_SIZE = re.compile(r"^[1-9][0-9]{0,5}[kmg]$")
#: PostgREST's log-level values that every supported release accepts (12.0.2 refuses `debug`).
POSTGREST_LOG_LEVELS = ("crit", "error", "warn", "info")
#: Let's Encrypt's ACME directories (production, the default acme_ca; staging, to try first).
LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
LETS_ENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"


# --- The declaration -------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One setting. ``default`` is its value in group_data/all.py (None: not set; for a
    secret, the masked placeholder)."""

    name: str
    type: Any  # the type of the Settings field (or of the value, for field=False)
    default: Any
    check: Check
    doc: str  # one line: docs/settings.md's table's "what" and the comment in group_data/all.py
    section: str
    required: bool = False
    secret: str | None = None  # the environment variable a secret comes from
    field: bool = True  # a field of Settings; False: read on the controller only
    default_doc: str | None = None  # docs/settings.md's default column when not the literal default
    details: str = ""  # more explanation, in group_data/all.py only

    @property
    def accepts(self) -> str:
        return self.check.accepts


_SECONDS = Number(1, 3600, "a number of seconds")
_PORT = Number(1, 65535, "a port number")

SETTINGS: tuple[Setting, ...] = (
    # --- Stack
    Setting("stack_name", str, "postgrest", Text("lower-case letters, digits, '-' or '_'", _STACK_NAME),
            "Compose project name; also names the containers and the database volume.", "Stack"),
    Setting("app_dir", str, "/opt/postgrest", AbsolutePath(),
            "Where the stack's files live on the host (created 0700, owned by root).", "Stack"),
    Setting("docker_install", str, "official", Choice(*DOCKER_INSTALL_MODES),
            "How Docker gets onto the host: `official` (Docker's apt repository), `distro` (the "
            "distribution's `docker.io` + compose) or `skip` (Docker must already run).", "Stack"),
    Setting("health_timeout", int, 120, _SECONDS,
            "Seconds the health gate (and a reload) waits for the database and PostgREST's `/ready`.", "Stack",
            details="Past it the host fails with the reason and the last logs."),
    Setting("apt_proxy", str | None, None, AptProxy(),
            "An apt proxy or mirror the Docker install goes through, e.g. `http://apt-cache.internal:3142`.",
            "Stack", default_doc="none",
            details="Written to /etc/apt/apt.conf.d/80postgrest-stack-proxy. None: direct."),
    Setting("lock_wait", int, 0, Number(0, 3600, "a number of seconds"),
            "Seconds a deploy.py or rotate_keys.py run waits for a host locked by another run; 0: it stops "
            "at once, naming the run that holds the lock.", "Stack",
            details="The lock is a flock beside app_dir held by a process that ends with the holding run's "
                    "SSH connection: a killed run frees it at once (tasks/runlock.py)."),
    # --- Logs
    Setting("log_max_size", str, "10m", Text("a size: digits then k, m or g, e.g. '10m'", _LOG_SIZE),
            "Largest size of one container log file before Docker rotates it (compose's json-file "
            "`max-size`).", "Logs",
            details="Each service keeps at most log_max_files such files: with the defaults, 50 MB per "
                    "container. Changing either recreates the containers once."),
    Setting("log_max_files", int, 5, Number(1, 100, "a number of files"),
            "How many rotated log files Docker keeps per container (compose's json-file `max-file`).", "Logs"),
    Setting("postgrest_log_level", str, "error", Choice(*POSTGREST_LOG_LEVELS),
            "PostgREST's `log-level`: `crit`, `error` (server errors), `warn` (also 4xx answers, such as a "
            "token refused with 401) or `info` (every request).", "Logs",
            details="Also PGRST_LOG_LEVEL in compose.yaml: a reload does not apply a new level, so a change "
                    "recreates the PostgREST container. `debug` is not offered: PostgREST 12.0.2 refuses it."),
    # --- Key rotation
    Setting("jwks_fetch_timeout", int, 30, _SECONDS,
            "Seconds after which fetching the JWKS gives up (retries included).", "Key rotation"),
    Setting("smoke_token_command", str | None, None, Command(),
            "Controller command printing a fresh token; each host must answer it 200 after a key reload.",
            "Key rotation", default_doc="none",
            details="For Auth0, e.g. a client-credentials grant. A host whose answer is not 200 "
                    "rolls back to its previous keys."),
    Setting("alert_command", str | None, None, Command(),
            "Controller command run once when a deploy.py or rotate_keys.py run fails, with the one-line "
            "reason on its stdin (docs/operations.md: Alerts).", "Key rotation", field=False, default_doc="none",
            details="E.g. ops/alert_webhook.py posting to a chat or pager webhook. It runs on the controller "
                    "with the run's environment, for an invalid JWKS, a rollback, an unreachable host or any "
                    "other failure; never on success or no change."),
    # --- Auth0 / JWT
    Setting("auth0_domain", str, None, HostName("a host name such as 'tenant.eu.auth0.com'", ip=False),
            "The Auth0 tenant's domain, e.g. `my-tenant.eu.auth0.com`.", "Auth0 / JWT", required=True),
    Setting("jwks_url", str, None, KeySource(),
            "Where the deploy fetches the signing keys (a path or `file://` URL also works).", "Auth0 / JWT",
            default_doc="`https://<auth0_domain>/.well-known/jwks.json`",
            details="The local inventory serves its development key from a file."),
    Setting("jwt_audience", str, None, StringOrUri(),
            "The `aud` PostgREST requires: the API identifier (access tokens) or the client id (ID tokens).",
            "Auth0 / JWT", required=True),
    Setting("jwt_issuer", str, None, StringOrUri(),
            "The only `iss` accepted (checked in the database, since PostgREST 12 does not).", "Auth0 / JWT",
            default_doc="`https://<auth0_domain>/`"),
    Setting("jwt_role_claim", str, "https://postgrest-demo.de/role", RoleClaim(),
            "The claim naming the database role; namespaced, as the Auth0 Action sets it.", "Auth0 / JWT"),
    # --- Images
    Setting("postgrest_image", str, "postgrest/postgrest:v12.0.2", Image(),
            "PostgREST's image, pinned; the default stays on v12.0.2, the one release the tests run "
            "(docs/runbooks.md: Upgrading PostgREST).", "Images",
            details='Each image a pinned tag ("name:tag") or digest ("name@sha256:<64 hex>"); the name may '
                    'start with a registry and port ("localhost:5000/pg:15"). The PostgREST tag also decides '
                    'the configuration rendered for it (postgrest_stack/versions.py).'),
    Setting("postgrest_version", str, None, PostgrestVersion(),
            "PostgREST's version, for a `postgrest_image` pinned by digest (or by a tag naming no version); "
            "else read from the tag.", "Images",
            default_doc="from `postgrest_image`'s tag (`12.0.2`)",
            details="Decides what postgrest.conf, compose's healthcheck and the health gate look like. "
                    "Given with a tag that names a version, the two must agree."),
    Setting("postgres_image", str, "postgres:15.14-bookworm", Image(), "PostgreSQL's image, pinned.", "Images"),
    Setting("swagger_image", str, "swaggerapi/swagger-ui:v5.17.14", Image(), "Swagger UI's image, pinned.",
            "Images"),
    Setting("caddy_image", str, "caddy:2.6.2", Image(),
            "The TLS edge's image (Caddy), pinned; used when tls_mode is not `off`.", "Images"),
    Setting("image_source", str, "registry", Choice(*IMAGE_SOURCES),
            "Where hosts get the images: `registry` (compose pulls on the host) or `controller` (exported "
            "from the controller's Docker engine and loaded on the host).", "Images",
            details="controller: for hosts without registry access; each image is exported once per run "
                    "into build/image-cache/ and loaded only where the host's copy differs. A digest pin is "
                    'tagged "<name>:sha256-<hex>" on the host, since `docker load` drops repository digests.'),
    # --- Network
    Setting("postgrest_bind", str, "127.0.0.1", IpAddress(),
            "The address PostgREST is published on (loopback: put a TLS proxy in front, such as tls_mode's "
            "edge).", "Network",
            details="With tls_mode other than off it must be a loopback address: the edge is the only public "
                    "entry, and the health gate reaches PostgREST there."),
    Setting("postgrest_port", int, 3000, _PORT, "The port PostgREST is published on.", "Network"),
    Setting("postgrest_admin_port", int, 3001, _PORT,
            "PostgREST's admin port (`/live`, `/ready`), published on loopback only.", "Network"),
    Setting("db_bind", str, "127.0.0.1", IpAddress(),
            "The address the database is published on (never all interfaces by default).", "Network"),
    Setting("db_port", int, 5432, _PORT,
            "The port the database is published on (db hosts), or reached at on db_host (api hosts).", "Network"),
    Setting("swagger_enabled", bool, False, Flag(), "Deploy Swagger UI (it points at public_api_url).", "Network"),
    Setting("swagger_bind", str, "127.0.0.1", IpAddress(), "The address Swagger UI is published on.", "Network",
            details="Not published with tls_mode other than off: the edge serves Swagger UI under /docs/."),
    Setting("swagger_port", int, 8080, _PORT, "The port Swagger UI is published on.", "Network"),
    Setting("public_api_url", str, None, ProxyUri(),
            "The API's URL as clients see it (OpenAPI, Swagger UI).", "Network",
            default_doc="`http://<postgrest_bind>:<postgrest_port>`; with tls_mode: `https://<public_hostname>` "
                        "(`:<edge_https_port>` unless 443)"),
    # --- TLS edge
    Setting("tls_mode", str, "off", Choice(*TLS_MODES),
            "HTTPS in front of PostgREST, by a Caddy edge: `off` (none), `acme` (certificates from an ACME CA "
            "such as Let's Encrypt), `files` (tls_cert_file and tls_key_file) or `internal` (Caddy's own CA).",
            "TLS edge",
            details="docs/runbooks.md: HTTPS. With any mode but off, the edge publishes edge_http_port (a redirect) and "
                    "edge_https_port on edge_bind, PostgREST stays on loopback, and Swagger UI (if enabled) is "
                    "served by the edge under /docs/. `internal`: for tests and private networks; clients must "
                    "trust the root in the edge's /data volume."),
    Setting("public_hostname", str | None, None, HostName("a DNS name such as 'api.example.com'", ip=False),
            "The API's DNS name: the edge's site and certificate name (tls_mode other than `off`).", "TLS edge",
            default_doc="none (required with tls_mode)"),
    Setting("acme_email", str | None, None, Email(),
            "The ACME account's contact address (tls_mode `acme`): the CA's expiry and problem notices.",
            "TLS edge", default_doc="none (required for `acme`)"),
    Setting("acme_ca", str, LETS_ENCRYPT, HttpsUrl(),
            "The ACME CA's directory URL (tls_mode `acme`): Let's Encrypt; try its staging CA first "
            f"(`{LETS_ENCRYPT_STAGING}`).", "TLS edge",
            details="Certificates and the ACME account are kept in the edge's /data volume across redeploys."),
    Setting("tls_cert_file", str | None, None, Text("a path on the controller (relative paths are from the project "
                                                    "root)"),
            "The certificate for tls_mode `files`: PEM, the server's first, then its chain.", "TLS edge",
            default_doc="none (required for `files`)",
            details="Checked before any host is touched: it must name public_hostname, match tls_key_file and "
                    "stay valid for 14 more days. A new one is pushed atomically and loaded by `caddy reload`."),
    Setting("tls_key_file", str | None, None, Text("a path on the controller (relative paths are from the project "
                                                   "root)"),
            "tls_cert_file's private key (unencrypted PEM), for tls_mode `files`.", "TLS edge",
            default_doc="none (required for `files`)",
            details="Keep it 0600 on the controller; on hosts it is 0600 root, digested with a key by the probe "
                    "and never shown by --diff."),
    Setting("edge_bind", str, "0.0.0.0", IpAddress(),
            "The address the edge publishes its HTTP and HTTPS ports on (tls_mode other than `off`).", "TLS edge"),
    Setting("edge_http_port", int, 80, _PORT,
            "The edge's plain HTTP port: a redirect to HTTPS (and ACME's HTTP challenge).", "TLS edge"),
    Setting("edge_https_port", int, 443, _PORT, "The edge's HTTPS port.", "TLS edge"),
    Setting("edge_max_body_mb", int, 10, Number(1, 1024, "a number of megabytes"),
            "The largest request body the edge passes on, in MB of 10^6 bytes (a larger declared one: 413).",
            "TLS edge",
            details="A body sent in chunks without a length is cut at the limit (Caddy 2.6.2 then answers 502)."),
    # --- Topology
    Setting("stack_role", str, "all", Choice(*STACK_ROLES),
            "What a host runs: `all` (database and API), `db` (only the database), `api` (only PostgREST "
            "and Swagger UI) or `backup` (nothing: it keeps offsite backups, backup_offsite `group:NAME`).",
            "Topology", default_doc="`all` (`db`/`api`/`backup` from groups)",
            details="group_data/db.py, group_data/api.py and group_data/backup.py set it for hosts in groups db, "
                    "api and backup. A backup host needs only its connection (and backup_dir): deploy.py and "
                    "rotate_keys.py leave it out, status only names it."),
    Setting("db_host", str | None, None, HostName("a host name or IP address", ip=True),
            "The db host's private address, as api hosts reach it (its db_bind).", "Topology",
            default_doc="none (required for `api` hosts)"),
    Setting("external_db_uri", str | None, None, ExternalDbUri(),
            "A managed database instead of the db service: `postgres://HOST[:PORT]/DBNAME[?sslmode=require]`.",
            "Topology", default_doc="none",
            details="No user or password in it. No db service is deployed; the SQL is applied to it once per "
                    "run from an api host, as db_superuser with STACK_POSTGRES_PASSWORD."),
    # --- Database
    Setting("db_name", str, "app", Identifier("database"), "The database.", "Database"),
    Setting("db_superuser", str, "postgres", Identifier("role"), "The database superuser.", "Database"),
    Setting("db_schema", str, "api", Identifier("schema"), "The schema PostgREST exposes.", "Database"),
    Setting("db_anon_role", str, "api_anon", Identifier("role"), "The role of requests without a token.",
            "Database"),
    Setting("db_user_role", str, "api_user", Identifier("role"),
            "The role of verified users (the role claim's usual value).", "Database"),
    Setting("db_owner_role", str, "api_owner", Identifier("role"),
            "The NOLOGIN role that owns what migrations create (neither the superuser nor one of PostgREST's "
            "roles).", "Database",
            details="What a migration creates belongs to it; a migration grants to db_anon_role and "
                    "db_user_role what they may use (docs/api.md). It must differ from db_superuser, "
                    "db_anon_role, db_user_role and 'authenticator'."),
    Setting("migrations_dir", str, "migrations", Text("a folder path (relative paths are from the project root)",
                                                      _FOLDER),
            "The operator's migrations: files `NNNN_slug.sql`, applied once each, in numeric order.", "Database",
            details="On the controller; an absolute path is allowed. Each applied file is recorded in the "
                    "database's ledger with its SHA-256: an applied file must never change."),
    # --- Backups
    Setting("backup_dir", str | None, None, AbsolutePath(),
            "Where the db host keeps its verified backups (created 0700, owned by root).", "Backups",
            default_doc="`/var/backups/<stack_name>`",
            details="None: /var/backups/<stack_name>. Each backup is a folder named by its UTC time "
                    "(YYYYMMDDTHHMMSSZ) with a SHA-256 manifest (docs/backups.md)."),
    Setting("backup_offsite", str | None, None, Text("`controller:PATH` or `group:NAME`", _OFFSITE),
            "Where backup.py copies each verified backup off the db host: `controller:PATH` (a folder on the "
            "controller) or `group:NAME` (the backup_dir of each host of that inventory group).", "Backups",
            default_doc="none",
            details="group:NAME copies through the controller: the hosts need no keys to each other. A "
                    "relative controller PATH is from the project root."),
    Setting("backup_keep", int, 14, Number(1, 1000, "a number of backups"),
            "How many verified backups are kept at each place (the db host and each offsite one).", "Backups"),
    Setting("backup_schedule", str, "daily", Text("a systemd calendar expression such as 'daily' or "
                                                  "'*-*-* 03:00'", _FOLDER),
            "When the scheduled backup runs (systemd's OnCalendar, in ops/systemd/postgrest-backup.timer).",
            "Backups"),
    Setting("backup_max_age_hours", int, 26, Number(1, 8760, "a number of hours"),
            "`status` reports drift (exit 1) when a db host's newest verified backup is older than this.",
            "Backups"),
    Setting("backup_before_migrations", bool, True, Flag(),
            "When migrations are pending, deploy.py takes and verifies a backup before applying them.", "Backups"),
    Setting("postgres_upgrade", str | None, None, Choice("dump-restore"),
            "How deploy.py may move an existing database to postgres_image's other major version: "
            "`dump-restore`; none: such a change is refused.", "Backups", default_doc="none",
            details="A verified backup, the new server on a new volume, the restore, verification, then the "
                    "switch; the old volume is kept for a rollback (docs/backups.md)."),
    # --- Secrets
    Setting("postgres_password", str, SecretRef("STACK_POSTGRES_PASSWORD"), Secret("STACK_POSTGRES_PASSWORD"),
            "The database superuser's password.", "Secrets", secret="STACK_POSTGRES_PASSWORD", field=False,
            details="Placeholders only (printed masked by `pyinfra INVENTORY debug-inventory`): the values "
                    "come from the environment or secrets_file, never from host data or --data."),
    Setting("authenticator_password", str, SecretRef("STACK_AUTHENTICATOR_PASSWORD"),
            Secret("STACK_AUTHENTICATOR_PASSWORD"),
            "The password PostgREST logs in with (role `authenticator`).", "Secrets",
            secret="STACK_AUTHENTICATOR_PASSWORD", field=False),
    Setting("secrets_file", str | None, None, Text("a path (relative paths are from the project root)"),
            "Uncommitted dotenv file of secrets (mode 0600), read for those not in the environment.", "Secrets",
            field=False, default_doc="none (`secrets/<env>.env` in staging/prod)",
            details="python-dotenv's format (`KEY=value`, `export`, quotes, comments); see secrets.env.example. "
                    "Not read when secrets_command is set (both with the file present is refused)."),
    Setting("secrets_command", str | None, None, Command(),
            "Controller command printing the secrets in secrets_file's format (`sops -d ...`, `op inject ...`), "
            "for those not in the environment.", "Secrets", field=False, default_doc="none",
            details="Run once per run in the project root when the environment lacks a secret; its output is "
                    "read into memory, never written. A failure, a timeout (60 s) or no output stops the run "
                    "without showing its output. Examples per manager: docs/settings.md, Secrets."),
    Setting("generate_secrets", bool, False, Flag(), "Generate missing secrets into secrets_file.", "Secrets",
            field=False, default_doc="`false` (`true` for local)"),
    Setting("dev_signing_key", str | None, None, Text("a path (relative paths are from the project root)"),
            "Development RSA key standing in for Auth0 (local inventory only).", "Secrets", field=False,
            default_doc="none (local only)"),
)

SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
#: setting name -> environment variable, for the secrets (postgrest_stack/secrets.py)
SECRET_VARIABLES: dict[str, str] = {s.name: s.secret for s in SETTINGS if s.secret}


@dataclass(frozen=True)
class DatabaseAddress:
    """Where PostgREST (and, for an external database, the SQL) reaches PostgreSQL."""

    host: str
    port: int
    query: str = ""  # e.g. ?sslmode=require for a managed database


@dataclass(frozen=True, kw_only=True)
class Settings:
    """A host's validated settings, built by resolve() (see SETTINGS): one field per
    declared setting with ``field=True``, then what they imply (the topology, the
    PostgREST release's profile)."""

    # --- Stack
    stack_name: str
    app_dir: str
    docker_install: str
    health_timeout: int
    apt_proxy: str | None
    lock_wait: int

    # --- Logs
    log_max_size: str
    log_max_files: int
    postgrest_log_level: str

    # --- Key rotation
    jwks_fetch_timeout: int
    smoke_token_command: str | None
    # --- Auth0 / JWT
    auth0_domain: str
    jwks_url: str
    jwt_audience: str
    jwt_issuer: str
    jwt_role_claim: str
    # --- Images
    postgrest_image: str
    postgrest_version: str
    postgres_image: str
    swagger_image: str
    caddy_image: str
    image_source: str
    # --- Network
    postgrest_bind: str
    postgrest_port: int
    postgrest_admin_port: int
    db_bind: str
    db_port: int
    swagger_enabled: bool
    swagger_bind: str
    swagger_port: int
    public_api_url: str
    # --- TLS edge
    tls_mode: str
    public_hostname: str | None
    acme_email: str | None
    acme_ca: str
    tls_cert_file: str | None
    tls_key_file: str | None
    edge_bind: str
    edge_http_port: int
    edge_https_port: int
    edge_max_body_mb: int
    # --- Topology
    stack_role: str
    db_host: str | None
    external_db_uri: str | None
    # --- Database
    db_name: str
    db_superuser: str
    db_schema: str
    db_anon_role: str
    db_user_role: str
    db_owner_role: str
    migrations_dir: str
    # --- Backups
    backup_dir: str | None
    backup_offsite: str | None
    backup_keep: int
    backup_schedule: str
    backup_max_age_hours: int
    backup_before_migrations: bool
    postgres_upgrade: str | None

    # --- Derived facts of a host's settings

    @property
    def runs_db(self) -> bool:
        """This host runs the database container."""
        return self.stack_role in ("all", "db") and not self.external_db_uri

    @property
    def runs_api(self) -> bool:
        """This host runs PostgREST (and Swagger UI where enabled)."""
        return self.stack_role in ("all", "api")

    @property
    def runs_edge(self) -> bool:
        """This host runs the TLS edge (Caddy) in front of PostgREST."""
        return self.tls_mode != "off" and self.runs_api

    @property
    def applies_sql(self) -> bool:
        """The SQL is applied from this host: where the database runs, or, for an
        external database, from an api host (once per run)."""
        return self.runs_db or (self.runs_api and bool(self.external_db_uri))

    @property
    def database(self) -> DatabaseAddress:
        if self.external_db_uri:
            match = matched(EXTERNAL_DB, self.external_db_uri)
            return DatabaseAddress(match["host"].strip("[]"), int(match["port"] or 5432), match["query"] or "")
        if self.runs_db:
            return DatabaseAddress("db", 5432)  # the compose service, on the stack's network
        return DatabaseAddress(self.db_host or "", self.db_port)

    @property
    def postgres_major(self) -> int | None:
        """The PostgreSQL major version postgres_image's tag names (the official postgres
        and postgis images' tags, ``15.14-bookworm``), None for any other image."""
        image = matched(IMAGE_REFERENCE, self.postgres_image)
        if image["name"].rsplit("/", 1)[-1] not in ("postgres", "postgis"):
            return None
        release = versions.postgres_release(image["tag"])
        return release[0] if release else None

    @property
    def backups_path(self) -> str:
        """backup_dir, or its default beside the stack's name."""
        return self.backup_dir or f"/var/backups/{self.stack_name}"

    @property
    def jwks_container_path(self) -> str:
        return "/etc/postgrest/jwks.json"

    @cached_property
    def profile(self) -> versions.Profile:
        """What this host's PostgREST release asks of postgrest.conf, compose's
        healthcheck, the health gate and the other settings (postgrest_stack/versions.py):
        derived once per Settings (resolve()'s checks ask for it first), so that render
        and the probe read it here rather than each from postgrest_version."""
        return versions.profile(self.postgrest_version)


#: The names of Settings' fields, in the declaration's order.
FIELD_NAMES = tuple(s.name for s in SETTINGS if s.field)
