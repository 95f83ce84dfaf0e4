"""SCRAM-SHA-256 verifiers, so the roles SQL never carries a plain password.

PostgreSQL stores a password given in its SCRAM verifier form as is. Sending that form
keeps the plain password out of the SQL file, out of psql's error output (which quotes
a failing statement) and out of the server log's ``STATEMENT:`` lines: what could leak
costs an attacker 4096 PBKDF2 rounds per guess, as the server's own catalog does.

The salt is derived from the stack name and the role, not random, so the same
settings render the same bytes (a rerun changes nothing).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import stringprep
import unicodedata

ITERATIONS = 4096  # PostgreSQL's default scram_iterations


def _saslprep(password: str) -> bytes:
    """RFC 4013 as PostgreSQL applies it: spaces mapped, 'nothing' characters dropped,
    NFKC; where a prohibited character remains, PostgreSQL uses the raw bytes."""
    if password.isascii():
        return password.encode()
    mapped = "".join(" " if stringprep.in_table_c12(c) else c for c in password if not stringprep.in_table_b1(c))
    normalized = unicodedata.normalize("NFKC", mapped)
    prohibited = (stringprep.in_table_c12, stringprep.in_table_c21_c22, stringprep.in_table_c3,
                  stringprep.in_table_c4, stringprep.in_table_c5, stringprep.in_table_c6,
                  stringprep.in_table_c7, stringprep.in_table_c8, stringprep.in_table_c9)
    if any(check(c) for c in normalized for check in prohibited):
        return password.encode()
    return normalized.encode()


def verifier(password: str, *, stack_name: str, role: str) -> str:
    salt = hashlib.sha256(f"postgrest-stack scram salt\0{stack_name}\0{role}".encode()).digest()[:16]
    salted = hashlib.pbkdf2_hmac("sha256", _saslprep(password), salt, ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    return f"SCRAM-SHA-256${ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
