"""This machine as the target (inventories/local.py), with no Auth0 account needed.

A development RSA key generated on first use stands in for the Auth0 tenant: its JWKS
is served to the deploy from a local file, and `python -m postgrest_stack token`
mints tokens with it. Secrets are generated once into .local/secrets.env (0600).
"""

auth0_domain = "dev-tenant.local"
jwt_audience = "local-dev-api"
jwks_url = ".local/dev-jwks.json"
dev_signing_key = ".local/dev-signing-key.pem"
secrets_file = ".local/secrets.env"
generate_secrets = True
docker_install = "distro"
app_dir = "/opt/postgrest-local"
