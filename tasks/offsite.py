"""STUB (helper C's branch; the lead replaces it with helper B2's tasks/offsite.py).

:func:`fetch_offsite` here only finds the backup on the db host itself: ``wanted`` is a
backup's name or ``latest``, resolved when the run executes (the greatest verified name
under backups_path). B2's brings it from ``backup_offsite`` first. The interface
restore.py relies on: ``fetch_offsite(settings, wanted)`` registers this host's
operations and returns an object whose ``.name`` holds the chosen backup's name once
those operations ran (None before).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from pyinfra import logger
from pyinfra.api import StringCommand
from pyinfra.operations import python

from postgrest_stack import restore as restoring
from postgrest_stack.settings import Settings
from tasks import files


@dataclass
class Fetched:
    wanted: str
    name: str | None = None


def fetch_offsite(settings: Settings, wanted: str) -> Fetched:
    fetched = Fetched(wanted)
    python.call(name="Find the backup to restore", function=_find, settings=settings, fetched=fetched)
    return fetched


def _find(state, host, settings: Settings, fetched: Fetched) -> bool:  # noqa: ARG001 - pyinfra passes both
    if fetched.wanted != restoring.LATEST:
        fetched.name = fetched.wanted
        return True
    folder = shlex.quote(settings.backups_path)
    ok, output = host.run_shell_command(
        StringCommand(f"cd {folder} 2>/dev/null && for d in *; do [ -f \"$d/SHA256SUMS\" ] && echo \"$d\"; done; true"),
        **files.connector_arguments(host))
    fetched.name = restoring.latest(output.stdout_lines if ok else [])
    if fetched.name is None:
        host.log_styled(f"{host.name}: no verified backup in {settings.backups_path}; nothing changed", fg="red",
                        log_func=logger.error)
        return False
    logger.info(f"{host.print_prefix}latest backup: {fetched.name}")
    return True
