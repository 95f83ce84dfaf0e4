"""The reload proof on a deployed host: a key file PostgREST reads as a shared secret
is caught after the reload and rolled back, whatever the guard missed."""

from __future__ import annotations

import pytest
import requests

from postgrest_stack import key_proof, settings
from tests.e2e.harness import Target, bearer
from tests.jwks_corpus import misread_cases
from tests.unit.conftest import group_defaults

PROOF = "PostgREST stack | Prove PostgREST read the key file as keys"


@pytest.fixture(scope="module")
def target(jwks_endpoint):
    t = Target.create("proof", jwks_endpoint.url)
    try:
        first = t.deploy().check()
        assert first.results[PROOF][:2] == (1, 0), first.output[-3000:]
        yield t
    finally:
        t.destroy()


def rs256(tenant, target):
    return tenant.token("k1", audience=target.data["jwt_audience"], issuer="https://tenant.eu.auth0.com/",
                        role_claim="https://postgrest-demo.de/role", role="api_user")


def test_a_key_file_read_as_a_secret_is_rolled_back(target, tenant, tmp_path):
    key_file = target.app_dir / "postgrest/jwks.json"
    deployed = key_file.read_bytes()
    unchecked = misread_cases()["n with a leading zero octet"][0]
    (tmp_path / "unchecked.json").write_bytes(unchecked)

    run = target.deploy(script="tests/e2e/deploys/rotate_unchecked_key_file.py",
                        unchecked_key_file=str(tmp_path / "unchecked.json"))

    assert run.returncode != 0
    assert "PostgREST read the key file as a shared secret: an HS256 token signed with its bytes answered 200" in run.output
    assert "rolled back to the previous keys" in run.output
    assert key_file.read_bytes() == deployed
    assert (target.app_dir / "postgrest/jwks.json.prev").read_bytes() == deployed
    # Back on the deployed keys: the tenant's token passes, a forgery of either file does not.
    resolved = settings.resolve({**group_defaults(), **target.data})
    assert requests.get(f"{target.api}/todos", headers=bearer(rs256(tenant, target)), timeout=10).status_code == 200
    for token in key_proof.forged_tokens(unchecked, resolved) + key_proof.forged_tokens(deployed, resolved):
        assert requests.get(f"{target.api}/todos", headers=bearer(token), timeout=10).status_code == 401


def test_rerun_after_the_rollback_changes_nothing(target):
    run = target.deploy().check()
    assert run.changed == [], run.changed
