"""The JWKS guard: fetch Auth0's key set and refuse anything PostgREST would misread.

PostgREST silently takes any ``jwt-secret`` file that is not a JWK/JWKS as an HS256
secret made of its bytes (every RS256 token then fails, and a token signed with those
bytes passes). So nothing reaches a host unless :func:`validate` accepted it.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from jwt.exceptions import InvalidKeyError

from .atomic_write import write_atomic

MAX_BYTES = 64 * 1024
MIN_RSA_BITS = 2048
FETCH_DEADLINE_SECONDS = 30.0
FETCH_ATTEMPTS = 3
RETRY_BACKOFF_SECONDS = 1.0  # doubled after each failed attempt
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth")


class JwksError(ValueError):
    """The key set is unusable; the message names the source and the problem."""


@dataclass(frozen=True)
class Jwks:
    raw: bytes
    kids: tuple[str, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


def validate(raw: bytes, source: str) -> Jwks:
    """Return the parsed key set, or raise JwksError naming what is wrong in ``source``."""
    if len(raw) > MAX_BYTES:
        raise JwksError(f"{source}: larger than {MAX_BYTES // 1024} KiB, not a JWKS")
    if not raw.strip():
        raise JwksError(f"{source}: empty, not a JWKS")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JwksError(f"{source}: not UTF-8 text, not a JWKS") from None
    if text.lstrip().startswith("<"):
        raise JwksError(f"{source}: an HTML/XML page, not a JWKS")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise JwksError(f"{source}: not valid JSON ({error.msg} at line {error.lineno} column {error.colno}); truncated?") from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksError(f"{source}: not a JWKS (expected an object with a 'keys' list)")
    keys = document["keys"]
    if not keys:
        raise JwksError(f"{source}: the key set is empty")
    kids: list[str] = []
    for index, key in enumerate(keys):
        kids.append(_validate_key(key, f"{source}: key {index}", kids))
    return Jwks(raw=raw, kids=tuple(kids))


def _validate_key(key: object, where: str, seen_kids: list[str]) -> str:
    if not isinstance(key, dict):
        raise JwksError(f"{where}: not a JSON object")
    kid = key.get("kid")
    if not isinstance(kid, str) or not kid:
        raise JwksError(f"{where}: missing or empty 'kid'")
    where = f"{where} (kid {kid!r})"
    if kid in seen_kids:
        raise JwksError(f"{where}: duplicate kid")
    kty = key.get("kty")
    if kty == "oct":
        raise JwksError(f"{where}: a symmetric (oct) key; only RSA public keys are accepted")
    if kty != "RSA":
        raise JwksError(f"{where}: key type {kty!r}; only RSA public keys are accepted")
    private = [name for name in PRIVATE_MEMBERS if name in key]
    if private:
        raise JwksError(f"{where}: contains private key material ({', '.join(private)}); publish public keys only")
    if key.get("use", "sig") != "sig":
        raise JwksError(f"{where}: 'use' is {key.get('use')!r}, expected 'sig'")
    if key.get("alg", "RS256") != "RS256":
        raise JwksError(f"{where}: 'alg' is {key.get('alg')!r}, expected 'RS256'")
    try:
        public_key = RSAAlgorithm.from_jwk(key)
    except (InvalidKeyError, ValueError, TypeError, KeyError) as error:
        raise JwksError(f"{where}: not a valid RSA public key ({error})") from None
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise JwksError(f"{where}: not an RSA public key")
    numbers = public_key.public_numbers()
    if public_key.key_size < MIN_RSA_BITS:
        raise JwksError(f"{where}: RSA key of {public_key.key_size} bits; at least {MIN_RSA_BITS} required")
    # SP 800-56B: odd, 2^16 < e < 2^256.
    if numbers.e % 2 == 0 or not 2**16 < numbers.e < 2**256:
        raise JwksError(f"{where}: unsafe RSA public exponent e={numbers.e}")
    if "x5c" in key:
        _validate_x5c(key, numbers, where)
    return kid


def _validate_x5c(key: dict, numbers: rsa.RSAPublicNumbers, where: str) -> None:
    chain = key["x5c"]
    if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
        raise JwksError(f"{where}: 'x5c' must be a non-empty list of base64 certificates")
    try:
        der = base64.b64decode(chain[0], validate=True)
        certificate = x509.load_der_x509_certificate(der)
        cert_key = certificate.public_key()
    except ValueError:
        raise JwksError(f"{where}: x5c[0] is not an X.509 certificate") from None
    if not isinstance(cert_key, rsa.RSAPublicKey) or cert_key.public_numbers() != numbers:
        raise JwksError(f"{where}: x5c[0] certificate holds a different public key than n/e")
    if "x5t" in key:
        thumbprint = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()
        if key["x5t"] != thumbprint:
            raise JwksError(f"{where}: x5t does not match the x5c[0] certificate")


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def read_source(source: str, *, deadline_seconds: float = FETCH_DEADLINE_SECONDS) -> bytes:
    """Read a JWKS from an https URL, a loopback http URL, a file:// URL or a path."""
    parts = urlsplit(source)
    if parts.scheme in ("", "file"):
        path = Path(unquote(parts.path) if parts.scheme == "file" else source)
        try:
            with path.open("rb") as handle:
                return handle.read(MAX_BYTES + 1)
        except OSError as error:
            raise JwksError(f"{source}: cannot read ({error.strerror})") from None
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise JwksError(f"{source}: plain http is only allowed to loopback; use https")
    if parts.scheme not in ("http", "https"):
        raise JwksError(f"{source}: unsupported URL scheme {parts.scheme!r}")
    return _fetch(source, deadline_seconds)


