"""postgrest.conf as the real PostgREST 12.0.2 parses it: values from settings stay literal."""

from __future__ import annotations

import dataclasses
import subprocess

from postgrest_stack import render
from tests.contract.conftest import SECRETS, local_conf, stack_settings
from tests.harness.auth0 import Tenant
from tests.harness.postgrest import postgrest_binary


def dump_config(conf: bytes, tmp_path) -> str:
    jwks_path = tmp_path / "jwks.json"
    jwks_path.write_bytes(Tenant.with_keys(("k1",), published=("k1",)).key_file())
    path = tmp_path / "postgrest.conf"
    path.write_bytes(local_conf(conf, db_port=1, jwks_path=jwks_path, server_port=1, admin_port=2))
    done = subprocess.run([str(postgrest_binary()), "--dump-config", str(path)], capture_output=True, text=True,
                          timeout=30, env={"PGPASSWORD": "the-authenticator-password", "PGCONNECT_TIMEOUT": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_dollar_in_values_is_literal_never_an_environment_variable(tmp_path):
    # Set past validation on purpose: the config syntax must be safe on its own.
    resolved = dataclasses.replace(stack_settings(), public_api_url="https://api.example.com/$(PGPASSWORD)",
                                   jwt_audience="a$b")
    dumped = dump_config(render.render(resolved, dict(SECRETS))["postgrest/postgrest.conf"].content, tmp_path)
    assert "the-authenticator-password" not in dumped
    assert 'openapi-server-proxy-uri = "https://api.example.com/$(PGPASSWORD)"' in dumped
    assert 'jwt-aud = "a$b"' in dumped
