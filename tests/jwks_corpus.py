"""Key sets the JWKS guard must accept or refuse, built fresh from real keys.

Shared by the unit tests (guard), and later the deploy and rotation tests (a bad key
set must never reach a host). Each refused case carries the fragment its error names;
:func:`single_rule_cases` breaks one rule at a time, with the same set fixed beside it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from postgrest_stack import signing_keys

#: RFC 7518 section 6.3.2: the members of an RSA private key (listed here, not taken from
#: the guard, so a guard that forgets one still meets its case).
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth")


@lru_cache(maxsize=None)
def key(name: str):
    """A key per name, made once per test session; "small" is a 1024-bit key."""
    return signing_keys.generate_key(1024 if name == "small" else 2048)


def auth0_jwks(*names: str) -> dict:
    return {"keys": [signing_keys.public_jwk(key(n)) for n in names]}


def dumps(document) -> bytes:
    return json.dumps(document).encode()


def valid_cases() -> dict[str, bytes]:
    stripped = auth0_jwks("k1", "k2")
    for jwk in stripped["keys"]:
        del jwk["x5c"], jwk["x5t"]
    minimal = auth0_jwks("k1")
    for field in ("use", "alg"):
        del minimal["keys"][0][field]
    return {
        "auth0-shaped, two keys": dumps(auth0_jwks("k1", "k2")),
        "x5c and x5t stripped": dumps(stripped),
        "no use/alg members": dumps(minimal),
    }


def _with(document: dict, **changes) -> dict:
    first = dict(document["keys"][0], **changes)
    return {"keys": [first] + document["keys"][1:]}


def _without(document: dict, member: str) -> dict:
    first = {k: v for k, v in document["keys"][0].items() if k != member}
    return {"keys": [first] + document["keys"][1:]}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def misread_cases() -> dict[str, tuple[bytes, str]]:
    """Sound key sets that PostgREST 12.0.2 cannot parse as published (it falls back to
    an HS256 secret made of the bytes), but whose canonical file it reads as keys.
    Each maps to (published bytes, the warning fragment the guard prints, or "")."""
    good = auth0_jwks("k1", "k2")
    first = good["keys"][0]
    der = base64.b64decode(first["x5c"][0])
    sha1 = hashlib.sha1(der).digest()
    junk = base64.b64encode(os.urandom(200)).decode()
    return {
        "n with a leading zero octet": (dumps(_with(good, n=_b64url(b"\0" + _b64url_decode(first["n"])))), ""),
        "junk certificate after x5c[0]": (dumps(_with(good, x5c=first["x5c"] + [junk])), ""),
        "invalid x5u": (dumps(_with(good, x5u="not a URL at all")), ""),
        "unknown key_ops value": (dumps(_with(good, key_ops=["verify", "frobnicate"])), ""),
        "legacy Auth0 x5t (hex form)": (dumps(_with(good, x5t=_b64url(sha1.hex().encode()))), "legacy Auth0 x5t"),
        "legacy Auth0 x5t (upper-case hex form)": (dumps(_with(good, x5t=legacy_thumbprint(der))),
                                                   "legacy Auth0 x5t"),
    }


def legacy_thumbprint(der: bytes, upper: bool = True) -> str:
    """What Auth0 tenants of before about 2020 publish as x5t (and kid): base64url of the
    certificate SHA-1's hex text, upper-case on the real tenants measured (2017, 2019)."""
    text = hashlib.sha1(der).hexdigest()
    return _b64url((text.upper() if upper else text).encode())


def legacy_auth0_jwks(*names: str, upper: bool = True) -> dict:
    """A key set as a legacy Auth0 tenant publishes it: each key's kid and x5t the
    legacy thumbprint of its certificate."""
    document = auth0_jwks(*names)
    for jwk in document["keys"]:
        jwk["kid"] = jwk["x5t"] = legacy_thumbprint(base64.b64decode(jwk["x5c"][0]), upper)
    return document


