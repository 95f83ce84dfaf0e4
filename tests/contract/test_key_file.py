"""The key file on the real PostgREST 12.0.2: published bytes it misreads, the canonical
file it reads as keys, and bin/prove-keys telling the two apart.

For each key set PostgREST cannot parse as published, the test shows both sides on
one running PostgREST (the file replaced, then SIGUSR2): the published bytes make an
HS256 token signed with them pass (the hole), the canonical file refuses it and
verifies the tenant's RS256 token.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from postgrest_stack import jwks, key_proof, render
from tests import jwks_corpus
from tests.contract.conftest import SECRETS, stack_settings, start_api
from tests.harness.auth0 import JwksEndpoint, Tenant

MISREAD = jwks_corpus.misread_cases()


@pytest.fixture(scope="module")
def corpus_tenant():
    """A tenant holding the corpus keys, so the corpus key sets verify its tokens."""
    tenant = Tenant()
    for name in ("k1", "k2"):
        tenant.add_key(name, jwks_corpus.key(name))
    tenant.publish("k1", "k2")
    return tenant


@pytest.fixture(scope="module")
def live(cluster, applied, corpus_tenant, tmp_path_factory):
    """One PostgREST whose key file the tests replace and reload."""
    tmp_dir = tmp_path_factory.mktemp("keyfile")
    resolved = stack_settings()
    process = start_api(cluster, corpus_tenant, tmp_dir, resolved, SECRETS["authenticator_password"])
    try:
        yield process, tmp_dir / "jwks.json", resolved
    finally:
        process.stop()


def load(live, content: bytes) -> None:
    process, path, _settings = live
    path.write_bytes(content)
    process.reload()


def status(process, token: str) -> int:
    import requests

    return requests.get(f"{process.base_url}/todos?limit=1", headers={"Authorization": f"Bearer {token}"},
                        timeout=5).status_code


def eventually(check, seconds: float = 6.0) -> bool:
    """A reload takes effect asynchronously: poll until ``check()`` holds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def rs256(tenant, resolved) -> str:
    return tenant.token("k1", audience=resolved.jwt_audience, issuer=resolved.jwt_issuer,
                        role_claim=resolved.jwt_role_claim, role="api_user")


def forged(content: bytes, resolved) -> list[str]:
    return key_proof.forged_tokens(content, resolved)


def prove(live, content: bytes) -> subprocess.CompletedProcess:
    """Run the rendered bin/prove-keys against this PostgREST, tokens on stdin."""
    process, path, resolved = live
    local = stack_settings(postgrest_port=process.server_port)
    script = path.parent / "prove-keys"
    script.write_bytes(render.render(local, dict(SECRETS))["bin/prove-keys"].content)
    return subprocess.run(["sh", str(script)], input=key_proof.stdin_for(forged(content, resolved)),
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name", list(MISREAD))
def test_published_bytes_are_a_forgeable_secret_canonical_file_is_keys(live, corpus_tenant, name):
    process, _path, resolved = live
    published, _warning = MISREAD[name]
    # The hole, as PostgREST 12.0.2 has it: the published file is read as an HS256 secret.
    load(live, published)
    assert eventually(lambda: any(status(process, t) == 200 for t in forged(published, resolved))), \
        f"{name}: PostgREST 12.0.2 no longer misreads this set; the case can go"
    assert status(process, rs256(corpus_tenant, resolved)) == 401
    # What a deploy pushes instead.
    canonical = jwks.validate(published, name).canonical
    load(live, canonical)
    assert eventually(lambda: status(process, rs256(corpus_tenant, resolved)) == 200)
    assert [status(process, t) for t in forged(canonical, resolved)] == [401, 401]


def test_prove_keys_trips_on_a_file_read_as_a_secret(live, corpus_tenant):
    process, _path, resolved = live
    published, _ = MISREAD["n with a leading zero octet"]
    load(live, published)
    assert eventually(lambda: status(process, forged(published, resolved)[0]) == 200)
    result = prove(live, published)
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        "PostgREST read the key file as a shared secret: an HS256 token signed with its bytes answered 200, expected 401"]
    canonical = jwks.validate(published, "t").canonical
    load(live, canonical)
    assert eventually(lambda: status(process, rs256(corpus_tenant, resolved)) == 200)
    result = prove(live, canonical)
    assert result.returncode == 0, result.stderr
    assert "key proof: ok" in result.stdout


def test_prove_keys_catches_the_form_read_less_its_trailing_newline(live):
    """PostgREST 12.0.2 strips a trailing newline before using the file as a secret:
    only the second token (the bytes less the newline) shows that hole."""
    process, _path, resolved = live
    published = MISREAD["invalid x5u"][0] + b"\n"
    load(live, published)
    assert eventually(lambda: [status(process, t) for t in forged(published, resolved)] == [401, 200])
    result = prove(live, published)
    assert result.returncode == 3 and "answered 200, expected 401" in result.stderr


def test_canonical_file_of_an_auth0_shaped_set_verifies_rs256(live, corpus_tenant):
    process, _path, resolved = live
    canonical = jwks.validate(corpus_tenant.jwks(), "tenant").canonical
    load(live, canonical)
    assert eventually(lambda: status(process, rs256(corpus_tenant, resolved)) == 200)
    assert status(process, corpus_tenant.token("k2", audience=resolved.jwt_audience, issuer=resolved.jwt_issuer,
                                               role_claim=resolved.jwt_role_claim, role="api_user")) == 200
    assert prove(live, canonical).returncode == 0


def test_legacy_auth0_set_in_upper_case_form_deploys_as_keys(live, corpus_tenant, tmp_path):
    """A set as a real legacy Auth0 tenant publishes it (kid and x5t: base64url of the
    SHA-1's upper-case hex text), fetched through the guard as a deploy does: the file
    written is the canonical one with the tenant's kids, and 12.0.2 reads it as keys."""
    process, _path, resolved = live
    document = jwks_corpus.legacy_auth0_jwks("k1", "k2")
    published = jwks_corpus.dumps(document)
    deployed = tmp_path / "jwks.json"
    tenant = Tenant()
    with JwksEndpoint(tenant) as endpoint:
        endpoint.behaviour.body = published
        result = jwks.fetch_to_file(endpoint.url, deployed)
    kids = [key["kid"] for key in document["keys"]]
    assert list(result.kids) == kids and len(result.warnings) == 2
    canonical = deployed.read_bytes()
    assert canonical == result.canonical
    assert [sorted(key) for key in json.loads(canonical)["keys"]] == [["alg", "e", "kid", "kty", "n", "use"]] * 2
    load(live, canonical)
    for name, kid in zip(("k1", "k2"), kids, strict=True):
        token = corpus_tenant.token(name, audience=resolved.jwt_audience, issuer=resolved.jwt_issuer,
                                    role_claim=resolved.jwt_role_claim, role="api_user", kid=kid)
        assert eventually(lambda token=token: status(process, token) == 200)
    assert [status(process, t) for t in forged(canonical, resolved)] == [401, 401]
    assert prove(live, canonical).returncode == 0
