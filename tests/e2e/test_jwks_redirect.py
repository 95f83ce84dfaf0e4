"""A JWKS URL that answers with a redirect, however valid the set it points at, stops
`pyinfra … deploy.py` while preparing: no host is touched (app_dir never created)."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Target
from tests.harness.auth0 import JwksEndpoint, Tenant


@pytest.fixture(scope="module")
def endpoint():
    with JwksEndpoint(Tenant.with_keys(("k1",), published=("k1",))) as e:
        yield e


@pytest.fixture(scope="module")
def target(endpoint):
    t = Target.create("redirect", endpoint.url)
    yield t
    t.destroy()


@pytest.mark.parametrize("status", [301, 302, 307])
def test_a_redirected_jwks_url_stops_the_deploy_before_any_host(target, endpoint, status):
    endpoint.behaviour.redirect_status = status
    try:
        run = target.deploy()
    finally:
        endpoint.behaviour.redirect_status = None
    assert run.returncode != 0
    assert f"{target.name}: {endpoint.url}: HTTP {status}, expected 200" in run.output, run.output[-3000:]
    assert "Beginning operation run" not in run.output  # stopped while preparing
    assert endpoint.behaviour.moved_requests == 0
    assert not target.app_dir.exists()
    assert target.containers() == {}


def test_the_same_url_without_the_redirect_is_accepted(target):
    """The control: what stopped the runs above was the redirect alone."""
    run = target.deploy("--dry")
    assert run.returncode == 0, run.output[-3000:]
    assert not target.app_dir.exists()
