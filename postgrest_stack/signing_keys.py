"""RSA signing keys published as an Auth0-shaped JWKS, and tokens signed with them.

Used by the local inventory (a development key stands in for an Auth0 tenant) and by
the tests' stand-in for Auth0's JWKS endpoint. Keys are published the way Auth0 does:
``kty, use, n, e, kid, x5t, x5c, alg`` with a self-signed certificate in ``x5c``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
import uuid
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .atomic_write import write_atomic


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def generate_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def self_signed_certificate(key: rsa.RSAPrivateKey, common_name: str = "dev-tenant") -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )


def kid_of(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    """A stable kid: a digest of the public key, as Auth0's kids are opaque stable strings."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:18]).decode()


def public_jwk(key: rsa.RSAPrivateKey, certificate: x509.Certificate | None = None) -> dict:
    """An Auth0-shaped public JWK for ``key``."""
    certificate = certificate or self_signed_certificate(key)
    der = certificate.public_bytes(serialization.Encoding.DER)
    numbers = key.public_key().public_numbers()
    return {
        "kty": "RSA",
        "use": "sig",
        "n": _b64url_uint(numbers.n),
        "e": _b64url_uint(numbers.e),
        "kid": kid_of(key),
        "x5t": base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode(),
        "x5c": [base64.b64encode(der).decode()],
        "alg": "RS256",
    }


def jwks_bytes(keys: list[rsa.RSAPrivateKey]) -> bytes:
    return json.dumps({"keys": [public_jwk(k) for k in keys]}, indent=2).encode() + b"\n"


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path}: not an RSA private key")
    return key


def local_jwks_path(jwks_url: str) -> Path | None:
    """Where the development JWKS is written: ``jwks_url`` as a path or ``file://`` URL
    (relative to the project root); None for an http(s) URL, which is only read."""
    from urllib.parse import unquote, urlsplit

    from . import project_path

    parts = urlsplit(jwks_url)
    if parts.scheme == "file":
        return project_path(unquote(parts.path))
    if parts.scheme:
        return None
    return project_path(jwks_url)


def ensure_dev_key(key_path: Path, jwks_url: str) -> rsa.RSAPrivateKey:
    """Create the development signing key (0600, in a 0700 directory) once, and its JWKS
    where ``jwks_url`` is a local file (an http(s) URL is served by someone else)."""
    if key_path.exists():
        key = load_private_key(key_path)
    else:
        key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = generate_key()
        write_atomic(key_path, private_pem(key), mode=0o600)
    jwks_path = local_jwks_path(jwks_url)
    if jwks_path is not None and not jwks_path.exists():
        jwks_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(jwks_path, jwks_bytes([key]), mode=0o644)
    return key


def mint_token(
    key: rsa.RSAPrivateKey,
    *,
    audience: str | None,
    issuer: str | None,
    role_claim: str,
    role: str | None,
    ttl_seconds: int | None = 3600,
    kid: str | None = None,
    algorithm: str = "RS256",
    extra: dict | None = None,
) -> str:
    """A signed token shaped like Auth0's: sub, iat, exp, aud, iss and the namespaced role."""
    now = int(time.time())
    claims: dict = {"sub": f"auth0|{uuid.uuid4().hex[:24]}", "iat": now}
    if ttl_seconds is not None:
        claims["exp"] = now + ttl_seconds
    if audience is not None:
        claims["aud"] = audience
    if issuer is not None:
        claims["iss"] = issuer
    if role is not None:
        claims[role_claim] = role
    claims.update(extra or {})
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid or kid_of(key)})
