"""The same job on a host whose only compose is v1 (`docker-compose` 1.29).

The target's sshd puts a `docker` first on PATH that has no `compose` subcommand, as
on a host without the v2 plugin, so the stack's compose detection must pick v1.
"""

from __future__ import annotations

import docker
import pytest
import requests

from tests.e2e.harness import Target, bearer

WRAPPER = """#!/bin/sh
# A docker CLI without the compose plugin.
if [ "${1:-}" = compose ]; then
  echo "docker: 'compose' is not a docker command." >&2
  exit 1
fi
exec /usr/local/bin/docker "$@"
"""


@pytest.fixture(scope="module")
def target(jwks_endpoint, tmp_path_factory):
    bin_dir = tmp_path_factory.mktemp("no-compose-plugin")
    wrapper = bin_dir / "docker"
    wrapper.write_text(WRAPPER)
    wrapper.chmod(0o755)
    path = f"{bin_dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    t = Target.create("v1", jwks_endpoint.url, extra_config=[f"SetEnv PATH={path}"])
    yield t
    t.destroy()


def test_first_run_uses_compose_v1_and_serves(target, tenant):
    target.deploy().check()
    labels = docker.from_env().containers.get(target.containers()["postgrest"][0]).labels
    assert labels["com.docker.compose.version"].startswith("1.")
    tok = tenant.token("k2", audience=target.data["jwt_audience"], issuer="https://tenant.eu.auth0.com/",
                       role_claim="https://postgrest-demo.de/role", role="api_user")
    created = requests.post(f"{target.api}/todos", json={"task": "v1"}, headers=bearer(tok), timeout=10)
    assert created.status_code == 201, created.text
    assert requests.get(f"{target.api}/todos", timeout=10).json()[0]["task"] == "v1"


def test_second_run_changes_nothing(target):
    before = target.containers()
    assert target.deploy().check().changed == []
    assert target.containers() == before


def test_audience_change_reloads_without_restart(target):
    before = target.containers()
    run = target.deploy(jwt_audience="https://api-v1b.example.com").check()
    assert "PostgREST stack | Reload PostgREST (SIGUSR2)" in run.changed
    assert target.containers() == before
