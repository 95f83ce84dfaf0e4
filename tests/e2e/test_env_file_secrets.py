"""The host's .env as `docker run --env-file` reads it (the external database's psql in
bin/apply-sql, bin/migrate and the probe): a password of every character the secrets
accept (secrets.ALPHABET) arrives as it was given, a leading '#' included."""

from __future__ import annotations

import subprocess

from postgrest_stack import render, settings
from postgrest_stack import secrets as stack_secrets
from tests.unit.conftest import group_defaults

EVERY_ALLOWED = "".join(sorted(stack_secrets.ALPHABET))


def test_env_file_gives_docker_run_the_passwords_as_is(tmp_path):
    found = stack_secrets.load({}, {"STACK_POSTGRES_PASSWORD": "#" + EVERY_ALLOWED,
                                    "STACK_AUTHENTICATOR_PASSWORD": EVERY_ALLOWED})
    data = {**group_defaults(), "auth0_domain": "tenant.eu.auth0.com", "jwt_audience": "https://api.example.com",
            "stack_role": "api", "external_db_uri": "postgres://db.example.com/app"}
    resolved = settings.resolve(data)
    env_file = tmp_path / ".env"
    env_file.write_bytes(render.render(resolved, found)[".env"].content)
    done = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--env-file", str(env_file), resolved.postgres_image,
         "sh", "-c", 'printf "%s\\n%s" "$POSTGRES_PASSWORD" "$AUTHENTICATOR_PASSWORD"'],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n") == [found["postgres_password"], found["authenticator_password"]]
