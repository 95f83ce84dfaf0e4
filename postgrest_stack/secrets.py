"""Find the stack's secrets: database superuser and authenticator passwords.

They never live in git, in host data or on a command line. group_data/all.py holds
only :class:`SecretRef` placeholders, which pyinfra's debug-inventory prints masked.
Values are looked up in the environment (``STACK_POSTGRES_PASSWORD``,
``STACK_AUTHENTICATOR_PASSWORD``), then in the uncommitted ``secrets_file``
(``KEY=value`` lines with the same names). A value given in host data or with
``--data`` is refused (it would be printed by pyinfra and kept in shell history). With
``generate_secrets`` (the local inventory) a missing one is generated once into that
file (0600; its directory is created 0700 when it does not exist yet, and an existing
one is never changed) and reused afterwards; otherwise a missing secret is a
one-line error naming it and how to provide it.
"""

from __future__ import annotations

import os
import re
import secrets as random_source
from pathlib import Path
from typing import Any, Mapping

from . import project_path
from .atomic_write import write_atomic
from .settings import SECRET_VARIABLES, SecretRef, SettingsError

__all__ = ["SECRET_VARIABLES", "SecretRef", "load", "secrets_path"]


# Safe in a .env file, a libpq URI and a SQL literal without any quoting games.
_ALLOWED = re.compile(r"^[A-Za-z0-9._~+/=-]{16,128}$")


def _read_secrets_file(path: Path) -> dict[str, str]:
    values = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise SettingsError(f"{path}:{number}: expected KEY=value")
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip()
    return values


def secrets_path(data: Mapping[str, Any]) -> Path | None:
    name = data.get("secrets_file")
    return project_path(name) if name else None


def load(data: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return ``{setting name: value}`` for every secret, or raise SettingsError."""
    environ = os.environ if environ is None else environ
    path = secrets_path(data)
    from_file = _read_secrets_file(path) if path and path.exists() else {}
    found: dict[str, str] = {}
    missing = []
    for name, variable in SECRET_VARIABLES.items():
        given = data.get(name)
        if given and not isinstance(given, SecretRef):
            raise SettingsError(
                f"secret '{name}' must not be given in host data or with --data (it would be printed): "
                f"set {variable} in the environment or in secrets_file"
            )
        value = environ.get(variable) or from_file.get(variable)
        if value:
            if not _ALLOWED.match(str(value)):
                raise SettingsError(
                    f"secret '{name}' must be 16-128 characters of A-Z a-z 0-9 . _ ~ + / = -"
                )
            found[name] = str(value)
        else:
            missing.append(name)
    if missing and data.get("generate_secrets") and path:
        generated = {name: random_source.token_urlsafe(24) for name in missing}
        _append(path, {SECRET_VARIABLES[n]: v for n, v in generated.items()})
        found.update(generated)
        missing = []
    if missing:
        name = missing[0]
        where = f" or add {SECRET_VARIABLES[name]}=... to {path}" if path else ""
        raise SettingsError(f"missing secret '{name}': set {SECRET_VARIABLES[name]} in the environment{where}")
    return found


def _append(path: Path, values: dict[str, str]) -> None:
    _private_directory(path.parent)
    existing = path.read_bytes() if path.exists() else b"# Generated secrets: never commit this file.\n"
    added = "".join(f"{key}={value}\n" for key, value in values.items()).encode()
    write_atomic(path, existing + added, mode=0o600)


def _private_directory(directory: Path) -> None:
    """Create ``directory`` 0700 when it does not exist. An existing one is left as it
    is: it may be shared (0755) or the project root."""
    if directory.is_dir():
        return
    directory.parent.mkdir(parents=True, exist_ok=True)
    try:
        directory.mkdir(mode=0o700)
    except FileExistsError:
        return
    os.chmod(directory, 0o700)  # whatever the umask
