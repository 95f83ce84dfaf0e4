"""Defaults for every host: the operator's documented home of every setting.

Generated from the one declaration of the settings (SETTINGS in
postgrest_stack/settings/declared.py) by `python -m postgrest_stack settings-doc
--write`: change the declaration, then regenerate; a unit test fails when this file
differs from it.

Override per environment in group_data/<env>.py, per host in the inventory, or per run
with ``pyinfra ... --data key=value``. A key that is neither a setting nor pyinfra's own
(ssh_*, _sudo, ...) is refused. Secret values never live here: see
docs/settings.md ("Secrets") and postgrest_stack/secrets.py.
"""

from postgrest_stack.secrets import SecretRef

# --- Stack ----------------------------------------------------------------------------
# Compose project name; also names the containers and the database volume.
# Accepts lower-case letters, digits, '-' or '_'.
stack_name = "postgrest"
# Where the stack's files live on the host (created 0700, owned by root).
# Accepts an absolute path of its own (normalised; not /tmp, /etc, /opt or another
# system or shared directory).
app_dir = "/opt/postgrest"
# How Docker gets onto the host: `official` (Docker's apt repository), `distro` (the
# distribution's `docker.io` + compose) or `skip` (Docker must already run).
# Accepts one of official, distro, skip.
docker_install = "official"
# Seconds the health gate (and a reload) waits for the database and PostgREST's
# `/ready`. Past it the host fails with the reason and the last logs.
# Accepts a number of seconds from 1 to 3600.
health_timeout = 120
# An apt proxy or mirror the Docker install goes through, e.g.
# `http://apt-cache.internal:3142`. Written to
# /etc/apt/apt.conf.d/80postgrest-stack-proxy. None: direct.
# Accepts an http(s)://HOST[:PORT] URL.
apt_proxy = None
# Seconds a deploy.py or rotate_keys.py run waits for a host locked by another run; 0:
# it stops at once, naming the run that holds the lock. The lock is a flock beside
# app_dir held by a process that ends with the holding run's SSH connection: a killed
# run frees it at once (tasks/runlock.py).
# Accepts a number of seconds from 0 to 3600.
lock_wait = 0

# --- Logs -----------------------------------------------------------------------------
# Largest size of one container log file before Docker rotates it (compose's json-file
# `max-size`). Each service keeps at most log_max_files such files: with the defaults,
# 50 MB per container. Changing either recreates the containers once.
# Accepts a size: digits then k, m or g, e.g. '10m'.
log_max_size = "10m"
# How many rotated log files Docker keeps per container (compose's json-file
# `max-file`).
# Accepts a number of files from 1 to 100.
log_max_files = 5
# PostgREST's `log-level`: `crit`, `error` (server errors), `warn` (also 4xx answers,
# such as a token refused with 401) or `info` (every request). Also PGRST_LOG_LEVEL in
# compose.yaml: a reload does not apply a new level, so a change recreates the
# PostgREST container. `debug` is not offered: PostgREST 12.0.2 refuses it.
# Accepts one of crit, error, warn, info.
postgrest_log_level = "error"

# --- Key rotation ---------------------------------------------------------------------
# Seconds after which fetching the JWKS gives up (retries included).
# Accepts a number of seconds from 1 to 3600.
jwks_fetch_timeout = 30
# Controller command printing a fresh token; each host must answer it 200 after a key
# reload. For Auth0, e.g. a client-credentials grant. A host whose answer is not 200
# rolls back to its previous keys.
# Accepts a shell command run on the controller.
smoke_token_command = None
# Controller command run once when a deploy.py or rotate_keys.py run fails, with the
# one-line reason on its stdin (docs/operations.md: Alerts). E.g. ops/alert_webhook.py
# posting to a chat or pager webhook. It runs on the controller with the run's
# environment, for an invalid JWKS, a rollback, an unreachable host or any other
# failure; never on success or no change.
# Accepts a shell command run on the controller.
alert_command = None

