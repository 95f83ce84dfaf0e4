"""compose.yaml as both Compose versions read it: values from settings stay literal."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest

from postgrest_stack import render, settings
from tests.unit.conftest import SECRETS, group_defaults

TRICKY_URL = 'https://api.example.com/"${AUTHENTICATOR_PASSWORD}"/$(PGPASSWORD)'


@pytest.fixture
def compose_dir(tmp_path):
    data = {**group_defaults(), "auth0_domain": "tenant.eu.auth0.com", "jwt_audience": "https://api.example.com",
            "swagger_enabled": True, "public_api_url": "https://api.example.com"}
    # The URL is set past validation on purpose: render must be safe on its own.
    resolved = dataclasses.replace(settings.resolve(data), public_api_url=TRICKY_URL)
    files = render.render(resolved, dict(SECRETS))
    render.write_tree(files, tmp_path)
    return tmp_path


@pytest.mark.parametrize("compose", [["docker", "compose"], ["docker-compose"]], ids=["v2", "v1"])
def test_api_url_reaches_swagger_literally(compose_dir, compose):
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "AUTHENTICATOR_PASSWORD": "must-not-appear",
           "POSTGRES_DB": "app", "POSTGRES_USER": "postgres", "COMPOSE_PROJECT_NAME": "t"}
    done = subprocess.run([*compose, "-f", "compose.yaml", "config"], cwd=compose_dir, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # Both print the resolved file as YAML (v2 doubles `$` again where it re-escapes).
    line = next(line for line in done.stdout.splitlines() if "API_URL" in line)
    assert "must-not-appear" not in line
    assert "${AUTHENTICATOR_PASSWORD}" in line.replace("$$", "$") and "$(PGPASSWORD)" in line.replace("$$", "$")
