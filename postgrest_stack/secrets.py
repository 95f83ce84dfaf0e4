"""Find the stack's secrets: database superuser and authenticator passwords.

They never live in git, in host data or on a command line. group_data/all.py holds
only :class:`SecretRef` placeholders, which pyinfra's debug-inventory prints masked.
A value given in host data or with ``--data`` is refused (it would be printed by pyinfra
and kept in shell history).

Sources, per variable (``STACK_POSTGRES_PASSWORD``, ``STACK_AUTHENTICATOR_PASSWORD``):

1. the environment (a CI job's or a one-off override of a single variable);
2. else the standard output of ``secrets_command`` when it is set (``sops -d``,
   ``op inject``, ...): run once per process on the controller, read into memory, never
   written anywhere; it is not run when the environment holds every secret;
3. else the uncommitted ``secrets_file``, when ``secrets_command`` is not set (both with
   the file present is refused: one place holds the secrets, not two that may disagree).

The file and the command's output are dotenv text, parsed by python-dotenv (quotes,
``export``, comments) and checked strictly: a line dotenv cannot read, a key given twice
or a key that is no secret variable is refused with its line number, never its value.
The file must be 0600 (nothing for group or others). With ``generate_secrets`` (the
local inventory) a missing one is generated once into that file (0600; its directory is
created 0700 when it does not exist yet, and an existing one is never changed) and reused
afterwards; otherwise a missing secret is a one-line error naming it and how to provide it.

Every value must fit :data:`ALPHABET`: what ``openssl rand -base64`` and password
managers produce, less what the host's ``.env`` cannot carry the same way to both
Compose v1 and v2 and to ``docker run --env-file`` (see :func:`_check_value`).
"""

from __future__ import annotations

import difflib
import io
import os
import secrets as random_source
import stat
import subprocess
import unicodedata
from pathlib import Path
from typing import Any, Mapping

from . import project_path, project_root
from .atomic_write import write_atomic
from .settings import SECRET_VARIABLES, SecretRef, SettingsError

__all__ = ["ALPHABET", "SECRET_VARIABLES", "SecretRef", "load", "parse", "secrets_path"]

LENGTH = (16, 128)

#: Characters a secret may hold: ASCII letters, digits and every printable punctuation
#: character but those in :data:`REFUSED`.
ALPHABET = frozenset(chr(c) for c in range(0x21, 0x7F)) - set("$'\"")

#: Printable ASCII characters refused, and why (docs/settings.md's Secrets section says the same).
REFUSED = {
    " ": "space: a .env value ends at whitespace before '#', and Compose trims it",
    "$": "Compose v2 expands $NAME in .env while v1 keeps it, so the two would log in with different passwords",
    "'": "single quote: Compose reads a .env value starting with a quote as quoted, docker --env-file does not",
    '"': "double quote: Compose reads a .env value starting with a quote as quoted, docker --env-file does not",
}

#: Seconds secrets_command may take (a manager's unlock prompt included).
COMMAND_TIMEOUT = 60

#: secrets_command -> its parsed output, or the refusal it gave: run once per process
#: (deploy.py loads the secrets for every host), kept in memory only.
_command_results: dict[str, dict[str, str] | SettingsError] = {}


def secrets_path(data: Mapping[str, Any]) -> Path | None:
    name = data.get("secrets_file")
    return project_path(name) if name else None