# --- Auth0 / JWT ----------------------------------------------------------------------
# The Auth0 tenant's domain, e.g. `my-tenant.eu.auth0.com`.
# Accepts a host name such as 'tenant.eu.auth0.com'. Required.
auth0_domain = None
# Where the deploy fetches the signing keys (a path or `file://` URL also works). The
# local inventory serves its development key from a file.
# Accepts an https:// URL, a file:// URL or a path. Default:
# https://<auth0_domain>/.well-known/jwks.json.
jwks_url = None
# The `aud` PostgREST requires: the API identifier (access tokens) or the client id
# (ID tokens).
# Accepts a string without ':' or an absolute URI such as https://api.example.com.
# Required.
jwt_audience = None
# The only `iss` accepted (checked in the database, since PostgREST 12 does not).
# Accepts a string without ':' or an absolute URI such as https://api.example.com.
# Default: https://<auth0_domain>/.
jwt_issuer = None
# The claim naming the database role; namespaced, as the Auth0 Action sets it.
# Accepts a printable claim name without quotes or backslashes.
jwt_role_claim = "https://postgrest-demo.de/role"

# --- Images ---------------------------------------------------------------------------
# PostgREST's image, pinned; the default stays on v12.0.2, the one release the tests
# run (docs/runbooks.md: Upgrading PostgREST). Each image a pinned tag ("name:tag") or
# digest ("name@sha256:<64 hex>"); the name may start with a registry and port
# ("localhost:5000/pg:15"). The PostgREST tag also decides the configuration rendered
# for it (postgrest_stack/versions.py).
# Accepts an image pinned by tag or digest (name:tag, name@sha256:<hex>), never
# latest.
postgrest_image = "postgrest/postgrest:v12.0.2"
# PostgREST's version, for a `postgrest_image` pinned by digest (or by a tag naming no
# version); else read from the tag. Decides what postgrest.conf, compose's healthcheck
# and the health gate look like. Given with a tag that names a version, the two must
# agree.
# Accepts a PostgREST release of a supported line (12.0.x, 12.2.x, 13.0.x, 14.x or
# 16.x), e.g. 12.0.2, 12.2.12, 13.0.8, 14.17, 16.2. Default: from postgrest_image's
# tag (12.0.2).
postgrest_version = None
# PostgreSQL's image, pinned.
# Accepts an image pinned by tag or digest (name:tag, name@sha256:<hex>), never
# latest.
postgres_image = "postgres:15.14-bookworm"
# Swagger UI's image, pinned.
# Accepts an image pinned by tag or digest (name:tag, name@sha256:<hex>), never
# latest.
swagger_image = "swaggerapi/swagger-ui:v5.17.14"
# The TLS edge's image (Caddy), pinned; used when tls_mode is not `off`.
# Accepts an image pinned by tag or digest (name:tag, name@sha256:<hex>), never
# latest.
caddy_image = "caddy:2.6.2"
# Where hosts get the images: `registry` (compose pulls on the host) or `controller`
# (exported from the controller's Docker engine and loaded on the host). controller:
# for hosts without registry access; each image is exported once per run into
# build/image-cache/ and loaded only where the host's copy differs. A digest pin is
# tagged "<name>:sha256-<hex>" on the host, since `docker load` drops repository
# digests.
# Accepts one of registry, controller.
image_source = "registry"

# --- Network --------------------------------------------------------------------------
# The address PostgREST is published on (loopback: put a TLS proxy in front, such as
# tls_mode's edge). With tls_mode other than off it must be a loopback address: the
# edge is the only public entry, and the health gate reaches PostgREST there.
# Accepts an IP address.
postgrest_bind = "127.0.0.1"
# The port PostgREST is published on.
# Accepts a port number from 1 to 65535.
postgrest_port = 3000
# PostgREST's admin port (`/live`, `/ready`), published on loopback only.
# Accepts a port number from 1 to 65535.
postgrest_admin_port = 3001
# The address the database is published on (never all interfaces by default).
# Accepts an IP address.
db_bind = "127.0.0.1"
# The port the database is published on (db hosts), or reached at on db_host (api
# hosts).
# Accepts a port number from 1 to 65535.
db_port = 5432
# Deploy Swagger UI (it points at public_api_url).
# Accepts true or false.
swagger_enabled = False
# The address Swagger UI is published on. Not published with tls_mode other than off:
# the edge serves Swagger UI under /docs/.
# Accepts an IP address.
swagger_bind = "127.0.0.1"
# The port Swagger UI is published on.
# Accepts a port number from 1 to 65535.
swagger_port = 8080
# The API's URL as clients see it (OpenAPI, Swagger UI).
# Accepts an absolute http:// or https:// URL with a host and no user, query or
# fragment. Default: http://<postgrest_bind>:<postgrest_port>; with tls_mode:
# https://<public_hostname> (:<edge_https_port> unless 443).
public_api_url = None

