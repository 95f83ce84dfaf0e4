"""The key file's previous version is kept on the plain upload path too: a new key set
published while PostgREST is stopped is written by the deploy's file operation (there
is nothing running to reload), and jwks.json.prev still holds the file it replaced.

The rotation path (PostgREST running) keeps it as well: tests/e2e/test_rotate_keys.py.
"""

from __future__ import annotations

import subprocess

import pytest
import requests

from tests.e2e.harness import Target, bearer
from tests.harness.auth0 import JwksEndpoint, Tenant

ROTATE = "Rotate signing keys, one host at a time"


@pytest.fixture(scope="module")
def tenant():
    return Tenant.with_keys(("k1", "k2", "k3"), published=("k1", "k2"))


@pytest.fixture(scope="module")
def target(tenant):
    with JwksEndpoint(tenant) as endpoint:
        t = Target.create("prev", endpoint.url)
        try:
            t.deploy().check()
            yield t
        finally:
            t.destroy()


def status(target, tenant, key):
    token = tenant.token(key, audience=target.data["jwt_audience"], issuer="https://tenant.eu.auth0.com/",
                         role_claim="https://postgrest-demo.de/role", role="api_user")
    return requests.get(f"{target.api}/todos", headers=bearer(token), timeout=10).status_code


def test_a_new_key_set_while_postgrest_is_stopped_keeps_the_previous_file(target, tenant):
    key_file = target.app_dir / "postgrest/jwks.json"
    previous = key_file.read_bytes()
    assert previous == tenant.key_file()
    subprocess.run([str(target.app_dir / "bin/compose"), "stop", "postgrest"], check=True, capture_output=True,
                   timeout=120)
    tenant.publish("k2", "k3")

    run = target.deploy().check()

    assert "PostgREST stack | File postgrest/jwks.json" in run.changed, run.output[-3000:]
    assert ROTATE not in run.results  # the plain upload, not the rotation steps
    assert key_file.read_bytes() == tenant.key_file()
    assert (target.app_dir / "postgrest/jwks.json.prev").read_bytes() == previous
    assert (status(target, tenant, "k3"), status(target, tenant, "k1")) == (200, 401)
