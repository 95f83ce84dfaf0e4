"""Digests the probe prints, without giving away a secret.

The probe runs with pyinfra, whose ``-vvv`` prints its output. A plain SHA-256 of a
secret file (``.env``, the superuser's password file, the roles SQL) is a fast hash of
a password: anyone with the log could test guesses offline at GPU speed. So secret
files are digested with a key, ``sha256(key || content)``, and the key is made from
the stack's secrets with scrypt: testing one guess then costs an scrypt, and the key
itself (kept on the host in ``.digest-key``, 0600, written like any other file) is
never printed. The controller derives the same key and compares.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache


def digest_key(secrets: dict[str, str], stack_name: str) -> bytes:
    """The key file's content for these secrets (same secrets, same key)."""
    return _derive(json.dumps(secrets, sort_keys=True), stack_name)


@lru_cache(maxsize=16)
def _derive(material: str, stack_name: str) -> bytes:
    key = hashlib.scrypt(material.encode(), salt=b"postgrest-stack digest key\0" + stack_name.encode(),
                         n=2**14, r=8, p=1, dklen=32)
    return key.hex().encode() + b"\n"


def keyed(key: bytes, content: bytes) -> str:
    """What the probe prints for a secret file: ``sha256(key file bytes || content)``."""
    return hashlib.sha256(key + content).hexdigest()
