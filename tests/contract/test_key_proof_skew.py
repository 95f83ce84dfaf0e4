"""The key proof (key_proof.py, the rendered bin/prove-keys) on the real PostgREST 12.0.2
when the controller's clock is not the host's.

The proof tokens are built on the controller; PostgREST checks ``iat``/``exp`` with its
own clock and 30 s of leeway. A controller 45 s ahead or 17 min behind must change
nothing: a PostgREST that read the key file as an HS256 secret fails the proof, one that
read it as keys passes. The skew is simulated by building the tokens with a shifted
``now``, which is all the controller's clock feeds into them.
"""

from __future__ import annotations

import subprocess
import time

import pytest
import requests

from postgrest_stack import jwks, key_proof, render, versions
from tests import jwks_corpus
from tests.contract.conftest import SECRETS, stack_settings

#: The controller's clock minus the host's: 45 s ahead (past PostgREST's 30 s leeway for
#: a token issued "in the future"), 17 min behind (past a 15-minute token lifetime).
SKEWS = {"ahead 45 s": 45, "behind 17 min": -17 * 60}
#: A key set PostgREST 12.0.2 reads as an HS256 secret made of its bytes.
MISREAD = jwks_corpus.misread_cases()["n with a leading zero octet"][0]
SIGNATURE_REFUSED = versions.profile(versions.TESTED_RELEASE).signature_refused


@pytest.fixture(scope="module")
def live(api):
    """One PostgREST 12.0.2 (this module's) whose key file the tests replace and reload."""
    return api.process, api.jwks_path, api.settings


def get(process, token: str) -> requests.Response:
    """What bin/prove-keys asks (key_proof.PROOF_PATH, the OpenAPI root)."""
    return requests.get(f"{process.base_url}{key_proof.PROOF_PATH}", headers={"Authorization": f"Bearer {token}"},
                        timeout=5)


def load(live, content: bytes, ready) -> None:
    """Replace the key file, SIGUSR2, and wait until ``ready(process)`` holds (a reload is asynchronous)."""
    process, path, _resolved = live
    path.write_bytes(content)
    process.reload()
    deadline = time.monotonic() + 6
    while not ready(process):
        assert time.monotonic() < deadline, "PostgREST did not take the new key file within 6 s"
        time.sleep(0.2)


def read_as_secret(live) -> None:
    resolved = live[2]
    load(live, MISREAD, lambda process: get(process, key_proof.forged_tokens(MISREAD, resolved)[0]).status_code == 200)


def read_as_keys(live, tenant) -> bytes:
    resolved = live[2]
    canonical = jwks.validate(tenant.jwks(), "tenant").canonical
    token = tenant.token("k1", audience=resolved.jwt_audience, issuer=resolved.jwt_issuer,
                         role_claim=resolved.jwt_role_claim, role="api_user")
    load(live, canonical, lambda process: get(process, token).status_code == 200)
    return canonical


def prove(live, key_file: bytes, skew: int) -> subprocess.CompletedProcess:
    """The rendered bin/prove-keys against this PostgREST, fed tokens made on a controller ``skew`` s off."""
    process, path, resolved = live
    script = path.parent / "prove-keys"
    script.write_bytes(render.render(stack_settings(postgrest_port=process.server_port),
                                     dict(SECRETS))["bin/prove-keys"].content)
    tokens = key_proof.forged_tokens(key_file, resolved, now=int(time.time()) + skew)
    return subprocess.run(["sh", str(script)], input=key_proof.stdin_for(tokens), capture_output=True, text=True,
                          timeout=60)


def description(response: requests.Response) -> str:
    header = response.headers.get("WWW-Authenticate", "")
    return header.partition('error_description="')[2].rstrip('"')


@pytest.mark.parametrize("skew", list(SKEWS.values()), ids=list(SKEWS))
def test_skewed_tokens_with_the_controllers_iat_would_get_a_claims_401(live, skew):
    """The hole the proof must not fall into: on a host that read the file as a secret,
    a token carrying the skewed controller's iat and a short exp is refused for its claims
    (401), which is no signature failure."""
    process, _path, resolved = live
    read_as_secret(live)
    now = int(time.time()) + skew
    claims = {"aud": resolved.jwt_audience, "iss": resolved.jwt_issuer, "iat": now, "exp": now + 900,
              resolved.jwt_role_claim: resolved.db_anon_role}
    answer = get(process, key_proof.hs256(MISREAD, claims))
    assert answer.status_code == 401
    assert description(answer) == ("JWTIssuedAtFuture" if skew > 0 else "JWT expired")
    assert description(answer) != SIGNATURE_REFUSED


@pytest.mark.parametrize("skew", list(SKEWS.values()), ids=list(SKEWS))
def test_a_file_read_as_a_secret_fails_the_proof_whatever_the_skew(live, skew):
    process, _path, resolved = live
    read_as_secret(live)
    # What the proof's own tokens get there: let through, whatever the controller's clock.
    tokens = key_proof.forged_tokens(MISREAD, resolved, now=int(time.time()) + skew)
    assert [get(process, token).status_code for token in tokens] == [200] * len(tokens)
    done = prove(live, MISREAD, skew)
    assert done.returncode == 3, done.stdout
    assert done.stderr.splitlines() == [
        "PostgREST read the key file as a shared secret: an HS256 token signed with its bytes answered 200, expected 401"]


@pytest.mark.parametrize("skew", [0, *SKEWS.values()], ids=["no skew", *SKEWS])
def test_a_file_read_as_keys_passes_the_proof_whatever_the_skew(live, tenant, skew):
    process, _path, resolved = live
    canonical = read_as_keys(live, tenant)
    done = prove(live, canonical, skew)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("key proof: ok")


def test_the_signature_failure_the_proof_expects_is_what_12_0_2_answers(live, tenant):
    """versions.profile("12.0.2").signature_refused, measured: the proof's tokens against
    a key file read as keys, and a token signed with another secret."""
    process, _path, resolved = live
    canonical = read_as_keys(live, tenant)
    answers = [get(process, token) for token in key_proof.forged_tokens(canonical, resolved)]
    answers.append(get(process, key_proof.hs256(b"another secret", {"aud": resolved.jwt_audience, "exp": 2**31})))
    assert [(answer.status_code, description(answer)) for answer in answers] == [(401, SIGNATURE_REFUSED)] * 3
    assert SIGNATURE_REFUSED == "JWSError JWSInvalidSignature"


def test_a_401_for_another_reason_fails_the_proof(live, tenant):
    """A 401 that is no signature failure is no proof: a key file with no usable key
    (12.0.2: "JWSError NoUsableKeys") fails it, with the reason PostgREST gave."""
    process, _path, resolved = live
    empty = b'{"keys":[]}'
    load(live, empty, lambda process: description(get(process, key_proof.forged_tokens(empty, resolved)[0]))
         == "JWSError NoUsableKeys")
    done = prove(live, empty, 0)
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        "key proof: an HS256 token signed with the key file's bytes answered 401 (JWSError NoUsableKeys), not the "
        f"signature failure ({SIGNATURE_REFUSED}) of a key file read as keys"]
    read_as_keys(live, tenant)
