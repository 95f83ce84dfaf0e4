"""A generator's password goes the whole way (real PostgreSQL 15, real PostgREST 12.0.2).

The authenticator's password holds every character the secrets accept (secrets.ALPHABET:
'#', '\\', '`', '=', ...). It is read as the controller reads it (a dotenv secrets file,
or secrets_command's output), rendered, set in the database by the roles SQL (its SCRAM
verifier), read back from the rendered .env by Compose v1 and v2 as PostgREST's
PGPASSWORD, and PostgREST logs in with what Compose gave it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
import yaml

from postgrest_stack import render
from postgrest_stack import secrets as stack_secrets
from tests.contract.conftest import AUDIENCE, ISSUER, SECRETS, apply_sql, stack_settings, start_api

EVERY_ALLOWED = "".join(sorted(stack_secrets.ALPHABET))


def composes() -> list[list[str]]:
    found = []
    if shutil.which("docker-compose"):
        found.append(["docker-compose"])
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        found.append(["docker", "compose"])
    return found


def compose_password(directory: Path, command: list[str]) -> str:
    """PGPASSWORD of the postgrest service as Compose reads compose.yaml and .env."""
    env = {k: v for k, v in os.environ.items() if k != "AUTHENTICATOR_PASSWORD"}
    done = subprocess.run([*command, "config"], cwd=directory, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)["services"]["postgrest"]["environment"]["PGPASSWORD"]


@pytest.mark.parametrize("source", ["secrets_file", "secrets_command"])
def test_every_allowed_character_reaches_postgrest_through_compose(cluster, tenant, tmp_path, source):
    assert composes(), "neither docker-compose nor docker compose is installed"
    text = (f"# as a manager would hand it out\nexport STACK_POSTGRES_PASSWORD='{SECRETS['postgres_password']}'\n"
            f"STACK_AUTHENTICATOR_PASSWORD={EVERY_ALLOWED}\n")
    path = tmp_path / "secrets.env"
    path.write_text(text)
    path.chmod(0o600)
    stack_secrets._command_results.clear()
    data = {"secrets_file": str(path)} if source == "secrets_file" else {"secrets_command": f"cat {path}"}
    found = stack_secrets.load(data, {})
    assert found["authenticator_password"] == EVERY_ALLOWED

    resolved = stack_settings()
    files = render.render(resolved, found)
    apply_sql(cluster, files, tmp_path / "sql")
    with cluster.connect("app", user="authenticator", password=EVERY_ALLOWED) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("authenticator",)

    app_dir = tmp_path / "app"
    app_dir.mkdir()
    for name in ("compose.yaml", ".env"):
        (app_dir / name).write_bytes(files[name].content)
    token = tenant.token("k1", audience=AUDIENCE, issuer=ISSUER, role_claim=resolved.jwt_role_claim, role="api_user")
    for command in composes():
        password = compose_password(app_dir, command)
        assert password == EVERY_ALLOWED, command
        run_dir = tmp_path / "_".join(command)
        run_dir.mkdir()
        process = start_api(cluster, tenant, run_dir, resolved, password)
        try:
            answer = requests.get(f"{process.base_url}/todos?limit=1",
                                  headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert answer.status_code == 200, answer.text
        finally:
            process.stop()


def test_a_wrong_password_is_refused_by_the_database(cluster, tmp_path):
    """The control: the login above proves the password, not a trust rule."""
    files = render.render(stack_settings(), dict(SECRETS, authenticator_password=EVERY_ALLOWED))
    apply_sql(cluster, files, tmp_path / "sql")
    import psycopg

    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        cluster.connect("app", user="authenticator", password=EVERY_ALLOWED.replace("#", "x"))
