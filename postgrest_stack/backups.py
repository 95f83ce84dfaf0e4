"""Backups' names and ages: pure, no host (bin/backup takes them, templates/bin/backup.j2).

A backup is a folder ``<backups_path>/NAME`` with NAME the UTC time its run started,
``YYYYMMDDTHHMMSSZ``, optionally ``-label`` (``pre-migrations``, ``pre-restore``,
``pre-upgrade``). A folder of such a name holding SHA256SUMS is a *verified* backup:
bin/backup renames it from NAME.partial only after the restore check. Names sort by
time, so the newest is the greatest. The probe reports the newest one's name, and
``status`` turns it into an age and, past ``backup_max_age_hours`` (or with no backup
at all on a db host), into drift.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

#: A backup's name (also in templates/bin/backup.j2 and templates/probe.sh.j2, as grep -E).
NAME_PATTERN = r"^[0-9]{8}T[0-9]{6}Z(-[a-z]+(-[a-z]+)*)?$"
NAME = re.compile(NAME_PATTERN)
#: Labels the project itself gives: a backup before migrations, a restore, an upgrade.
PRE_MIGRATIONS, PRE_RESTORE, PRE_UPGRADE = "pre-migrations", "pre-restore", "pre-upgrade"
_STAMP = "%Y%m%dT%H%M%SZ"


def name_for(started: datetime, label: str | None = None) -> str:
    """The name of a backup whose run started at ``started`` (UTC), with an optional label."""
    if started.tzinfo is not None:
        started = started.astimezone(timezone.utc)
    name = started.strftime(_STAMP) + (f"-{label}" if label else "")
    if not NAME.match(name):
        raise ValueError(f"{label!r}: a backup label is lower-case words joined by '-'")
    return name


def name_from_iso(started: str, label: str | None = None) -> str:
    """``name_for`` of an ISO time as the run lock records it (``2026-12-02T18:00:00Z``)."""
    return name_for(datetime.strptime(started, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc), label)


def is_name(name: str) -> bool:
    return bool(NAME.match(name)) and "\n" not in name


def taken_at(name: str) -> datetime:
    """The UTC time a backup's name says its run started."""
    if not is_name(name):
        raise ValueError(f"{name!r} is no backup name (YYYYMMDDTHHMMSSZ[-label])")
    return datetime.strptime(name[:16], _STAMP).replace(tzinfo=timezone.utc)


def age_hours(name: str, now: datetime) -> float:
    """How many hours before ``now`` the backup ``name`` was started."""
    return (now - taken_at(name)).total_seconds() / 3600


def newest(names: list[str]) -> str | None:
    """The newest of ``names`` that are backup names (None: none)."""
    found = sorted(name for name in names if is_name(name))
    return found[-1] if found else None


def shown_age(hours: float) -> str:
    """An age for people: ``35 min``, ``5.2 h``, ``3.1 days``."""
    if hours < 1:
        return f"{max(0, round(hours * 60))} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def staleness(latest: str | None, max_age_hours: int, now: datetime) -> str | None:
    """Why a db host's backups are drift (None: the newest is recent enough)."""
    if latest is None:
        return "no verified backup yet"
    age = age_hours(latest, now)
    if age > max_age_hours:
        return f"the newest verified backup, {latest}, is {shown_age(age)} old (backup_max_age_hours {max_age_hours})"
    return None
