"""The reload proof: its tokens (HS256 made of the key file's exact bytes, and them less
a trailing newline, claiming only the anonymous role, with nothing a skewed clock turns
into a 401), and the rendered bin/prove-keys run in sh against a stand-in ``curl`` that
answers as PostgREST does: only a 401 for the signature passes, anything else fails
closed with one line. The same script against the real 12.0.2: tests/contract/test_key_file.py
and test_key_proof_skew.py."""

from __future__ import annotations

import os
import subprocess
import time

import jwt
import pytest

from postgrest_stack import key_proof, render, settings, versions
from tests.harness.local_pyinfra import CURL_ANSWER

#: PostgREST's leeway for exp/iat/nbf (every supported line: 30 s).
LEEWAY = 30
#: The controller's clock minus the host's.
SKEWS = [45, -17 * 60, 6 * 3600, -6 * 3600]


@pytest.fixture
def resolved(data):
    return settings.resolve(data)


def test_one_token_per_secret_form_each_verifying_with_exactly_those_bytes(resolved):
    key_file = b'{"keys":[]}\n'
    tokens = key_proof.forged_tokens(key_file, resolved, now=1_700_000_000)
    assert len(tokens) == 2
    options = {"verify_exp": False}
    first = jwt.decode(tokens[0], key_file, algorithms=["HS256"], audience=resolved.jwt_audience, options=options)
    second = jwt.decode(tokens[1], key_file[:-1], algorithms=["HS256"], audience=resolved.jwt_audience, options=options)
    assert first == second
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tokens[0], key_file[:-1], algorithms=["HS256"], audience=resolved.jwt_audience, options=options)
    # The anonymous role, nothing that could write; claims the stack would otherwise accept
    # (the pre-request guard wants exp, aud and the issuer).
    assert first[resolved.jwt_role_claim] == resolved.db_anon_role
    assert first["iss"] == resolved.jwt_issuer and first["exp"] == 1_700_000_000 + key_proof.LIFETIME_SECONDS


@pytest.mark.parametrize("skew", SKEWS)
def test_no_clock_skew_makes_the_tokens_refused_for_their_claims(resolved, skew):
    """Tokens made on a controller ``skew`` seconds off are valid on the host's clock with
    PostgREST's 30 s leeway: not issued in the future, not expired, not yet valid never."""
    host_now = int(time.time())
    key_file = b"a key file PostgREST took for an HS256 secret"
    (token,) = key_proof.forged_tokens(key_file, resolved, now=host_now + skew)
    claims = jwt.decode(token, key_file, algorithms=["HS256"], audience=resolved.jwt_audience, leeway=LEEWAY,
                        options={"require": ["exp"]})
    assert "iat" not in claims and "nbf" not in claims
    assert claims["exp"] > host_now + 300 * 24 * 3600


def test_no_newline_no_second_form(resolved):
    assert len(key_proof.forged_tokens(b"abc", resolved)) == 1
    assert key_proof.stdin_for(["a", "b"]) == "a\nb\n"


def test_proof_tokens_carry_no_kid(resolved):
    """From 13.0 PostgREST looks a token's kid up in the key set and refuses it when no key
    has it; a token without kid is tried against every key (CHANGELOG 13.0.0, #3598;
    docs/references/auth.rst v14.17, "kid verification"). A key file read as a shared
    secret is one key with no kid, so only a kid-less forged token can reveal it there."""
    for token in key_proof.forged_tokens(b'{"keys":[]}\n', resolved):
        assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}


# --- The rendered bin/prove-keys --------------------------------------------------------

#: The stand-in PostgREST: each request's arguments to $STUB_LOG, its header lines (what
#: curl reads with -H @-) to $STUB_STDIN; the answer is $STUB_STATE/answer: "CODE
#: [error_description]", or "000" for none.
STUB_CURL = "#!/bin/sh" + CURL_ANSWER + """
printf '%s\\n' "$*" >> "$STUB_LOG"
cat >> "$STUB_STDIN"
read -r code description < "$STUB_STATE/answer"
curl_answer "$code" "${description:-}" "$@"
"""
SIGNATURE_12 = "JWSError JWSInvalidSignature"
SIGNATURE_13_ON = "No suitable key or wrong key type"


@pytest.fixture
def prove(data, secrets, tmp_path):
    stub_bin = tmp_path / "stub-bin"
    stub_bin.mkdir()
    (stub_bin / "curl").write_text(STUB_CURL)
    (stub_bin / "curl").chmod(0o755)
    env = {**os.environ, "PATH": f"{stub_bin}:{os.environ['PATH']}", "STUB_STATE": str(tmp_path),
           "STUB_LOG": str(tmp_path / "argv"), "STUB_STDIN": str(tmp_path / "stdin")}

    def run(answer: str, tokens=("t0k3n-one", "t0k3n-two"), **overrides) -> subprocess.CompletedProcess:
        resolved = settings.resolve(dict(data, **overrides))
        script = tmp_path / "prove-keys"
        script.write_bytes(render.render(resolved, secrets)["bin/prove-keys"].content)
        (tmp_path / "answer").write_text(answer + "\n")
        for name in ("argv", "stdin"):
            (tmp_path / name).write_text("")
        return subprocess.run(["sh", str(script)], input=key_proof.stdin_for(list(tokens)), capture_output=True,
                              text=True, timeout=60, env=env)

    run.sent = lambda: ((tmp_path / "argv").read_text(), (tmp_path / "stdin").read_text())  # type: ignore[attr-defined]
    return run


