"""Staging overrides. Secrets come from the environment or secrets/staging.env."""

auth0_domain = "example-tenant-staging.eu.auth0.com"
jwt_audience = "https://api.staging.example.com"
public_api_url = "https://api.staging.example.com"
postgrest_image = "postgrest/postgrest:v12.0.2"
postgres_image = "postgres:15.14-bookworm"
swagger_enabled = True
# Swagger UI is reached through the same TLS proxy as the API.
swagger_bind = "127.0.0.1"
db_host = "10.0.2.10"
secrets_file = "secrets/staging.env"
# The hosts' login (inventories/staging.py sets ssh_user "deploy") is not root: every
# command runs through passwordless sudo (see docs/runbooks.md, "Host account").
_sudo = True
