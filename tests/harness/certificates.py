"""A certificate authority the tests make, and the certificates it issues (tls_mode = files).

Real X.509 from ``cryptography``: a self-signed root, then server certificates for given
DNS names, written as PEM files the way an operator would hand them to the deploy
(``tls_cert_file``, ``tls_key_file``). Clients of the tests trust :attr:`TestCA.pem`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    cert_file: Path
    key_file: Path

    @property
    def serial(self) -> int:
        return self.certificate.serial_number


class TestCA:
    """``TestCA(directory)``: a root CA; ``issue(...)`` writes ``<name>.crt`` and ``<name>.key``."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path, name: str = "postgrest-stack test CA"):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self._name = subject
        self.certificate = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(days=1)).not_valid_after(_now() + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.pem_file = self.directory / "ca.crt"
        self.pem_file.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str, dns_names: tuple[str, ...], *, days: float = 90, not_before_days: float = -1,
              key_type: str = "ec", with_chain: bool = False, key_password: bytes | None = None) -> Issued:
        """A server certificate valid from ``not_before_days`` to ``days`` from now."""
        key = ec.generate_private_key(ec.SECP256R1()) if key_type == "ec" else rsa.generate_private_key(65537, 2048)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0] if dns_names else name)]))
            .issuer_name(self._name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(_now() + datetime.timedelta(days=not_before_days))
            .not_valid_after(_now() + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        cert_file, key_file = self.directory / f"{name}.crt", self.directory / f"{name}.key"
        chain = certificate.public_bytes(serialization.Encoding.PEM)
        if with_chain:
            chain += self.certificate.public_bytes(serialization.Encoding.PEM)
        cert_file.write_bytes(chain)
        encryption = (serialization.BestAvailableEncryption(key_password) if key_password
                      else serialization.NoEncryption())
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                               encryption))
        key_file.chmod(0o600)
        return Issued(certificate, cert_file, key_file)
