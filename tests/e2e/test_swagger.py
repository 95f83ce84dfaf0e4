"""Swagger UI, where enabled, points at the public API URL (the stand-in image honours
the official image's API_URL), and works in a real browser: Authorize, then a write."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.harness import Target
from tests.harness.browser import Chromium
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


# --- Swagger UI in a real browser: Authorize, then POST /todos ---------------------------

ISSUER = "https://tenant.eu.auth0.com/"


@pytest.fixture(scope="module")
def ui_target(jwks_endpoint):
    t = Target.create("swagger-ui", jwks_endpoint.url)
    # The browser runs on this machine: the API's public URL is its published loopback port.
    t.data.update(swagger_enabled=True, swagger_port=free_port(),
                  public_api_url=f"http://127.0.0.1:{t.data['postgrest_port']}")
    yield t
    t.destroy()


def test_authorize_and_post_a_todo_in_swagger_ui(ui_target, tenant):
    """Headless Chromium: Authorize with an Auth0 stand-in token (the button exists because
    postgrest.conf sets openapi-security-active), run POST /todos, see 201 in the page."""
    ui_target.deploy().check()
    assert "openapi-security-active = true\n" in (ui_target.app_dir / "postgrest/postgrest.conf").read_text()
    token = tenant.token("k1", audience=ui_target.data["jwt_audience"], issuer=ISSUER,
                         role_claim="https://postgrest-demo.de/role", role="api_user")
    post = "#operations-todos-post_todos"
    with Chromium() as browser:
        page = browser.page()
        page.navigate(f"http://127.0.0.1:{ui_target.data['swagger_port']}/")
        page.click(".auth-wrapper .btn.authorize", timeout=60)
        page.type_into("#api_key_value", f"Bearer {token}")
        page.click(".auth-btn-wrapper button.authorize")
        page.wait_for("document.querySelector('.auth-container').innerText.includes('Authorized')", 10, "Authorized")
        page.click(".auth-btn-wrapper button.btn-done")
        page.click(f"{post} .opblock-summary-control")
        page.click(f"{post} .try-out__btn")
        page.type_into(f"{post} textarea.body-param__text", '{"task": "from swagger ui"}')
        page.click(f"{post} .execute")
        status = page.wait_for(
            f"(document.querySelector('{post} .live-responses-table tr.response .response-col_status') || {{}}).innerText", 30,
            "the response of POST /todos")
        assert status.strip() == "201", page.evaluate(f"document.querySelector('{post} .live-responses-table').innerText")
    rows = requests.get(f"{ui_target.api}/todos", timeout=10).json()
    assert [row["task"] for row in rows] == ["from swagger ui"]
