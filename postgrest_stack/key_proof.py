"""Proof that PostgREST read the key file as keys, not as a shared secret.

PostgREST takes a ``jwt-secret`` file it cannot parse as a JWK/JWKS as an HS256 secret
made of the file's bytes (for one form, the bytes less a trailing newline). The JWKS
guard and the canonical key file are meant to make that impossible; this proof holds
whatever they miss, and for any PostgREST version.

After every (re)load of the key file, the host's PostgREST is sent tokens signed HS256
with exactly those secrets (see ``bin/prove-keys``). PostgREST that read keys refuses
each for its signature: 401 with the release's signature failure
(:attr:`postgrest_stack.versions.Profile.signature_refused`, in ``WWW-Authenticate``).
Any other answer fails the proof, a 401 for another reason too: a token whose signature
PostgREST verified and then refused for its claims (expired, issued in the future) is
the proof that it read the file as a secret.

Clock skew between the controller and the host must never turn such a token into a 401:
the tokens carry no ``iat`` (PostgREST refuses one more than 30 s in the future) and an
``exp`` a year ahead (it refuses one more than 30 s past). They carry an ``exp`` at all
because the database's pre-request guard refuses a token without one: a host that falls
for them then answers 200, and the proof names that. The tokens claim the anonymous role
and are only used for a GET, so even a host that falls for them is not written to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .settings import Settings

#: What PostgREST that read the key file as keys answers to each forged token (with the
#: release's signature failure, versions.Profile.signature_refused).
REFUSED = "401"
#: How far ahead of the controller's clock a proof token expires: no clock skew a host
#: could run with turns it into "JWT expired".
LIFETIME_SECONDS = 366 * 24 * 3600
#: How often bin/prove-keys sends each token (a reload takes effect asynchronously).
#: What the proof and the smoke token ask for: the OpenAPI root, which every PostgREST
#: serves whatever the schema holds (no table of the operator's is needed). PostgREST
#: verifies a token before it routes, so the root answers for the signature like any path.
PROOF_PATH = "/"

ROUNDS = 2


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(secret: bytes, claims: dict) -> str:
    # By hand: PyJWT refuses some byte strings as HMAC keys, and any bytes may be in
    # the file this proof is about.
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}"
    return f"{signing_input}.{_b64url(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def secrets_of(key_file: bytes) -> list[bytes]:
    """The shared secrets PostgREST could make of ``key_file``: its bytes, and them less a trailing newline."""
    forms = [key_file]
    if key_file.endswith(b"\n"):
        forms.append(key_file[:-1])
    return forms


def forged_tokens(key_file: bytes, settings: Settings, now: int | None = None) -> list[str]:
    """One HS256 token per secret form, with claims the stack would otherwise accept.

    ``now``: the controller's clock (the tests shift it). No ``iat`` and no ``nbf``: a
    controller ahead of the host would make them "in the future"; ``exp`` a year ahead,
    so one behind it cannot make them expired."""
    now = int(time.time()) if now is None else now
    claims = {
        "aud": settings.jwt_audience,
        "iss": settings.jwt_issuer,
        "sub": "postgrest-stack key proof",
        "exp": now + LIFETIME_SECONDS,
        settings.jwt_role_claim: settings.db_anon_role,
    }
    return [hs256(secret, claims) for secret in secrets_of(key_file)]


def stdin_for(tokens: list[str]) -> str:
    """What ``bin/prove-keys`` reads: one token a line (never on a command line)."""
    return "".join(f"{token}\n" for token in tokens)
