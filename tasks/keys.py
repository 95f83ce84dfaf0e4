"""Swap PostgREST's signing keys on a host without a failed request, or roll back.

The same steps serve `rotate_keys.py` and the JWKS part of `deploy.py`: write the
validated key set atomically (the previous one kept as jwks.json.prev), reload
PostgREST with SIGUSR2 (never a restart), wait for /ready, and, when a
`smoke_token_command` is configured, require 200 for a fresh token sent from the host.
A host that fails gets its previous keys back (reloaded, /ready confirmed) and no later
host of the run is touched.
"""

from __future__ import annotations

import io
import json
import posixpath
import shlex
import subprocess
import time

from pyinfra import host, logger
from pyinfra.api import StringCommand, operation
from pyinfra.api.exceptions import OperationError
from pyinfra.facts.files import FileContents
from pyinfra.operations import python

from postgrest_stack.jwks import Jwks
from postgrest_stack.render import JWKS_FILE, POSTGREST_UID, smoke_url
from postgrest_stack.settings import Settings

#: Hosts that failed in this run, with the reason: later hosts are not touched.
_failures: dict[str, str] = {}
SMOKE_ATTEMPTS = 10  # a reload is asynchronous: give it a few seconds to take effect


def kids_of(raw: bytes | None) -> list[str]:
    try:
        return [key.get("kid", "?") for key in json.loads(raw or b"")["keys"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []


def deployed_kids(settings: Settings) -> list[str]:
    lines = host.get_fact(FileContents, path=posixpath.join(settings.app_dir, JWKS_FILE))
    return kids_of("\n".join(lines).encode()) if lines else []


def summary(before: list[str], after: list[str]) -> str:
    added = [k for k in after if k not in before]
    removed = [k for k in before if k not in after]
    unchanged = [k for k in after if k in before]
    return (f"keys before [{', '.join(before)}] after [{', '.join(after)}]: "
            f"added [{', '.join(added)}], removed [{', '.join(removed)}], unchanged [{', '.join(unchanged)}]")


def rotate(settings: Settings, jwks: Jwks, smoke_token_command: str | None):
    """Add the per-host rotation step (hosts one at a time)."""
    before = deployed_kids(settings)
    python.call(
        name="Rotate signing keys (write, reload, verify)",
        function=_rotate,
        settings=settings,
        new_raw=jwks.raw,
        before=before,
        smoke_token_command=smoke_token_command,
        _serial=True,
    )
    report_failure(name="Report a failed key rotation")


@operation(is_idempotent=False)
def report_failure():
    """Fail the host with its rotation failure as one line (a callback exception would
    print a traceback). Yields nothing, so changes nothing, when the host succeeded."""
    reason = _failures.get(host.name)
    if reason:
        yield StringCommand(f"echo {shlex.quote(reason)} >&2; exit 1")


def _run(command: str, **kwargs) -> tuple[bool, str]:
    status, output = host.run_shell_command(StringCommand(command), **kwargs)
    return status, "\n".join(output.stdout_lines + output.stderr_lines)


def _replace_key_file(app: str, source: str | None, content: bytes | None) -> None:
    """Atomically replace jwks.json with ``content`` (uploaded) or a copy of ``source``."""
    key_file = posixpath.join(app, JWKS_FILE)
    staging = posixpath.join(posixpath.dirname(key_file), ".jwks.json.new")
    if content is not None:
        if not host.put_file(io.BytesIO(content), staging):
            raise OperationError(f"{host.name}: could not upload the key set")
        keep = f"if [ -e {shlex.quote(key_file)} ]; then ln -f {shlex.quote(key_file)} {shlex.quote(key_file + '.prev')}; fi && "
    else:
        ok, out = _run(f"cp -p {shlex.quote(source)} {shlex.quote(staging)}")
        if not ok:
            raise OperationError(f"{host.name}: could not restore the previous key set: {out}")
        keep = ""
    ok, out = _run(f"chown {POSTGREST_UID}:0 {shlex.quote(staging)} && chmod 600 {shlex.quote(staging)} && "
                   f"{keep}mv -f {shlex.quote(staging)} {shlex.quote(key_file)}")
    if not ok:
        raise OperationError(f"{host.name}: could not replace the key file: {out}")


def _smoke(settings: Settings, smoke_token_command: str) -> str | None:
    """None when a fresh token gets 200 from the host, else the reason."""
    done = subprocess.run(smoke_token_command, shell=True, capture_output=True, text=True, timeout=60)
    token = done.stdout.strip()
    if done.returncode != 0 or not token:
        return f"smoke_token_command failed (exit {done.returncode})"
    url = shlex.quote(f"{smoke_url(settings)}/todos?limit=1")
    status = ""
    for _ in range(SMOKE_ATTEMPTS):
        # The token goes on stdin, never on a command line.
        _ok, status = _run(f"curl -s -o /dev/null -m 5 -w '%{{http_code}}' -H @- {url}",
                           _stdin=f"Authorization: Bearer {token}\n")
        if status.strip() == "200":
            return None
        time.sleep(0.5)
    return f"smoke token answered {status.strip() or 'nothing'} after the reload, expected 200"


def _reload(app: str) -> None:
    ok, out = _run(f"{shlex.quote(app)}/bin/reload-postgrest")
    if not ok:
        raise OperationError(f"{host.name}: reload failed: {out}")


def _rotate(settings: Settings, new_raw: bytes, before: list[str], smoke_token_command: str | None):
    if _failures:
        _failures[host.name] = f"{host.name}: not rotated: the run stopped after {', '.join(_failures)} failed"
        return
    app = settings.app_dir
    _replace_key_file(app, None, new_raw)
    reason = None
    try:
        _reload(app)
        if smoke_token_command:
            reason = _smoke(settings, smoke_token_command)
    except OperationError as error:
        reason = str(error)
    if reason is None:
        logger.info(f"{host.print_prefix}{summary(before, kids_of(new_raw))}")
        return
    _replace_key_file(app, posixpath.join(app, JWKS_FILE + ".prev"), None)
    _reload(app)
    _failures[host.name] = f"{host.name}: {reason}; rolled back to the previous keys [{', '.join(before)}]"
