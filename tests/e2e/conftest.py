"""End-to-end fixtures: a real Docker engine, the stand-in images, the Auth0 stand-in."""

from __future__ import annotations

import subprocess

import docker
import pytest

from tests.conftest import ROOT
from tests.harness.auth0 import JwksEndpoint, Tenant

IMAGES = ("postgrest/postgrest:v12.0.2", "postgres:15.14-bookworm", "swaggerapi/swagger-ui:v5.17.14")


@pytest.fixture(scope="session", autouse=True)
def docker_engine():
    """The engine and the images the stack pins (built locally by `make images`)."""
    subprocess.run(["bash", str(ROOT / "scripts" / "start-docker.sh")], check=True)
    client = docker.from_env()
    missing = [name for name in IMAGES if not client.images.list(name=name)]
    assert not missing, f"images {missing} are missing: run `make images`"
    return client


@pytest.fixture(scope="session")
def tenant():
    return Tenant.with_keys(("k1", "k2", "k3"), published=("k1", "k2"))


@pytest.fixture(scope="module")
def endpoint(tenant):
    """The Auth0 stand-in serving the ``tenant`` in scope (a module's own, if it has one)."""
    with JwksEndpoint(tenant) as e:
        yield e


@pytest.fixture(scope="session")
def jwks_endpoint(tenant):
    with JwksEndpoint(tenant) as endpoint:
        yield endpoint
