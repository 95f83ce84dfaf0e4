"""The JWKS guard: fetch Auth0's key set, refuse anything unsafe, and write the canonical key file.

PostgREST silently takes any ``jwt-secret`` file it cannot parse as a JWK/JWKS as an
HS256 secret made of its bytes (every RS256 token then fails, and a token signed with
those bytes passes). Two defences:

- :func:`validate` checks the fetched document fully (key type, private members, use,
  alg, size, exponent, ``x5c[0]`` against ``n``/``e``, thumbprints, duplicate kids);
- what reaches hosts is never the fetched bytes but :attr:`Jwks.canonical`: a key set
  re-serialised from the validated numbers with only ``kty, kid, use, alg, n, e``
  (minimal big-endian ``n``/``e``, tenant order, fixed layout), a form PostgREST reads
  as keys. Members that make PostgREST fall back (``x5c`` chains, ``x5t#S256``,
  ``x5u``, ``key_ops``, a leading zero octet in ``n``) never reach it.

The deploy then proves after each reload that PostgREST really read keys
(tasks/keys.py, postgrest_stack/key_proof.py).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from jwt.exceptions import InvalidKeyError
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

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
    #: The key file pushed to hosts: canonical JSON, one line, ending in a newline.
    canonical: bytes
    kids: tuple[str, ...]
    #: One line each: accepted oddities the operator should know about (legacy x5t, ...).
    warnings: tuple[str, ...] = ()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical).hexdigest()


def b64url_uint(value: int) -> str:
    """RFC 7518 Base64urlUInt: the minimal big-endian octets, unpadded base64url."""
    octets = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return base64.urlsafe_b64encode(octets).rstrip(b"=").decode()


def canonical_bytes(keys: list[tuple[str, rsa.RSAPublicNumbers]]) -> bytes:
    """The key file for ``[(kid, numbers), ...]``: same keys, same bytes."""
    document = {"keys": [{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                          "n": b64url_uint(numbers.n), "e": b64url_uint(numbers.e)}
                         for kid, numbers in keys]}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=True).encode() + b"\n"


def validate(raw: bytes, source: str) -> Jwks:
    """Return the validated key set, or raise JwksError naming what is wrong in ``source``.

    A single JWK (an object with ``kty``) is accepted as a one-key set.
    """
    if len(raw) > MAX_BYTES:
        raise JwksError(f"{source}: larger than {MAX_BYTES // 1024} KiB, not a JWKS")
    if not raw.strip():
        raise JwksError(f"{source}: empty, not a JWKS")
    if raw.startswith(b"\xef\xbb\xbf"):
        # JSON forbids a byte order mark (RFC 8259 section 8.1) and a tenant never sends
        # one: an editor added it. Refused by name, not as "not valid JSON; truncated?".
        raise JwksError(f"{source}: starts with a UTF-8 byte order mark, which JSON forbids: save it without one")
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
    single = isinstance(document, dict) and "kty" in document and "keys" not in document
    warnings: list[str] = []
    if single:
        document = {"keys": [_with_kid(document, source, warnings)]}
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksError(f"{source}: not a JWKS (expected an object with a 'keys' list, or a single JWK)")
    keys = document["keys"]
    if not keys:
        raise JwksError(f"{source}: the key set is empty")
    validated: list[tuple[str, rsa.RSAPublicNumbers]] = []
    for index, key in enumerate(keys):
        where = f"{source}: key {index}" if not single else f"{source}: single JWK"
        kid, numbers = _validate_key(key, where, [kid for kid, _ in validated], warnings)
        validated.append((kid, numbers))
    return Jwks(canonical=canonical_bytes(validated), kids=tuple(kid for kid, _ in validated),
                warnings=tuple(warnings))


def _with_kid(jwk: dict, source: str, warnings: list[str]) -> dict:
    """A single JWK without ``kid`` (the tutorials' ``rsa.jwk.pub``) gets its RFC 7638 thumbprint."""
    if "kid" in jwk or not all(isinstance(jwk.get(name), str) for name in ("e", "kty", "n")):
        return jwk
    members = json.dumps({name: jwk[name] for name in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    kid = _b64url(hashlib.sha256(members.encode()).digest())
    warnings.append(f"{source}: single JWK without 'kid'; using its RFC 7638 thumbprint {kid!r} as kid")
    return {**jwk, "kid": kid}


def _validate_key(key: object, where: str, seen_kids: list[str],
                  warnings: list[str]) -> tuple[str, rsa.RSAPublicNumbers]:
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
    key_ops = key.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise JwksError(f"{where}: 'key_ops' is {key_ops!r}, which does not allow 'verify'")
    try:
        public_key = RSAAlgorithm.from_jwk({name: key[name] for name in ("kty", "n", "e") if name in key})
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
        _validate_x5c(key, numbers, where, warnings)
    return kid, numbers


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _validate_x5c(key: dict, numbers: rsa.RSAPublicNumbers, where: str, warnings: list[str]) -> None:
    """``x5c[0]`` must hold ``n``/``e``; thumbprints, where given, must be its own.

    Only the first certificate is read: it is the one that holds the key. The rest of
    the chain never reaches PostgREST (the canonical file has no ``x5c``).
    """
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
        sha1 = hashlib.sha1(der).digest()
        if key["x5t"] in (_b64url(sha1.hex().upper().encode()), _b64url(sha1.hex().encode())):
            # Auth0 tenants from before about 2020 publish base64url of the hex digest's
            # text, upper-case as measured on real ones (their kid too); lower-case is
            # the same thumbprint.
            warnings.append(f"{where}: legacy Auth0 x5t (base64url of the SHA-1's hex text); "
                            "accepted, the key file carries n/e only")
        elif key["x5t"] != _b64url(sha1):
            raise JwksError(f"{where}: x5t does not match the x5c[0] certificate")
    if "x5t#S256" in key and key["x5t#S256"] != _b64url(hashlib.sha256(der).digest()):
        raise JwksError(f"{where}: x5t#S256 does not match the x5c[0] certificate")


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
    if parts.scheme not in ("http", "https"):
        raise JwksError(f"{source}: unsupported URL scheme {parts.scheme!r}")
    # Parsed once, by the parser requests itself connects with, so the host checked is
    # the host reached (urlsplit and urllib3 disagree on e.g. "http://a\\@b/").
    if "\\" in source or any(c.isspace() for c in source):
        raise JwksError(f"{source}: a backslash or white space in a JWKS URL is refused")
    try:
        url = parse_url(source)
    except LocationParseError:
        raise JwksError(f"{source}: not a valid URL") from None
    if url.auth is not None:
        raise JwksError(f"{source}: a JWKS URL must not carry credentials ('user@')")
    loopback = _is_loopback(url.host.strip("[]") if url.host else None)
    if url.scheme == "http" and not loopback:
        raise JwksError(f"{source}: plain http is only allowed to loopback; use https")
    return _fetch(source, deadline_seconds, no_proxy=url.host if loopback else None)


def _fetch(url: str, deadline_seconds: float, no_proxy: str | None = None) -> bytes:
    """Up to FETCH_ATTEMPTS attempts, all within one wall-clock deadline."""
    deadline = time.monotonic() + deadline_seconds
    last_error = "no attempt made"
    attempts = 0
    while attempts < FETCH_ATTEMPTS and time.monotonic() < deadline:
        attempts += 1
        try:
            return _fetch_once_by(url, deadline, no_proxy)
        except _Retryable as error:
            last_error = str(error)
        if attempts < FETCH_ATTEMPTS:
            time.sleep(min(RETRY_BACKOFF_SECONDS * 2 ** (attempts - 1), max(0.0, deadline - time.monotonic())))
    raise JwksError(f"{url}: gave up after {attempts} attempt(s) within {deadline_seconds:g} s: {last_error}")


class _Retryable(Exception):
    pass


def _fetch_once_by(url: str, deadline: float, no_proxy: str | None) -> bytes:
    """One attempt that returns or fails by ``deadline``, however slowly the server
    trickles headers or body (socket timeouts only bound each read, not the total)."""
    outcome: queue.Queue = queue.Queue(maxsize=1)

    def attempt() -> None:
        try:
            outcome.put((True, _fetch_once(url, deadline, no_proxy)))
        except BaseException as error:  # handed to the caller
            outcome.put((False, error))

    # A daemon thread: a server that never finishes cannot hold the process either.
    threading.Thread(target=attempt, name="jwks-fetch", daemon=True).start()
    try:
        ok, value = outcome.get(timeout=max(0.0, deadline - time.monotonic()))
    except queue.Empty:
        raise _Retryable("no complete answer before the deadline") from None
    if ok:
        return value
    raise value


def _fetch_once(url: str, deadline: float, no_proxy: str | None) -> bytes:
    timeout = max(0.1, min(10.0, deadline - time.monotonic()))
    # A loopback source is fetched directly, never through HTTP(S)_PROXY/ALL_PROXY.
    proxies = {"no_proxy": no_proxy} if no_proxy else None
    try:
        with requests.get(url, stream=True, timeout=(timeout, timeout), allow_redirects=False, proxies=proxies,
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
            return body
    except requests.exceptions.SSLError as error:
        raise JwksError(f"{url}: TLS verification failed ({error.__class__.__name__})") from None
    except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as error:
        raise _Retryable(f"{error.__class__.__name__}") from None


def fetch(source: str, *, deadline_seconds: float = FETCH_DEADLINE_SECONDS) -> Jwks:
    """Read and validate; raise JwksError with one line naming the problem."""
    return validate(read_source(source, deadline_seconds=deadline_seconds), source)


def fetch_to_file(source: str, out: Path, *, deadline_seconds: float = FETCH_DEADLINE_SECONDS) -> Jwks:
    """Fetch, validate, then write the canonical key file atomically (previous kept as ``.prev``)."""
    jwks = fetch(source, deadline_seconds=deadline_seconds)
    write_atomic(out, jwks.canonical, mode=0o644, keep_previous=True)
    return jwks
