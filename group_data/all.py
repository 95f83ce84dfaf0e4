"""Defaults for every host: the one documented home of every setting.

Override per environment in group_data/<env>.py, per host in the inventory, or per run
with ``pyinfra ... --data key=value``. Secret values never live here: see README
("Secrets") and postgrest_stack/secrets.py.
"""

from postgrest_stack.secrets import SecretRef

# --- Stack ---------------------------------------------------------------------------
# Compose project name; also names the containers and the database volume.
stack_name = "postgrest"
# Where the stack's files live on the host (created 0700, owned by root).
app_dir = "/opt/postgrest"
# How Docker gets onto the host: "official" (Docker's apt repository), "distro"
# (the distribution's docker.io + compose), or "skip" (Docker must already run).
docker_install = "official"
# Longest wait, in seconds, for the database to be healthy and for PostgREST's /ready
# (health gate, reload): past it the host fails with the reason and the last logs.
health_timeout = 120
# An apt proxy or mirror the hosts install packages through (the Docker install only),
# e.g. "http://apt-cache.internal:3142" for a corporate apt-cacher-ng. None: direct.
apt_proxy = None

# --- Key rotation --------------------------------------------------------------------
# Seconds after which fetching the JWKS gives up (retries included).
jwks_fetch_timeout = 30
# Optional command run on the controller that prints a fresh token (for Auth0, e.g. a
# client-credentials grant). After each host's key reload the token is sent from the
# host to its API and must get 200, else the host rolls back to its previous keys.
smoke_token_command = None

# --- Auth0 / JWT ---------------------------------------------------------------------
# The Auth0 tenant's domain, e.g. "my-tenant.eu.auth0.com". Required.
auth0_domain = None
# Where the deploy fetches the signing keys. None: https://<auth0_domain>/.well-known/jwks.json
# A path or file:// URL is accepted (the local inventory serves its development key so).
jwks_url = None
# The `aud` PostgREST requires: the API identifier for access tokens, the application's
# client id for ID tokens. Required.
jwt_audience = None
# The only `iss` accepted (checked by the database pre-request function, since
# PostgREST 12 does not). None: https://<auth0_domain>/
jwt_issuer = None
# The claim that carries the database role; namespaced, as the Auth0 Action sets it.
jwt_role_claim = "https://postgrest-demo.de/role"

# --- Images (pinned; never "latest") -------------------------------------------------
# Each a pinned tag ("name:tag") or digest ("name@sha256:<64 hex>"); the name may start
# with a registry and port ("localhost:5000/pg:15").
postgrest_image = "postgrest/postgrest:v12.0.2"
postgres_image = "postgres:15.14-bookworm"
swagger_image = "swaggerapi/swagger-ui:v5.17.14"
# Where hosts get the images: "registry" (compose pulls them on the host) or
# "controller" (for hosts without registry access: each image is exported once per run
# from the controller's local Docker engine into build/image-cache/, then uploaded and
# `docker load`ed on hosts whose copy differs; compose never pulls). A digest pin is
# tagged "<name>:sha256-<hex>" on the host, since `docker load` drops repository digests.
image_source = "registry"

# --- Network -------------------------------------------------------------------------
# PostgREST's published address and port (loopback: put a TLS proxy in front).
postgrest_bind = "127.0.0.1"
postgrest_port = 3000
# PostgREST's admin port (/live, /ready), always published on loopback only.
postgrest_admin_port = 3001
# The database's published address: loopback unless a private address is asked for.
db_bind = "127.0.0.1"
db_port = 5432
# Swagger UI: off by default; points at public_api_url.
swagger_enabled = False
swagger_bind = "127.0.0.1"
swagger_port = 8080
# The API's URL as clients see it. None: http://<postgrest_bind>:<postgrest_port>
public_api_url = None

# --- Topology ------------------------------------------------------------------------
# "all": database and API on one host. "db": only the database (group_data/db.py sets
# it for hosts in group `db`). "api": only PostgREST (+ Swagger UI) (group `api`),
# reaching the database at db_host:db_port, or at external_db_uri.
stack_role = "all"
# The db host's private address, as api hosts reach it (its db_bind).
db_host = None
# A managed database instead of the db service: postgres://HOST[:PORT]/DBNAME[?sslmode=require]
# (no user or password in it). No db service is deployed; the SQL is applied to it once
# per run from an api host, as db_superuser with STACK_POSTGRES_PASSWORD.
external_db_uri = None

# --- Database ------------------------------------------------------------------------
db_name = "app"
db_superuser = "postgres"
db_schema = "api"
db_anon_role = "api_anon"
db_user_role = "api_user"

# --- Secrets -------------------------------------------------------------------------
# Placeholders only (printed masked by `pyinfra INVENTORY debug-inventory`): the values
# come from the environment or secrets_file, never from host data or --data.
postgres_password = SecretRef("STACK_POSTGRES_PASSWORD")
authenticator_password = SecretRef("STACK_AUTHENTICATOR_PASSWORD")
# Uncommitted KEY=value file read for STACK_POSTGRES_PASSWORD and
# STACK_AUTHENTICATOR_PASSWORD when they are not in the environment (relative paths
# are from the project root). See secrets.env.example.
secrets_file = None
# Generate missing secrets into secrets_file (local inventory only).
generate_secrets = False
# Development signing key (local inventory only): stands in for an Auth0 tenant.
dev_signing_key = None