def refused_cases() -> dict[str, tuple[bytes, str]]:
    good = auth0_jwks("k1", "k2")
    good_bytes = dumps(good)
    private = json.loads(RSAAlgorithm.to_jwk(key("k1")))
    private.update(kid="priv", use="sig", alg="RS256")
    ec_jwk = json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key()))
    ec_jwk.update(kid="ec1", use="sig")
    missing_kid = auth0_jwks("k1")
    del missing_kid["keys"][0]["kid"]
    other_cert = signing_keys.public_jwk(key("other"))["x5c"]
    duplicate = auth0_jwks("k1", "k2")
    duplicate["keys"][1]["kid"] = duplicate["keys"][0]["kid"]
    oversize = dict(good, padding="x" * (70 * 1024))
    return {
        "HTML page": (b"<!DOCTYPE html><html><body>Login</body></html>", "HTML"),
        "truncated JSON": (good_bytes[: len(good_bytes) // 2], "not valid JSON"),
        # issue 23.7: was "not valid JSON (...); truncated?"
        "UTF-8 byte order mark": (b"\xef\xbb\xbf" + good_bytes,
                                  "starts with a UTF-8 byte order mark, which JSON forbids: save it without one"),
        "empty file": (b"", "empty"),
        "newline only": (b"\n", "empty"),
        "empty key set": (b'{"keys": []}', "key set is empty"),
        "not a JWKS object": (b'{"issuer": "https://tenant.eu.auth0.com/"}', "expected an object with a 'keys' list"),
        "symmetric oct key": (dumps({"keys": [{"kty": "oct", "kid": "h1", "k": base64.urlsafe_b64encode(os.urandom(32)).decode()}]}), "symmetric (oct)"),
        "EC key": (dumps({"keys": [ec_jwk]}), "key type 'EC'"),
        "private RSA key": (dumps({"keys": [private]}), "private key material (d, p, q, dp, dq, qi)"),
        # Only the CRT members, no d: refused by the private-member rule alone.
        "private CRT members without d": (dumps(_with(good, p=private["p"], q=private["q"], dp=private["dp"])),
                                          "private key material (p, q, dp)"),
        "1024-bit key": (dumps(auth0_jwks("small")), "1024 bits"),
        "duplicate kid": (dumps(duplicate), "duplicate kid"),
        "missing kid": (dumps(missing_kid), "missing or empty 'kid'"),
        "x5c of another key": (dumps(_with(good, x5c=other_cert)), "different public key"),
        # No x5t to mismatch first: refused by comparing x5c[0] with n/e alone.
        "x5c of another key, no x5t": (dumps(_without(_with(good, x5c=other_cert), "x5t")), "different public key"),
        "x5c not a certificate": (dumps(_with(good, x5c=[base64.b64encode(os.urandom(300)).decode()])), "not an X.509 certificate"),
        "x5t mismatch": (dumps(_with(good, x5t="AAAA")), "x5t does not match"),
        "x5t#S256 of the wrong length": (dumps(_with(good, **{"x5t#S256": "AAAA"})), "x5t#S256 does not match"),
        "key_ops without verify": (dumps(_with(good, key_ops=["encrypt"])), "does not allow 'verify'"),
        "use enc": (dumps(_with(good, use="enc")), "'use' is 'enc'"),
        "alg HS256": (dumps(_with(good, alg="HS256")), "'alg' is 'HS256'"),
        "exponent 3": (dumps(_with(good, e="Aw")), "unsafe RSA public exponent"),
        "oversize body": (dumps(oversize), "larger than 64 KiB"),
    }



@dataclass(frozen=True)
class SingleRule:
    """A key set that breaks exactly one rule of the guard: ``bad`` is refused with
    ``fragment``, and ``fixed`` (the same set with that one violation undone) passes."""

    bad: bytes
    fixed: bytes
    fragment: str


def single_rule_cases() -> dict[str, SingleRule]:
    """One case per rule of the guard (postgrest_stack/jwks.py validate), each breaking that rule only.

    A case whose fixed form were refused too would break two rules, and would still be
    refused with the rule it is about removed: so the tests validate both forms.
    """
    good = auth0_jwks("k1", "k2")
    good_bytes = dumps(good)
    first = good["keys"][0]
    der = base64.b64decode(first["x5c"][0])
    private = json.loads(RSAAlgorithm.to_jwk(key("k1")))
    bare = _without(_without(good, "x5c"), "x5t")  # n/e only: the exponent cases change e alone
    other_cert = signing_keys.public_jwk(key("other"))["x5c"]
    duplicate = auth0_jwks("k1", "k2")
    duplicate["keys"][1]["kid"] = duplicate["keys"][0]["kid"]
    unique = {"keys": [duplicate["keys"][0], dict(duplicate["keys"][1], kid="k2-own-kid")]}
    cases = {
        # --- the document
        "larger than 64 KiB": SingleRule(dumps(dict(good, padding="x" * (70 * 1024))), good_bytes, "larger than 64 KiB"),
        "white space only": SingleRule(b" \n", good_bytes, "empty, not a JWKS"),
        "UTF-16 text": SingleRule(json.dumps(good).encode("utf-16"), good_bytes, "not UTF-8"),
        "HTML page around the set": SingleRule(b"<html><body><pre>" + good_bytes + b"</pre></body></html>", good_bytes,
                                               "an HTML/XML page"),
        "truncated JSON": SingleRule(good_bytes[: len(good_bytes) // 2], good_bytes, "not valid JSON"),
        "UTF-8 byte order mark": SingleRule(b"\xef\xbb\xbf" + good_bytes, good_bytes,
                                            "starts with a UTF-8 byte order mark"),
        "'key' for 'keys'": SingleRule(dumps({"key": good["keys"]}), good_bytes, "expected an object with a 'keys' list"),
        "a bare list of keys": SingleRule(dumps(good["keys"]), good_bytes, "expected an object with a 'keys' list"),
        "empty key set": SingleRule(b'{"keys": []}', dumps({"keys": good["keys"][:1]}), "the key set is empty"),
        # --- each key
        "key as a JSON string": SingleRule(dumps({"keys": [json.dumps(first)] + good["keys"][1:]}), good_bytes,
                                           "not a JSON object"),
        "missing kid": SingleRule(dumps(_without(good, "kid")), good_bytes, "missing or empty 'kid'"),
        "empty kid": SingleRule(dumps(_with(good, kid="")), good_bytes, "missing or empty 'kid'"),
        "duplicate kid": SingleRule(dumps(duplicate), dumps(unique), "duplicate kid"),
        "kty oct": SingleRule(dumps(_with(good, kty="oct")), good_bytes, "a symmetric (oct) key"),
        "kty EC": SingleRule(dumps(_with(good, kty="EC")), good_bytes, "key type 'EC'"),
        "no kty": SingleRule(dumps(_without(good, "kty")), good_bytes, "key type None"),
        "use enc": SingleRule(dumps(_with(good, use="enc")), good_bytes, "'use' is 'enc'"),
        "alg RS512": SingleRule(dumps(_with(good, alg="RS512")), good_bytes, "'alg' is 'RS512'"),
        "alg HS256": SingleRule(dumps(_with(good, alg="HS256")), good_bytes, "'alg' is 'HS256'"),
        "key_ops without verify": SingleRule(dumps(_with(good, key_ops=["encrypt"])),
                                             dumps(_with(good, key_ops=["verify"])), "does not allow 'verify'"),
        "key_ops a string": SingleRule(dumps(_with(good, key_ops="verify")), dumps(_with(good, key_ops=["verify"])),
                                       "does not allow 'verify'"),
        "n not base64url": SingleRule(dumps(_with(good, n="!" * 342)), good_bytes, "not a valid RSA public key"),
        "no e": SingleRule(dumps(_without(good, "e")), good_bytes, "not a valid RSA public key"),
        "1024-bit key": SingleRule(dumps(auth0_jwks("small")), dumps(auth0_jwks("k1")), "RSA key of 1024 bits"),
        # (An even exponent never reaches that rule: the RSA library refuses it as "not a
        # valid RSA public key" first.)
        "exponent 3": SingleRule(dumps(_with(bare, e="Aw")), dumps(bare), "unsafe RSA public exponent e=3"),
        "exponent of 2^256 or more": SingleRule(dumps(_with(bare, e=_b64url((2**256 + 1).to_bytes(33, "big")))),
                                                dumps(bare), "unsafe RSA public exponent"),
        "x5c a string": SingleRule(dumps(_with(good, x5c=first["x5c"][0])), good_bytes, "'x5c' must be a non-empty list"),
        "x5c empty": SingleRule(dumps(_with(good, x5c=[])), good_bytes, "'x5c' must be a non-empty list"),
        "x5c[0] not a certificate": SingleRule(dumps(_with(good, x5c=[base64.b64encode(os.urandom(300)).decode()])),
                                               good_bytes, "x5c[0] is not an X.509 certificate"),
        "x5c[0] of another key": SingleRule(dumps(_without(_with(good, x5c=other_cert), "x5t")),
                                            dumps(_without(good, "x5t")), "holds a different public key than n/e"),
        "x5t of another certificate": SingleRule(dumps(_with(good, x5t=_b64url(hashlib.sha1(b"other").digest()))),
                                                 good_bytes, "x5t does not match"),
        "x5t#S256 of another certificate": SingleRule(
            dumps(_with(good, **{"x5t#S256": _b64url(hashlib.sha256(b"other").digest())})),
            dumps(_with(good, **{"x5t#S256": _b64url(hashlib.sha256(der).digest())})), "x5t#S256 does not match"),
    }
    # Every private member on its own, on an otherwise sound public key.
    for member in PRIVATE_MEMBERS:
        value = private.get(member, [{"r": private["p"], "d": private["dp"], "t": private["qi"]}])
        cases[f"private member {member}"] = SingleRule(dumps(_with(good, **{member: value})), good_bytes,
                                                       f"contains private key material ({member})")
    return cases
