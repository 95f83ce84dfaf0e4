"""Swagger UI, where enabled, points at the public API URL (the stand-in image honours
the official image's API_URL)."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.harness import Target
from tests.harness.ports import free_port

PUBLIC = "https://api.public.example.test"


@pytest.fixture(scope="module")
def target(jwks_endpoint):
    t = Target.create("swagger", jwks_endpoint.url)
    t.data.update(swagger_enabled=True, swagger_port=free_port(), public_api_url=PUBLIC)
    yield t
    t.destroy()


def test_swagger_points_at_the_public_url(target):
    target.deploy().check()
    assert set(target.containers()) == {"db", "postgrest", "swagger"}
    base = f"http://127.0.0.1:{target.data['swagger_port']}"
    assert requests.get(f"{base}/", timeout=10).status_code == 200
    initializer = requests.get(f"{base}/swagger-initializer.js", timeout=10).text
    assert f'url: "{PUBLIC}"' in initializer
    assert "localhost" not in initializer and "127.0.0.1" not in initializer
    # PostgREST's OpenAPI document names the same public server.
    openapi = requests.get(f"{target.api}/", timeout=10).json()
    assert openapi["host"].split(":")[0] == "api.public.example.test"


def test_rerun_changes_nothing(target):
    assert target.deploy().check().changed == []
