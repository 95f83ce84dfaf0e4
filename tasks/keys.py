"""Swap PostgREST's signing keys on hosts without a failed request, or roll back.

The same steps serve `rotate_keys.py` and the JWKS part of `deploy.py`: write the
canonical key file atomically (the previous one kept as jwks.json.prev), reload
PostgREST with SIGUSR2 (never a restart), wait for /ready, prove that PostgREST read
the file as keys (HS256 tokens made of its bytes must be refused for their signature,
see key_proof.py) and, when a `smoke_token_command` is configured, require 200 for a
fresh token sent from the host.

These are one host's steps (:func:`rotate_host`); tasks/rotation.py decides the order
hosts go in (one at a time, inventory order, stop at the first failure). A host that
fails for any reason (a step's error, an SSH drop, a timeout, Ctrl-C) gets its previous
keys back (reloaded, /ready confirmed) before the run goes on or stops. After a proven
rotation, and after a rollback, the host records the key file PostgREST has loaded
(state/jwks.json, loaded.py): a run that stopped between the write and the proof shows
as drift and is finished by the next run, which finds the file current but the record
not (the write is then skipped, and the old keys stay in jwks.json.prev).
"""

from __future__ import annotations

import posixpath
import shlex
import subprocess
import time

from pyinfra import logger
from pyinfra.api import StringCommand
from pyinfra.api.exceptions import OperationError
from pyinfra.api.host import Host

from postgrest_stack import key_proof, loaded
from postgrest_stack.layout import JWKS_FILE, POSTGREST_UID, host_script
from postgrest_stack.render import smoke_url
from postgrest_stack.settings import Settings
from tasks import files

SMOKE_ATTEMPTS = 10  # a reload is asynchronous: give it a few seconds to take effect


def summary(before: list[str], after: list[str]) -> str:
    added = [k for k in after if k not in before]
    removed = [k for k in before if k not in after]
    unchanged = [k for k in after if k in before]
    return (f"keys before [{', '.join(before)}] after [{', '.join(after)}]: "
            f"added [{', '.join(added)}], removed [{', '.join(removed)}], unchanged [{', '.join(unchanged)}]")


def _run(target: Host, command: str, **kwargs) -> tuple[bool, str]:
    """Run ``command`` on ``target`` as its operations would (``_sudo`` and the rest from its data)."""
    status, output = target.run_shell_command(StringCommand(command), **{**files.connector_arguments(target), **kwargs})
    return status, "\n".join(output.stdout_lines + output.stderr_lines)


def _replace_key_file(target: Host, app: str, *, content: bytes | None = None, source: str | None = None) -> None:
    """Atomically replace jwks.json with ``content`` (previous kept as .prev) or a copy of ``source``."""
    key_file = posixpath.join(app, JWKS_FILE)
    if content is not None:
        command = files.replace_command(key_file, mode=0o600, uid=POSTGREST_UID, keep_previous=True, size=len(content))
        ok, out = _run(target, command, _stdin=files.stdin_bytes(content))
    else:
        command = files.replace_command(key_file, mode=0o600, uid=POSTGREST_UID, source=source)
        ok, out = _run(target, command)
    if not ok:
        raise OperationError(f"{target.name}: could not replace the key file: {out}")


def smoke_command(settings: Settings) -> str:
    """GET the API from the host with the token's header read from stdin (never argv)."""
    return (f"curl -s -o /dev/null -m 5 -w '%{{http_code}}' -H @- "
            f"{shlex.quote(smoke_url(settings) + key_proof.PROOF_PATH)}")


