"""The TLS edge: Caddy in front of PostgREST when ``tls_mode`` is not ``off``.

Pure, as render.py: no host, no pyinfra. This module says which files the edge keeps
under ``app_dir`` (its Caddyfile and, for ``tls_mode = files``, the certificate and its
key), where the host itself reaches it (the health gate), and reads and checks the
operator's certificate on the controller, before any host is touched:

- the certificate file holds PEM certificates, the first one the server's own (its
  chain may follow), the key file an unencrypted PEM private key (RSA, ECDSA or
  Ed25519: what Caddy can serve);
- the key is the certificate's (their public keys are equal);
- the certificate names ``public_hostname`` (subjectAltName DNS names, one wildcard
  label allowed), is valid now and for at least :data:`EXPIRY_MARGIN` more.

Each refusal is one line naming the setting (``tls_cert_file`` or ``tls_key_file``).
Hosts receive the validated certificates and key re-serialised as PEM (PKCS#8 for the
key), never the file's other text.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from . import project_path
from .settings import Settings, SettingsError

#: The edge's directory under app_dir (its files: layout.py), mounted at /etc/caddy
#: (the official image's config directory).
EDGE_DIR = "edge"
#: Where compose mounts EDGE_DIR inside the edge container.
CONFIG_IN_CONTAINER = "/etc/caddy"
#: Swagger UI's path on the edge (with swagger_enabled); the API has every other path.
SWAGGER_PATH = "/docs/"
#: A certificate expiring sooner than this is refused (tls_mode = files).
EXPIRY_MARGIN = datetime.timedelta(days=14)


@dataclass(frozen=True)
class CertificatePair:
    """The operator's certificate (with its chain) and key, validated, as hosts get them."""

    certificate: bytes  # PEM, the server's certificate first
    key: bytes  # PEM, PKCS#8, unencrypted
    not_after: datetime.datetime
    serial: int


def public_origin(settings: Settings) -> str:
    """``https://<public_hostname>`` (with ``:<edge_https_port>`` unless it is 443)."""
    port = "" if settings.edge_https_port == 443 else f":{settings.edge_https_port}"
    return f"https://{settings.public_hostname}{port}"


def local_address(settings: Settings) -> str:
    """Where the host itself reaches the edge's published ports (the health gate)."""
    address = ipaddress.ip_address(settings.edge_bind)
    if address.is_unspecified:
        return "::1" if address.version == 6 else "127.0.0.1"
    return settings.edge_bind


def _read(setting: str, name: str) -> bytes:
    path = project_path(name)
    try:
        return path.read_bytes()
    except OSError as error:
        raise SettingsError(f"setting '{setting}': cannot read {path}: {error.strerror or error}") from None


def _names(certificate: x509.Certificate) -> list[str]:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [name.lower() for name in san.get_values_for_type(x509.DNSName)]


def covers(names: list[str], hostname: str) -> bool:
    """A certificate with these DNS names is valid for ``hostname`` (RFC 6125: a wildcard
    stands for exactly one whole left-most label)."""
    hostname = hostname.lower().rstrip(".")
    for name in names:
        name = name.rstrip(".")
        if name == hostname:
            return True
        if name.startswith("*.") and "." in hostname and hostname.split(".", 1)[1] == name[2:]:
            return True
    return False


def load_pair(settings: Settings, now: datetime.datetime | None = None) -> CertificatePair:
    """Read and check ``tls_cert_file`` and ``tls_key_file`` (tls_mode = files)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    # resolve() refuses tls_mode = files without these (one line naming the setting).
    assert settings.tls_cert_file and settings.tls_key_file and settings.public_hostname
    cert_text = _read("tls_cert_file", settings.tls_cert_file)
    key_text = _read("tls_key_file", settings.tls_key_file)
    try:
        chain = x509.load_pem_x509_certificates(cert_text)
    except ValueError:
        raise SettingsError(f"setting 'tls_cert_file' must name a file of PEM certificates (the server's first, "
                            f"then its chain), got {settings.tls_cert_file!r}") from None
    try:
        key = serialization.load_pem_private_key(key_text, password=None)
    except TypeError:
        raise SettingsError("setting 'tls_key_file' must be an unencrypted PEM private key (Caddy cannot ask for "
                            "a passphrase)") from None
    except ValueError:
        raise SettingsError(f"setting 'tls_key_file' must name a PEM private key, got {settings.tls_key_file!r}") \
            from None
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)):
        raise SettingsError("setting 'tls_key_file' must hold an RSA, ECDSA or Ed25519 key (what Caddy serves)")
    leaf = chain[0]
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if (key.public_key().public_bytes(serialization.Encoding.DER, public)
            != leaf.public_key().public_bytes(serialization.Encoding.DER, public)):
        raise SettingsError(f"setting 'tls_key_file' does not match 'tls_cert_file': the key is not the "
                            f"certificate's ({settings.tls_key_file} vs {settings.tls_cert_file})")
    names = _names(leaf)
    if not covers(names, settings.public_hostname):
        raise SettingsError(f"setting 'tls_cert_file' does not name public_hostname {settings.public_hostname!r} "
                            f"(its DNS names: {', '.join(names) or 'none'})")
    not_after = leaf.not_valid_after_utc
    if leaf.not_valid_before_utc > now:
        raise SettingsError(f"setting 'tls_cert_file' is not valid yet (from "
                            f"{leaf.not_valid_before_utc:%Y-%m-%d %H:%M} UTC)")
    if not_after - now < EXPIRY_MARGIN:
        state = "expired" if not_after <= now else "expires"
        raise SettingsError(f"setting 'tls_cert_file' {state} on {not_after:%Y-%m-%d %H:%M} UTC, within "
                            f"{EXPIRY_MARGIN.days} days: renew it before deploying")
    certificate = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return CertificatePair(certificate, key_pem, not_after, leaf.serial_number)
