"""Staging overrides. Secrets come from the environment or secrets/staging.env."""

auth0_domain = "example-tenant-staging.eu.auth0.com"
jwt_audience = "https://api.staging.example.com"
secrets_file = "secrets/staging.env"
swagger_enabled = True
