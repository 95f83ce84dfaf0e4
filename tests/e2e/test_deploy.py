"""The main job end to end over SSH with Compose v2: first run, no-change rerun, changes.

A scenario: the tests run in file order against one target and build on each other.
"""

from __future__ import annotations

import os
import stat

import docker
import pytest
import requests

from tests.e2e.harness import Target, bearer
from tests.jwks_corpus import refused_cases

ISSUER = "https://tenant.eu.auth0.com/"
ROLE_CLAIM = "https://postgrest-demo.de/role"


@pytest.fixture(scope="module")
def target(jwks_endpoint):
    t = Target.create("v2", jwks_endpoint.url)
    yield t
    t.destroy()


def token(tenant, target, key="k1", audience=None):
    return tenant.token(key, audience=audience or target.data["jwt_audience"], issuer=ISSUER,
                        role_claim=ROLE_CLAIM, role="api_user")


def post_todo(target, tok, task):
    return requests.post(f"{target.api}/todos", json={"task": task}, headers=bearer(tok), timeout=10)


def tasks(target):
    return [row["task"] for row in requests.get(f"{target.api}/todos", timeout=10).json()]


def test_first_run_changes_and_serves(target, tenant):
    run = target.deploy().check()
    for operation in ("PostgREST stack | Bring the stack up (compose up -d)",
                      "PostgREST stack | Apply SQL in the db container",
                      "PostgREST stack | Health gate"):
        assert operation in run.changed
    assert target.ready() == 200
    created = post_todo(target, token(tenant, target), "first")
    assert created.status_code == 201, created.text
    assert tasks(target) == ["first"]
    labels = docker.from_env().containers.get(target.containers()["postgrest"][0]).labels
    assert labels["com.docker.compose.version"].startswith("2.")


def test_files_modes_and_owners(target, tenant):
    app = target.app_dir
    expected = {
        ".": (0o700, 0), "bin": (0o700, 0), "sql": (0o700, 0), "postgrest": (0o700, 1000), "db": (0o700, 999),
        "db/superuser-password": (0o600, 999),
        ".env": (0o600, 0), "compose.yaml": (0o600, 0), "sql/01-roles.sql": (0o600, 0),
        "postgrest/postgrest.conf": (0o600, 1000), "postgrest/jwks.json": (0o600, 1000),
    }
    for relative, (mode, uid) in expected.items():
        info = os.stat(app / relative)
        assert (stat.S_IMODE(info.st_mode), info.st_uid) == (mode, uid), relative
    assert (app / "postgrest/jwks.json").read_bytes() == tenant.key_file()
    assert target.data and b"e2e-authenticator-password" not in (app / "compose.yaml").read_bytes()
    compose = (app / "compose.yaml").read_text()
    assert f'"127.0.0.1:{target.data["db_port"]}:5432"' in compose


def test_second_run_changes_nothing(target):
    before = target.containers()
    run = target.deploy().check()
    assert run.changed == [], run.output[-3000:]
    assert target.containers() == before


def test_dry_run_reports_and_changes_nothing(target, tenant):
    conf = (target.app_dir / "postgrest/postgrest.conf").read_bytes()
    before = target.containers()
    run = target.deploy("--dry", jwt_audience="https://api-v2.example.com").check()
    assert "File postgrest/postgrest.conf" in run.output
    assert "Reload PostgREST (SIGUSR2)" in run.output
    assert (target.app_dir / "postgrest/postgrest.conf").read_bytes() == conf
    assert target.containers() == before
    assert post_todo(target, token(tenant, target), "after dry run").status_code == 201


def test_audience_change_reloads_without_restart(target, tenant):
    before = target.containers()
    old = token(tenant, target)
    target.data["jwt_audience"] = "https://api-v2.example.com"
    run = target.deploy().check()
    assert "PostgREST stack | Reload PostgREST (SIGUSR2)" in run.changed
    assert "PostgREST stack | Bring the stack up (compose up -d)" not in run.changed
    assert target.containers() == before
    assert post_todo(target, old, "old audience").status_code == 401
    assert post_todo(target, token(tenant, target), "new audience").status_code == 201


def test_image_change_recreates_only_that_service(target):
    client = docker.from_env()
    client.images.get("postgrest/postgrest:v12.0.2").tag("postgrest/postgrest", "v12.0.2-e2e")
    before = target.containers()
    target.data["postgrest_image"] = "postgrest/postgrest:v12.0.2-e2e"
    run = target.deploy().check()
    assert "PostgREST stack | Bring the stack up (compose up -d)" in run.changed
    after = target.containers()
    assert after["db"] == before["db"]
    assert after["postgrest"][0] != before["postgrest"][0]
    assert target.ready() == 200


def test_env_change_recreates_only_postgrest_and_keeps_data(target, tenant):
    before = target.containers()
    target.secrets["STACK_AUTHENTICATOR_PASSWORD"] = "e2e-authenticator-password-0002"
    run = target.deploy().check()
    assert {"PostgREST stack | File .env", "PostgREST stack | Apply SQL in the db container"} <= set(run.changed)
    after = target.containers()
    assert after["db"] == before["db"]
    assert after["postgrest"][0] != before["postgrest"][0]
    assert post_todo(target, token(tenant, target), "after password change").status_code == 201
    assert tasks(target)[:2] == ["first", "after dry run"]


def test_rerun_after_changes_changes_nothing(target):
    before = target.containers()
    assert target.deploy().check().changed == []
    assert target.containers() == before


def test_bad_jwks_stops_before_any_host_is_touched(target, jwks_endpoint):
    key_file = target.app_dir / "postgrest/jwks.json"
    before = key_file.read_bytes()
    raw, fragment = refused_cases()["x5c of another key"]
    jwks_endpoint.behaviour.body = raw
    try:
        run = target.deploy(jwt_audience="https://api-v3.example.com")
    finally:
        jwks_endpoint.behaviour.body = None
    assert run.returncode != 0
    assert fragment in run.output
    assert "Beginning operation run" not in run.output  # stopped while preparing
    assert key_file.read_bytes() == before
    assert b"api-v3" not in (target.app_dir / "postgrest/postgrest.conf").read_bytes()


def test_missing_secret_is_a_one_line_error(target):
    run = target.deploy(env={"STACK_POSTGRES_PASSWORD": "e2e-superuser-password-0001"})
    assert run.returncode != 0
    lines = [line for line in run.output.splitlines() if "missing secret" in line]
    assert len(lines) == 1 and "STACK_AUTHENTICATOR_PASSWORD" in lines[0]
    assert "Beginning operation run" not in run.output  # no host touched