# --- TLS edge -------------------------------------------------------------------------
# HTTPS in front of PostgREST, by a Caddy edge: `off` (none), `acme` (certificates
# from an ACME CA such as Let's Encrypt), `files` (tls_cert_file and tls_key_file) or
# `internal` (Caddy's own CA). docs/runbooks.md: HTTPS. With any mode but off, the
# edge publishes edge_http_port (a redirect) and edge_https_port on edge_bind,
# PostgREST stays on loopback, and Swagger UI (if enabled) is served by the edge under
# /docs/. `internal`: for tests and private networks; clients must trust the root in
# the edge's /data volume.
# Accepts one of off, acme, files, internal.
tls_mode = "off"
# The API's DNS name: the edge's site and certificate name (tls_mode other than
# `off`).
# Accepts a DNS name such as 'api.example.com'. Default: none (required with
# tls_mode).
public_hostname = None
# The ACME account's contact address (tls_mode `acme`): the CA's expiry and problem
# notices.
# Accepts a mail address such as ops@example.com. Default: none (required for acme).
acme_email = None
# The ACME CA's directory URL (tls_mode `acme`): Let's Encrypt; try its staging CA
# first (`https://acme-staging-v02.api.letsencrypt.org/directory`). Certificates and
# the ACME account are kept in the edge's /data volume across redeploys.
# Accepts an https:// URL with a host and no user or fragment.
acme_ca = "https://acme-v02.api.letsencrypt.org/directory"
# The certificate for tls_mode `files`: PEM, the server's first, then its chain.
# Checked before any host is touched: it must name public_hostname, match tls_key_file
# and stay valid for 14 more days. A new one is pushed atomically and loaded by `caddy
# reload`.
# Accepts a path on the controller (relative paths are from the project root).
# Default: none (required for files).
tls_cert_file = None
# tls_cert_file's private key (unencrypted PEM), for tls_mode `files`. Keep it 0600 on
# the controller; on hosts it is 0600 root, digested with a key by the probe and never
# shown by --diff.
# Accepts a path on the controller (relative paths are from the project root).
# Default: none (required for files).
tls_key_file = None
# The address the edge publishes its HTTP and HTTPS ports on (tls_mode other than
# `off`).
# Accepts an IP address.
edge_bind = "0.0.0.0"
# The edge's plain HTTP port: a redirect to HTTPS (and ACME's HTTP challenge).
# Accepts a port number from 1 to 65535.
edge_http_port = 80
# The edge's HTTPS port.
# Accepts a port number from 1 to 65535.
edge_https_port = 443
# The largest request body the edge passes on, in MB of 10^6 bytes (a larger declared
# one: 413). A body sent in chunks without a length is cut at the limit (Caddy 2.6.2
# then answers 502).
# Accepts a number of megabytes from 1 to 1024.
edge_max_body_mb = 10

# --- Topology -------------------------------------------------------------------------
# What a host runs: `all` (database and API), `db` (only the database), `api` (only
# PostgREST and Swagger UI) or `backup` (nothing: it keeps offsite backups,
# backup_offsite `group:NAME`). group_data/db.py, group_data/api.py and
# group_data/backup.py set it for hosts in groups db, api and backup. A backup host
# needs only its connection (and backup_dir): deploy.py and rotate_keys.py leave it
# out, status only names it.
# Accepts one of all, db, api, backup. Default: all (db/api/backup from groups).
stack_role = "all"
# The db host's private address, as api hosts reach it (its db_bind).
# Accepts a host name or IP address. Default: none (required for api hosts).
db_host = None
# A managed database instead of the db service:
# `postgres://HOST[:PORT]/DBNAME[?sslmode=require]`. No user or password in it. No db
# service is deployed; the SQL is applied to it once per run from an api host, as
# db_superuser with STACK_POSTGRES_PASSWORD.
# Accepts postgres://HOST[:PORT]/DBNAME[?sslmode=require] with no user or password.
external_db_uri = None