def _fetch(url: str, deadline_seconds: float) -> bytes:
    deadline = time.monotonic() + deadline_seconds
    last_error = "no attempt made"
    for attempt in range(FETCH_ATTEMPTS):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            return _fetch_once(url, deadline)
        except _Retryable as error:
            last_error = str(error)
        if attempt + 1 < FETCH_ATTEMPTS:
            time.sleep(min(RETRY_BACKOFF_SECONDS * 2**attempt, max(0.0, deadline - time.monotonic())))
    raise JwksError(f"{url}: gave up after {FETCH_ATTEMPTS} attempts within {deadline_seconds:.0f} s: {last_error}")


class _Retryable(Exception):
    pass


def _fetch_once(url: str, deadline: float) -> bytes:
    timeout = max(0.1, min(10.0, deadline - time.monotonic()))
    try:
        with requests.get(url, stream=True, timeout=(timeout, timeout), allow_redirects=False,
                          headers={"Accept": "application/json"}) as response:
            if response.status_code >= 500 or response.status_code == 429:
                raise _Retryable(f"HTTP {response.status_code}")
            if response.status_code != 200:
                raise JwksError(f"{url}: HTTP {response.status_code}, expected 200")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > MAX_BYTES:
                raise JwksError(f"{url}: larger than {MAX_BYTES // 1024} KiB, not a JWKS")
            body = b""
            for chunk in response.iter_content(chunk_size=8192):
                body += chunk
                if len(body) > MAX_BYTES:
                    raise JwksError(f"{url}: larger than {MAX_BYTES // 1024} KiB, not a JWKS")
                if time.monotonic() > deadline:
                    raise _Retryable("timed out while reading the body")
            return body
    except requests.exceptions.SSLError as error:
        raise JwksError(f"{url}: TLS verification failed ({error.__class__.__name__})") from None
    except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as error:
        raise _Retryable(f"{error.__class__.__name__}") from None


def fetch(source: str, *, deadline_seconds: float = FETCH_DEADLINE_SECONDS) -> Jwks:
    """Read and validate; raise JwksError with one line naming the problem."""
    return validate(read_source(source, deadline_seconds=deadline_seconds), source)


def fetch_to_file(source: str, out: Path, *, deadline_seconds: float = FETCH_DEADLINE_SECONDS) -> Jwks:
    """Fetch, validate, then write atomically (previous file kept as ``.prev``)."""
    jwks = fetch(source, deadline_seconds=deadline_seconds)
    write_atomic(out, jwks.raw, mode=0o644, keep_previous=True)
    return jwks
