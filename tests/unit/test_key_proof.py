"""The reload proof's tokens: HS256 made of the key file's exact bytes (and them less a
trailing newline), claiming only the anonymous role."""

from __future__ import annotations

import jwt
import pytest

from postgrest_stack import key_proof, settings


@pytest.fixture
def resolved(data):
    return settings.resolve(data)


def test_one_token_per_secret_form_each_verifying_with_exactly_those_bytes(resolved):
    key_file = b'{"keys":[]}\n'
    tokens = key_proof.forged_tokens(key_file, resolved, now=1_700_000_000)
    assert len(tokens) == 2
    options = {"verify_exp": False, "verify_iat": False}
    first = jwt.decode(tokens[0], key_file, algorithms=["HS256"], audience=resolved.jwt_audience, options=options)
    second = jwt.decode(tokens[1], key_file[:-1], algorithms=["HS256"], audience=resolved.jwt_audience, options=options)
    assert first == second
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tokens[0], key_file[:-1], algorithms=["HS256"], audience=resolved.jwt_audience, options=options)
    # The anonymous role, nothing that could write; claims the stack would otherwise accept.
    assert first[resolved.jwt_role_claim] == resolved.db_anon_role
    assert first["iss"] == resolved.jwt_issuer and first["exp"] - first["iat"] == key_proof.LIFETIME_SECONDS


def test_no_newline_no_second_form(resolved):
    assert len(key_proof.forged_tokens(b"abc", resolved)) == 1
    assert key_proof.stdin_for(["a", "b"]) == "a\nb\n"


def test_rendered_script_sends_the_tokens_from_stdin_only(resolved):
    from postgrest_stack import render
    from tests.unit.conftest import SECRETS

    script = render.render(resolved, dict(SECRETS))["bin/prove-keys"].content.decode()
    assert "read -r token" in script and "-H @-" in script and "[ \"$code\" != 401 ]" in script


def test_proof_tokens_carry_no_kid(resolved):
    """From 13.0 PostgREST looks a token's kid up in the key set and refuses it when no key
    has it; a token without kid is tried against every key (CHANGELOG 13.0.0, #3598;
    docs/references/auth.rst v14.17, "kid verification"). A key file read as a shared
    secret is one key with no kid, so only a kid-less forged token can reveal it there."""
    for token in key_proof.forged_tokens(b'{"keys":[]}\n', resolved):
        assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
