"""What a host's services have loaded, recorded on the host once that was proven.

Files on disk say what a host should run, not what its containers read: a run that
stops after writing ``postgrest.conf`` and before the reload, after a new ``.env`` and
before ``compose up``, or after a new key file and before the reload and key proof,
leaves files that look current over services that are not. So each step that makes a
service read its files is followed by a *record* under ``app_dir/state/`` (root, 0700),
written only after the step succeeded:

- ``state/stack``: compose.yaml and .env, after ``compose up`` and the health gate;
- ``state/postgrest.conf``: after PostgREST read it (reload, or a fresh start) and the gate;
- ``state/jwks.json``: after PostgREST read the key file and the key proof passed
  (a rotation records it itself, rotate_keys.py included);
- ``state/edge``: the edge's Caddyfile, certificate and key, after its reload or start.

A record holds one line per source file, ``NAME DIGEST``, computed *on the host* from
the file as it is when the step succeeded: its SHA-256, or for a secret file the keyed
digest the probe prints (digests.py), so a record gives no secret away. The controller
computes the record the rendered files would give; the probe's plain digest of the
record file tells whether they agree. A record that disagrees or is missing makes the
plan run its step again (plan.py) and ``status`` report drift (status.py). A stack
deployed before these records existed runs each step once more (a no-op ``up``, one
reload and key proof) and then has them.
"""

from __future__ import annotations

import hashlib
import posixpath
import shlex
from typing import Mapping

from . import digests, layout
from .layout import KEYED_FILES, RenderedFile
from .probe import HostState

STATE_DIR = "state"
STACK = "state/stack"
CONFIG = "state/postgrest.conf"
KEYS = "state/jwks.json"
EDGE = "state/edge"

#: Record -> the files (under app_dir) whose loaded version it holds.
RECORDS: dict[str, tuple[str, ...]] = {
    STACK: ("compose.yaml", ".env"),
    CONFIG: ("postgrest/postgrest.conf",),
    KEYS: ("postgrest/jwks.json",),
    EDGE: layout.RELOADED_BY_EDGE,
}

#: What status says when a record disagrees: what has not been loaded yet.
NOT_LOADED = {
    STACK: "the running containers were not (re)created from the deployed compose.yaml/.env",
    CONFIG: "PostgREST has not loaded the deployed postgrest.conf (reload pending)",
    KEYS: "PostgREST has not loaded and proven the deployed key file (reload and key proof pending)",
    EDGE: "the TLS edge has not loaded the deployed Caddyfile/certificate (reload pending)",
}


def sources(record: str, files: Mapping[str, object]) -> tuple[str, ...]:
    """The source files of ``record`` that are rendered for this host (the edge's
    certificate and key only with ``tls_mode = files``)."""
    return tuple(name for name in RECORDS[record] if name in files)


def record_content(names: tuple[str, ...], contents: Mapping[str, bytes], key: bytes | None) -> bytes:
    """A record of the files ``names`` with these contents (``key``: the digest key, for secret files)."""
    return "".join(f"{name} {_digest(name, contents[name], key)}\n" for name in names).encode()


def _digest(name: str, content: bytes, key: bytes | None) -> str:
    if name not in KEYED_FILES:
        return hashlib.sha256(content).hexdigest()
    if key is None:
        raise ValueError(f"a record of {name} needs the digest key")
    return digests.keyed(key, content)


def expected(files: Mapping[str, RenderedFile], key: bytes | None) -> dict[str, bytes]:
    """Each record the rendered ``files`` (name -> RenderedFile) call for, with its content.

    A record is wanted when its source files are rendered for this host (no edge record
    without an edge, no PostgREST record on a db host); without a digest key, only those
    of files that hold no secret.
    """
    wanted = {record: sources(record, files) for record in RECORDS}
    return {record: record_content(names, {name: files[name].content for name in names}, key)
            for record, names in wanted.items()
            if names and (key is not None or not any(name in KEYED_FILES for name in names))}


def stale(files: Mapping[str, RenderedFile], key: bytes | None, state: HostState) -> list[str]:
    """The wanted records the host does not hold as they should read (missing or different)."""
    found = []
    for record, content in expected(files, key).items():
        current = state.paths.get(record)
        if current is None or current.kind != "f" or current.sha256 != hashlib.sha256(content).hexdigest():
            found.append(record)
    return found


def record_command(app_dir: str, records: Mapping[str, tuple[str, ...]]) -> str:
    """Shell that writes each record (name -> its source files) from the files as they are now.

    Each record is written beside itself and renamed (atomic); ``state/`` is root's, 0700.
    A source file that is missing fails the command: a record of it would lie.
    """
    app = shlex.quote(app_dir)
    steps = [f"cd {app}", "umask 077", f"mkdir -p {STATE_DIR}", f"chown 0:0 {STATE_DIR}", f"chmod 00700 {STATE_DIR}"]
    for record, names in records.items():
        staging = shlex.quote(posixpath.join(STATE_DIR, f".{posixpath.basename(record)}.new"))
        needs_key = any(name in KEYED_FILES for name in names)
        present = " && ".join(f"[ -f {shlex.quote(name)} ]"
                              for name in ((layout.DIGEST_KEY,) if needs_key else ()) + names)
        lines = "; ".join(f'printf \'%s %s\\n\' {shlex.quote(name)} "$({_digest_command(name)} | cut -d" " -f1)"'
                          for name in names)
        steps.append(f"{present} && {{ {lines}; }} > {staging} && chmod 600 {staging} "
                     f"&& mv -f {staging} {shlex.quote(record)}")
    return " && ".join(steps)


def _digest_command(name: str) -> str:
    if name in KEYED_FILES:
        return f"cat {layout.DIGEST_KEY} {shlex.quote(name)} | sha256sum"
    return f"sha256sum < {shlex.quote(name)}"


def keys_record_is_current(key_file: bytes, state: HostState) -> bool:
    """The host records that PostgREST loaded and proved ``key_file`` (rotate_keys.py)."""
    current = state.paths.get(KEYS)
    content = record_content(RECORDS[KEYS], {RECORDS[KEYS][0]: key_file}, None)
    return current is not None and current.sha256 == hashlib.sha256(content).hexdigest()
