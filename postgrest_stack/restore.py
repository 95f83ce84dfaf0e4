"""restore.py's run parameters, checked on the controller before any host is touched.

``pyinfra INVENTORY restore.py --data restore_from=latest|NAME --data restore_confirm=DB_NAME``:
the two are parameters of that run, not settings (tasks/controller.py accepts them for
restore.py only). A restore replaces the database, so it needs the operator to type the
database's name (``restore_confirm``); ``restore_from`` is ``latest`` or a backup's name
(docs: the backup layout, ``YYYYMMDDTHHMMSSZ`` with an optional ``-label``). Pure.
"""

from __future__ import annotations

from typing import Any

from . import backups
from .settings import SettingsError

FROM, CONFIRM = "restore_from", "restore_confirm"
#: The --data keys restore.py takes besides the settings.
PARAMETERS = (FROM, CONFIRM)
LATEST = "latest"


def _text(value: Any) -> str:
    # pyinfra's --data turns digits into numbers and True/False into booleans.
    return "" if value is None else str(value)


def wanted(restore_from: Any, restore_confirm: Any, db_name: str) -> str:
    """The backup the run asks for (``latest`` or a name); a SettingsError (one line) when
    the confirmation is missing or wrong, or the name malformed."""
    confirm, source = _text(restore_confirm), _text(restore_from)
    if confirm != db_name:
        given = f"restore_confirm={confirm!r} is not the database's name" if confirm else "no restore_confirm"
        raise SettingsError(f"{given}: a restore replaces database {db_name!r}; confirm it with "
                            f"--data {CONFIRM}={db_name}; nothing changed")
    if not source:
        raise SettingsError(f"no {FROM}: give --data {FROM}={LATEST} or a backup's name "
                            "(YYYYMMDDTHHMMSSZ[-label]); nothing changed")
    if source != LATEST and not backups.is_name(source):
        raise SettingsError(f"{FROM}={source!r} is neither {LATEST!r} nor a backup's name "
                            "(YYYYMMDDTHHMMSSZ, optionally -label); nothing changed")
    return source


def temporary_database(db_name: str) -> str:
    """The database bin/restore restores into before the swap (63 bytes at most, as
    PostgreSQL's names)."""
    return f"{db_name[:54]}_restore"