def test_the_default_release_expects_12_0_2s_signature_failure(data):
    assert versions.profile(settings.resolve(data).postgrest_version).signature_refused == SIGNATURE_12


def test_a_401_for_the_signature_passes_and_each_token_goes_on_stdin_only(prove, data):
    done = prove(f"401 {SIGNATURE_12}")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"key proof: ok (HS256 tokens made of the key file were refused for their signature: " \
                          f"{SIGNATURE_12})\n"
    argv, stdin = prove.sent()
    url = f"{render.smoke_url(settings.resolve(data))}/"
    # Each token, each round, as a header read from stdin; never on a command line.
    assert argv.splitlines() == [f"-s -o /dev/null -D - -m 5 -w \\n%{{http_code}} -H @- {url}"] * 2 * key_proof.ROUNDS
    assert stdin.splitlines() == ["Authorization: Bearer t0k3n-one", "Authorization: Bearer t0k3n-two"] * key_proof.ROUNDS
    assert "t0k3n" not in argv


@pytest.mark.parametrize(("answer", "line"), [
    # Let through: the file was read as a shared secret.
    ("200", "PostgREST read the key file as a shared secret: an HS256 token signed with its bytes answered 200, "
            "expected 401"),
    # Verified, then refused for the role or the claims: read as a secret too.
    ("403", "PostgREST read the key file as a shared secret: an HS256 token signed with its bytes answered 403, "
            "expected 401"),
    ("401 JWT expired", "key proof: an HS256 token signed with the key file's bytes answered 401 (JWT expired), "
                        f"not the signature failure ({SIGNATURE_12}) of a key file read as keys"),
    ("401 JWTIssuedAtFuture", "key proof: an HS256 token signed with the key file's bytes answered 401 "
                              f"(JWTIssuedAtFuture), not the signature failure ({SIGNATURE_12}) of a key file read as keys"),
    # The pre-request guard's 401 (WWW-Authenticate: Bearer, no description).
    ("401", "key proof: an HS256 token signed with the key file's bytes answered 401 (no error_description), "
            f"not the signature failure ({SIGNATURE_12}) of a key file read as keys"),
    # Nothing proven either way.
    ("503", "key proof: PostgREST answered 503: cannot prove it read the key file as keys"),
    ("500", "key proof: PostgREST answered 500: cannot prove it read the key file as keys"),
])
def test_any_other_answer_fails_closed_with_one_line(prove, answer, line):
    done = prove(answer)
    assert done.returncode == 3
    assert (done.stdout, done.stderr.splitlines()) == ("", [line])


def test_no_answer_fails_closed(prove, data):
    done = prove("000")
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        f"key proof: no answer from PostgREST at {render.smoke_url(settings.resolve(data))}: cannot prove it read the "
        "key file as keys"]


def test_one_token_not_refused_fails_the_whole_proof(prove, tmp_path):
    """The second token (the bytes less the newline) answered 200 while the first was refused."""
    stub = tmp_path / "stub-bin" / "curl"
    stub.write_text(STUB_CURL.replace('read -r code description < "$STUB_STATE/answer"',
                                      'if grep -q two "$STUB_STDIN"; then code=200 description=; '
                                      f'else code=401 description="{SIGNATURE_12}"; fi'))
    done = prove("unused")
    assert done.returncode == 3 and "answered 200, expected 401" in done.stderr


def test_no_tokens_no_proof(prove):
    done = prove(f"401 {SIGNATURE_12}", tokens=())
    assert done.returncode == 2 and done.stderr == "prove-keys: no tokens on stdin\n"


def test_every_release_takes_either_wording_of_the_signature_failure(prove):
    """13.0 on (jose-jwt) words a token no key verifies otherwise than 12.x (jose); both
    mean only that, so each release takes both (a 12.0.2 binary under a 14 tag, as in
    tests/e2e/test_ready_healthcheck.py, must pass its proof), and no claims failure."""
    newer = {"postgrest_image": "postgrest/postgrest:v16.2"}
    for release in ({}, newer):
        assert prove(f"401 {SIGNATURE_13_ON}", **release).returncode == 0
        assert prove(f"401 {SIGNATURE_12}", **release).returncode == 0
        assert prove("401 JWT expired", **release).returncode == 3
