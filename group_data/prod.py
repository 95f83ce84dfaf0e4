"""Production overrides. Secrets come from the environment or secrets/prod.env."""

auth0_domain = "example-tenant.eu.auth0.com"
jwt_audience = "https://api.example.com"
# The api hosts' HTTPS edge (tls_mode and public_hostname per api host in
# inventories/prod.py): public_api_url is each host's https://<public_hostname>.
acme_email = "ops@example.com"
postgrest_image = "postgrest/postgrest:v12.0.2"
postgres_image = "postgres:15.14-bookworm"
swagger_enabled = False
# The db host's private address (its db_bind in inventories/prod.py).
db_host = "10.0.1.10"
secrets_file = "secrets/prod.env"
# The hosts' login (inventories/prod.py sets ssh_user "deploy") is not root: every
# command runs through passwordless sudo (see docs/runbooks.md, "Host account").
_sudo = True