def _smoke(target: Host, settings: Settings, smoke_token_command: str) -> str | None:
    """None when a fresh token gets 200 from the host, else the reason."""
    # Bounded like every other wait of a deploy; a timeout fails (and rolls back) the host.
    try:
        done = subprocess.run(smoke_token_command, shell=True, capture_output=True, text=True,
                              timeout=settings.health_timeout)
    except subprocess.TimeoutExpired:
        return f"smoke_token_command printed no token within {settings.health_timeout} s (health_timeout)"
    except (subprocess.SubprocessError, OSError) as error:
        return f"smoke_token_command failed ({error.__class__.__name__})"
    token = done.stdout.strip()
    if done.returncode != 0 or not token:
        return f"smoke_token_command failed (exit {done.returncode})"
    status = ""
    for _ in range(SMOKE_ATTEMPTS):
        # The token goes on stdin, never on a command line.
        _ok, status = _run(target, smoke_command(settings),
                           _stdin=f"Authorization: Bearer {token}\n")
        if status.strip() == "200":
            return None
        time.sleep(0.5)
    return f"smoke token answered {status.strip() or 'nothing'} after the reload, expected 200"


def _prove_read_as_keys(target: Host, settings: Settings, key_file: bytes) -> str | None:
    """None when PostgREST refuses HS256 tokens made of ``key_file``, else the reason."""
    tokens = key_proof.forged_tokens(key_file, settings)
    ok, out = _run(target, host_script(settings.app_dir, "prove-keys"), _stdin=key_proof.stdin_for(tokens))
    if ok:
        return None
    lines = [line for line in out.splitlines() if line.strip()]
    return lines[-1] if lines else "bin/prove-keys failed without a message"


def _reload(target: Host, app: str) -> None:
    ok, out = _run(target, host_script(app, "reload-postgrest"))
    if not ok:
        raise OperationError(f"{target.name}: reload failed: {out}")


def _record(target: Host, app: str) -> None:
    """Record the key file PostgREST now has loaded (state/jwks.json)."""
    ok, out = _run(target, loaded.record_command(app, {loaded.KEYS: loaded.RECORDS[loaded.KEYS]}))
    if not ok:
        raise OperationError(f"{target.name}: could not record the loaded key file: {out}")


#: Stop the run after the rollback: the operator (Ctrl-C) or the process is going away.
_STOPS = (KeyboardInterrupt, SystemExit)


def rotate_host(target: Host, settings: Settings, key_file: bytes, before: list[str],
                file_current: bool = False) -> str:
    """Rotate one host; return "" on success, else the one-line reason (after rollback).

    ``file_current``: jwks.json already holds ``key_file`` (a rotation stopped before its
    reload and proof): it is not written again, so jwks.json.prev keeps the old keys.
    """
    app = settings.app_dir
    try:
        # No record while the keys change: whatever stops this run, the host then shows
        # as not loaded (status) and the next run finishes the rotation.
        ok, out = _run(target, f"rm -f {shlex.quote(posixpath.join(app, loaded.KEYS))}")
        if not ok:
            return f"{target.name}: could not clear the loaded-keys record: {out}"
        if not file_current:
            _replace_key_file(target, app, content=key_file)
    except OperationError as error:
        return str(error)
    reason = None
    stopped: BaseException | None = None
    try:
        _reload(target, app)
        reason = _prove_read_as_keys(target, settings, key_file)
        if reason is None and settings.smoke_token_command:
            reason = _smoke(target, settings, settings.smoke_token_command)
        if reason is None:
            _record(target, app)
    except OperationError as error:
        reason = str(error)
    except BaseException as error:  # noqa: B036 - an SSH drop, a timeout, Ctrl-C: roll back first
        reason = f"stopped during the rotation ({error.__class__.__name__}{f': {error}' if str(error) else ''})"
        if isinstance(error, _STOPS):
            stopped = error
    if reason is None:
        return ""
    try:
        _replace_key_file(target, app, source=posixpath.join(app, JWKS_FILE + ".prev"))
        _reload(target, app)
        _record(target, app)
    except Exception as error:  # the host may be gone: the record still says what is loaded
        outcome = f"{target.name}: {reason}; ROLLBACK FAILED: {error}"
    else:
        outcome = f"{target.name}: {reason}; rolled back to the previous keys [{', '.join(before)}]"
    if stopped is not None:
        logger.error(outcome)
        raise stopped
    return outcome