def load(data: Mapping[str, Any], environ: Mapping[str, str] | None = None, *,
         missing_ok: bool = False) -> dict[str, str]:
    """Return ``{setting name: value}`` for every secret, or raise SettingsError.

    ``missing_ok`` (status, read-only): the secrets that are there, none generated; a
    missing one is left out instead of refused (a bad value or file still is)."""
    environ = os.environ if environ is None else environ
    for name, variable in SECRET_VARIABLES.items():
        given = data.get(name)
        if given and not isinstance(given, SecretRef):
            raise SettingsError(
                f"secret '{name}' must not be given in host data or with --data (it would be printed): "
                f"set {variable} in the environment, in secrets_file or in the output of secrets_command"
            )
    path = secrets_path(data)
    command = _command_setting(data, path)
    found: dict[str, str] = {}
    for name, variable in SECRET_VARIABLES.items():
        if environ.get(variable):
            found[name] = _check_value(name, f"${variable}", str(environ[variable]))
    # The file is read (and its mode checked) whenever it exists; the command runs only
    # when the environment lacks a secret (it may prompt to unlock a vault).
    source, other = str(path), (_read_secrets_file(path) if command is None and path and path.exists() else {})
    if command is not None and len(found) < len(SECRET_VARIABLES):
        source, other = "secrets_command's output", _command_output(command)
    for name, variable in SECRET_VARIABLES.items():
        if name not in found and other.get(variable):
            found[name] = _check_value(name, f"{variable} in {source}", other[variable])
    missing = [name for name in SECRET_VARIABLES if name not in found]
    if missing_ok:
        return {name: found[name] for name in SECRET_VARIABLES if name in found}
    if missing and data.get("generate_secrets") and path:
        generated = {name: random_source.token_urlsafe(24) for name in missing}
        _append(path, {SECRET_VARIABLES[n]: v for n, v in generated.items()})
        found.update(generated)
        missing = []
    if missing:
        name = missing[0]
        variable = SECRET_VARIABLES[name]
        if command is not None:
            where = f" or have secrets_command print {variable}=..."
        else:
            where = f" or add {variable}=... to {path}" if path else ""
        raise SettingsError(f"missing secret '{name}': set {variable} in the environment{where}")
    return {name: found[name] for name in SECRET_VARIABLES}


def _command_setting(data: Mapping[str, Any], path: Path | None) -> str | None:
    command = data.get("secrets_command")
    if command is None:
        return None
    if not isinstance(command, str) or not command.strip():
        raise SettingsError(f"setting 'secrets_command' must be a shell command string, got {command!r}")
    if data.get("generate_secrets"):
        raise SettingsError("settings 'secrets_command' and 'generate_secrets' exclude each other: generated "
                            "secrets go to secrets_file; set generate_secrets = False")
    if path and path.exists():
        raise SettingsError(f"settings 'secrets_command' and 'secrets_file' are both set and {path} exists: keep "
                            "one source of secrets (delete the file, or set secrets_file = None)")
    return command


def _check_value(name: str, where: str, value: str) -> str:
    """``value``, if every place a password goes takes it as it is; else one line naming
    the first character refused. The SQL gets a SCRAM verifier (scram.py) and PostgREST's
    config no password, so the limits are the host's ``.env``: Compose v1 and v2 read it
    (``${AUTHENTICATOR_PASSWORD}`` in compose.yaml), and ``docker run --env-file`` (the
    external database's psql) takes its values literally, quotes included. A value is
    written there unquoted, so it must read the same in all three."""
    for character in value:
        if character not in ALPHABET:
            raise SettingsError(f"secret '{name}' ({where}) contains {_describe(character)}: a secret is "
                                f"{LENGTH[0]}-{LENGTH[1]} printable ASCII characters but space $ ' \" "
                                "(docs/settings.md: Secrets)")
    if not LENGTH[0] <= len(value) <= LENGTH[1]:
        raise SettingsError(f"secret '{name}' ({where}) is {len(value)} characters long: it must be "
                            f"{LENGTH[0]}-{LENGTH[1]} (openssl rand -base64 32 gives 44)")
    return value


def _describe(character: str) -> str:
    if character in REFUSED:
        return f"{character!r} ({REFUSED[character]})"
    if character.isprintable() and not character.isspace():
        name = unicodedata.name(character, "a character").lower()
        return f"{character!r} ({name}: not ASCII, which PostgreSQL's SCRAM would normalize)"
    return f"U+{ord(character):04X} (whitespace or a control character)"


