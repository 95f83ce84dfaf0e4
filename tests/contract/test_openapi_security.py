"""Where Swagger UI is enabled, the real PostgREST 12.0.2 started with the rendered config
puts the JWT security definition in its OpenAPI output (Swagger UI's Authorize button)."""

from __future__ import annotations

import requests

from tests.contract.conftest import SECRETS, stack_settings, start_api


def openapi(cluster, tenant, tmp_dir, **overrides) -> dict:
    tmp_dir.mkdir()
    process = start_api(cluster, tenant, tmp_dir, stack_settings(**overrides), SECRETS["authenticator_password"])
    try:
        return requests.get(process.base_url + "/", timeout=10).json()
    finally:
        process.stop()


def test_security_definitions_only_with_swagger_ui(cluster, applied, tenant, tmp_path):
    with_ui = openapi(cluster, tenant, tmp_path / "ui", swagger_enabled=True, public_api_url="https://api.example.com")
    assert with_ui["securityDefinitions"]["JWT"] == {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": 'Add the token prepending "Bearer " (without quotes) to it'}
    assert with_ui["security"] == [{"JWT": []}]
    without = openapi(cluster, tenant, tmp_path / "plain")
    assert "securityDefinitions" not in without and "security" not in without