# --- Database -------------------------------------------------------------------------
# The database.
# Accepts a lower-case SQL identifier (letters, digits, _).
db_name = "app"
# The database superuser.
# Accepts a lower-case SQL identifier (letters, digits, _), not a reserved SQL key
# word, not starting with pg_.
db_superuser = "postgres"
# The schema PostgREST exposes.
# Accepts a lower-case SQL identifier (letters, digits, _), not a reserved SQL key
# word, not starting with pg_.
db_schema = "api"
# The role of requests without a token.
# Accepts a lower-case SQL identifier (letters, digits, _), not a reserved SQL key
# word, not starting with pg_.
db_anon_role = "api_anon"
# The role of verified users (the role claim's usual value).
# Accepts a lower-case SQL identifier (letters, digits, _), not a reserved SQL key
# word, not starting with pg_.
db_user_role = "api_user"
# The NOLOGIN role that owns what migrations create (neither the superuser nor one of
# PostgREST's roles). What a migration creates belongs to it; a migration grants to
# db_anon_role and db_user_role what they may use (docs/api.md). It must differ from
# db_superuser, db_anon_role, db_user_role and 'authenticator'.
# Accepts a lower-case SQL identifier (letters, digits, _), not a reserved SQL key
# word, not starting with pg_.
db_owner_role = "api_owner"
# The operator's migrations: files `NNNN_slug.sql`, applied once each, in numeric
# order. On the controller; an absolute path is allowed. Each applied file is recorded
# in the database's ledger with its SHA-256: an applied file must never change.
# Accepts a folder path (relative paths are from the project root).
migrations_dir = "migrations"

# --- Backups --------------------------------------------------------------------------
# Where the db host keeps its verified backups (created 0700, owned by root). None:
# /var/backups/<stack_name>. Each backup is a folder named by its UTC time
# (YYYYMMDDTHHMMSSZ) with a SHA-256 manifest (docs/backups.md).
# Accepts an absolute path of its own (normalised; not /tmp, /etc, /opt or another
# system or shared directory). Default: /var/backups/<stack_name>.
backup_dir = None
# Where backup.py copies each verified backup off the db host: `controller:PATH` (a
# folder on the controller) or `group:NAME` (the backup_dir of each host of that
# inventory group). group:NAME copies through the controller: the hosts need no keys
# to each other. A relative controller PATH is from the project root.
# Accepts `controller:PATH` or `group:NAME`.
backup_offsite = None
# How many verified backups are kept at each place (the db host and each offsite one).
# Accepts a number of backups from 1 to 1000.
backup_keep = 14
# When the scheduled backup runs (systemd's OnCalendar, in
# ops/systemd/postgrest-backup.timer).
# Accepts a systemd calendar expression such as 'daily' or '*-*-* 03:00'.
backup_schedule = "daily"
# `status` reports drift (exit 1) when a db host's newest verified backup is older
# than this.
# Accepts a number of hours from 1 to 8760.
backup_max_age_hours = 26
# When migrations are pending, deploy.py takes and verifies a backup before applying
# them.
# Accepts true or false.
backup_before_migrations = True
# How deploy.py may move an existing database to postgres_image's other major version:
# `dump-restore`; none: such a change is refused. A verified backup, the new server on
# a new volume, the restore, verification, then the switch; the old volume is kept for
# a rollback (docs/backups.md).
# Accepts one of dump-restore.
postgres_upgrade = None

# --- Secrets --------------------------------------------------------------------------
# The database superuser's password. Placeholders only (printed masked by `pyinfra
# INVENTORY debug-inventory`): the values come from the environment or secrets_file,
# never from host data or --data.
# Accepts only this placeholder: the value comes from $STACK_POSTGRES_PASSWORD or
# secrets_file.
postgres_password = SecretRef("STACK_POSTGRES_PASSWORD")
# The password PostgREST logs in with (role `authenticator`).
# Accepts only this placeholder: the value comes from $STACK_AUTHENTICATOR_PASSWORD or
# secrets_file.
authenticator_password = SecretRef("STACK_AUTHENTICATOR_PASSWORD")
# Uncommitted dotenv file of secrets (mode 0600), read for those not in the
# environment. python-dotenv's format (`KEY=value`, `export`, quotes, comments); see
# secrets.env.example. Not read when secrets_command is set (both with the file
# present is refused).
# Accepts a path (relative paths are from the project root). Default: none
# (secrets/<env>.env in staging/prod).
secrets_file = None
# Controller command printing the secrets in secrets_file's format (`sops -d ...`, `op
# inject ...`), for those not in the environment. Run once per run in the project root
# when the environment lacks a secret; its output is read into memory, never written.
# A failure, a timeout (60 s) or no output stops the run without showing its output.
# Examples per manager: docs/settings.md, Secrets.
# Accepts a shell command run on the controller.
secrets_command = None
# Generate missing secrets into secrets_file.
# Accepts true or false. Default: false (true for local).
generate_secrets = False
# Development RSA key standing in for Auth0 (local inventory only).
# Accepts a path (relative paths are from the project root). Default: none (local
# only).
dev_signing_key = None