def _read_secrets_file(path: Path) -> dict[str, str]:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SettingsError(f"secrets_file {path} is open to group or others (mode {mode:04o}): "
                            f"run chmod 600 {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise SettingsError(f"secrets_file {path}: not UTF-8 text (byte {error.start})") from None
    return parse(text, str(path))


def parse(text: str, source: str) -> dict[str, str]:
    """``{variable: value}`` of dotenv ``text`` (python-dotenv's format: ``KEY=value``,
    ``export KEY=value``, single or double quotes, ``#`` comments, blank lines), or one
    line naming ``source`` and the line number. Never a value in the message: a line
    dotenv cannot read may be a bare password, and so may a key no secret resembles."""
    # Imported here: only a run that reads a file or a command's output needs python-dotenv.
    from dotenv import dotenv_values
    from dotenv.parser import parse_stream  # the line numbers and errors dotenv_values only logs

    seen: dict[str, int] = {}
    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.line
        if binding.error:
            raise SettingsError(f"{source}:{line}: not a KEY=value line (an unclosed quote?)")
        if binding.key is None:
            continue
        if binding.key not in SECRET_VARIABLES.values():
            raise SettingsError(f"{source}:{line}: {_unknown(binding.key)}")
        if binding.value is None:
            raise SettingsError(f"{source}:{line}: {binding.key} has no '=value'")
        if not binding.value:
            raise SettingsError(f"{source}:{line}: {binding.key} is empty (a '#' after a space starts a comment: "
                                "quote the value)")
        if binding.key in seen:
            raise SettingsError(f"{source}:{line}: {binding.key} is given twice (first on line {seen[binding.key]})")
        seen[binding.key] = line
    values = dotenv_values(stream=io.StringIO(text), interpolate=False)
    return {key: value for key, value in values.items() if value is not None}


def _unknown(key: str) -> str:
    known = sorted(SECRET_VARIABLES.values())
    close = difflib.get_close_matches(key.upper(), known, n=1, cutoff=0.6)
    # The key is shown only when it reads as a misspelt variable: else it may be a password
    # on a line of its own (base64 ends in '=', so dotenv takes it as a key).
    if close:
        return f"unknown key '{key}'; did you mean '{close[0]}'?"
    if key.startswith("STACK_"):
        return f"unknown key '{key}' (known: {', '.join(known)})"
    return f"a key that is no secret variable (not shown: it may be a value; known: {', '.join(known)})"


def _command_output(command: str) -> dict[str, str]:
    if command not in _command_results:
        try:
            _command_results[command] = parse(_run(command), "secrets_command's output")
        except SettingsError as error:
            _command_results[command] = error
    result = _command_results[command]
    if isinstance(result, SettingsError):
        raise result
    return result


def _run(command: str) -> str:
    """The standard output of ``command`` (a shell command, run in the project root with
    the run's environment), or one line naming the setting and how it failed. Its output
    and its standard error are never shown: either may hold secrets."""
    # stdin is not the run's: a manager that prompts (op, pinentry) asks on /dev/tty.
    process = subprocess.Popen(command, shell=True, cwd=project_root(), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        output, _ = process.communicate(timeout=COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        try:
            process.communicate(timeout=1)
        except subprocess.TimeoutExpired:
            # A child of the shell still holds the pipes: leave it (the pipes close with
            # the Popen object) rather than wait for it. The shell itself is reaped.
            process.wait()
        raise SettingsError(f"setting 'secrets_command' did not finish within {COMMAND_TIMEOUT} seconds "
                            "(killed; its output is not shown)") from None
    if process.returncode != 0:
        how = (f"was killed by signal {-process.returncode}" if process.returncode < 0
               else f"failed with exit status {process.returncode}")
        raise SettingsError(f"setting 'secrets_command' {how} (its output is not shown, it may hold secrets: "
                            "run the command by hand to see why)")
    try:
        text = output.decode("utf-8")
    except UnicodeDecodeError:
        raise SettingsError("setting 'secrets_command' printed no UTF-8 text (its output is not shown)") from None
    if not text.strip():
        raise SettingsError("setting 'secrets_command' exited 0 but printed nothing: it must print "
                            f"{' and '.join(f'{v}=...' for v in SECRET_VARIABLES.values())} lines")
    return text


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
