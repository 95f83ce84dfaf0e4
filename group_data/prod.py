"""Production overrides. Secrets come from the environment or secrets/prod.env."""

auth0_domain = "example-tenant.eu.auth0.com"
jwt_audience = "https://api.example.com"
secrets_file = "secrets/prod.env"
swagger_enabled = False
