"""What a backup is, wherever it is kept: its name, its files, its manifest, which ones count.

Pure logic shared by the backup, the offsite copy and the restore (tasks/backups.py,
tasks/offsite.py, restore.py); nothing here talks to a host.

A backup is a folder ``<backups_path>/<NAME>/`` (NAME = ``YYYYMMDDTHHMMSSZ``, the UTC start
time, optionally ``-<label>``) holding :data:`MEMBERS` and :data:`MANIFEST`, the
``sha256sum`` output of the four members. It is *verified* when its name matches
:data:`NAME` (a ``<NAME>.partial`` work folder never does) and it holds the manifest:
it was renamed from ``.partial`` only once checked. Names sort by time, so the latest is
the greatest name.

``backup_offsite`` (:func:`parse_offsite`): ``controller:PATH`` (a folder on the
controller; a relative PATH is from the project root) or ``group:NAME`` (the backups_path
of each host of that inventory group).

Ages (the probe reports the newest verified backup's name, ``status`` turns it into an
age and, past ``backup_max_age_hours`` or with no backup at all on a db host, into
drift): :func:`age_hours`, :func:`staleness`.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

#: A verified backup's folder name (see the module's docstring); rendered into bin/backup,
#: bin/restore and the probe for their grep -E.
NAME_PATTERN = r"^[0-9]{8}T[0-9]{6}Z(-[a-z]+(-[a-z]+)*)?$"
NAME = re.compile(NAME_PATTERN)
#: Labels the project itself gives: a backup before migrations, a restore, an upgrade.
PRE_MIGRATIONS, PRE_RESTORE, PRE_UPGRADE = "pre-migrations", "pre-restore", "pre-upgrade"
_STAMP = "%Y%m%dT%H%M%SZ"
#: The files the manifest covers, in its order.
MEMBERS = ("db.dump", "roles.sql", "counts.tsv", "info")
MANIFEST = "SHA256SUMS"
#: Every file of a backup folder: the manifest last (it is written last, and read first).
FILES = (*MEMBERS, MANIFEST)
PARTIAL = ".partial"
#: Labels of backups that "latest" never picks: the safety copy a restore takes of the
#: database it replaces (restore it by its name).
NOT_LATEST_LABELS = ("pre-restore",)

_MANIFEST_LINE = re.compile(r"^(?P<digest>[0-9a-f]{64}) [ *](?P<file>.+)$")


class BackupError(ValueError):
    """One line naming what is wrong with a backup or with backup_offsite."""


def is_name(name: str) -> bool:
    """``name`` is a backup's name (so not a ``.partial`` work folder nor anything else)."""
    return bool(NAME.fullmatch(name))  # not "…Z\n": $ alone matches before a final newline


def label(name: str) -> str | None:
    """The ``-<label>`` part of a backup's name, without its dash (None: plain backup)."""
    return name[17:] or None if is_name(name) else None


def verified(entries: Iterable[tuple[str, bool]]) -> list[str]:
    """The verified backups among folder ``entries`` ((name, holds the manifest)), sorted oldest first."""
    return sorted(name for name, has_manifest in entries if has_manifest and is_name(name))


def choose_latest(names: Iterable[str]) -> str | None:
    """The latest backup of ``names`` (the greatest name), never a restore's safety copy
    (:data:`NOT_LATEST_LABELS`); None when there is none."""
    candidates = [n for n in names if is_name(n) and label(n) not in NOT_LATEST_LABELS]
    return max(candidates, default=None)


def to_prune(names: Iterable[str], keep: int) -> list[str]:
    """The backups of ``names`` to delete so that the newest ``keep`` remain (oldest first).
    Only backup names count and are ever returned: a .partial or other folder is left alone."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    kept = sorted({n for n in names if is_name(n)})
    return kept[:-keep] if len(kept) > keep else []


def stack_of(info: str) -> str | None:
    """The ``stack=`` value of a backup's ``info`` text (None: not given)."""
    for line in info.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "stack":
            return value.split()[0] if value.split() else None
    return None


def to_prune_of_stack(entries: Iterable[tuple[str, str | None]], stack: str, keep: int) -> list[str]:
    """:func:`to_prune` over the backups of ``entries`` ((name, its info's stack)) that belong
    to ``stack``: a place shared by several stacks never loses another stack's backups,
    nor one whose stack is unknown, to this one's rotation."""
    return to_prune([name for name, owner in entries if owner == stack], keep)


# --- The manifest ------------------------------------------------------------------------


def parse_manifest(text: str) -> dict[str, str]:
    """``{member: sha256 hex}`` of a SHA256SUMS text; refused (one line) unless it lists
    exactly the four members, once each."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _MANIFEST_LINE.match(line)
        if not match or match["file"] not in MEMBERS or match["file"] in found:
            raise BackupError(f"{MANIFEST}: unexpected line {line[:80]!r}")
        found[match["file"]] = match["digest"]
    missing = [m for m in MEMBERS if m not in found]
    if missing:
        raise BackupError(f"{MANIFEST}: does not list {', '.join(missing)}")
    return found


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_folder(folder: Path, shown: str | None = None) -> str | None:
    """None when ``folder`` (on this machine) holds a complete backup whose files match its
    manifest; else one line naming the first file that is missing or differs (as
    ``<shown>/<file>``: where the copy came from; default the folder itself)."""
    prefix = shown or str(folder)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return f"{prefix}/{MANIFEST}: missing"
    try:
        digests = parse_manifest(manifest.read_text(encoding="utf-8", errors="replace"))
    except BackupError as error:
        return f"{prefix}/{error}"
    for member in MEMBERS:
        path = folder / member
        if not path.is_file():
            return f"{prefix}/{member}: missing"
        if sha256_file(path) != digests[member]:
            return f"{prefix}/{member}: checksum mismatch (corrupted or truncated)"
    return None


def check_shell(folder: str) -> str:
    """Shell (run as root on a host) that exits 0 when ``folder`` holds a complete backup
    matching its manifest, else 1 with one stderr line naming the first bad file:
    every file present, the manifest listing exactly the four members, then
    ``sha256sum --quiet -c``."""
    q = shlex.quote(folder)
    files = " ".join(FILES)
    members = " ".join(MEMBERS)
    return (
        f"cd {q} || exit 1; "
        f"for f in {files}; do [ -f \"$f\" ] || {{ echo {q}/\"$f: missing\" >&2; exit 1; }}; done; "
        f"for f in {members}; do [ \"$(grep -c \"^[0-9a-f]\\{{64\\}} [ *]$f\\$\" {MANIFEST})\" = 1 ] "
        f"|| {{ echo {q}/\"{MANIFEST}: does not list $f once\" >&2; exit 1; }}; done; "
        f"[ \"$(wc -l < {MANIFEST})\" = {len(MEMBERS)} ] "
        f"|| {{ echo {q}/\"{MANIFEST}: unexpected lines\" >&2; exit 1; }}; "
        f"out=$(LC_ALL=C sha256sum --quiet -c {MANIFEST} 2>/dev/null) && exit 0; "
        "bad=$(printf '%s\\n' \"$out\" | sed -n 's/: FAILED.*$//p' | head -n 1); "
        f"echo {q}/\"${{bad:-{MANIFEST}}}: checksum mismatch (corrupted or truncated)\" >&2; exit 1"
    )


# --- backup_offsite --------------------------------------------------------------------


@dataclass(frozen=True)
class Offsite:
    """backup_offsite, parsed: ``kind`` "controller" (``where``: the PATH as given) or
    "group" (``where``: the group's name)."""

    kind: str
    where: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.where}"


def parse_offsite(value: str) -> Offsite:
    kind, sep, where = value.partition(":")
    if not sep or kind not in ("controller", "group") or not where.strip():
        raise BackupError(f"setting 'backup_offsite' must be `controller:PATH` or `group:NAME`, got {value!r}")
    return Offsite(kind, where)


def controller_folder(where: str, root: Path, tracked: Iterable[str] = ()) -> Path:
    """The controller folder of ``controller:<where>`` (relative: from the project ``root``),
    refused (one line) when it is the project root, one of its parents, inside its ``.git``,
    or a file or folder git tracks (``tracked``: the project's tracked files, relative to
    ``root``) or a place inside one: backups there would mix with the project's own files
    or be committed with them. Elsewhere in the project (``build/backups``, a new
    ``backups/``) is allowed."""
    root = root.resolve()
    folder = (root / where).resolve() if not Path(where).is_absolute() else Path(where).resolve()
    why = None
    if folder == root or folder in root.parents:
        why = "is the project root or one of its parents"
    elif folder.is_relative_to(root):
        parts = folder.relative_to(root).parts
        tracked_prefixes = {"/".join(Path(f).parts[:i]) for f in tracked for i in range(1, len(Path(f).parts) + 1)}
        if parts[0] == ".git":
            why = "is inside the project's .git"
        elif any("/".join(parts[:i]) in tracked_prefixes for i in range(1, len(parts) + 1)):
            why = "is, or is inside, a file or folder of the project that git tracks"
    if why:
        raise BackupError(f"setting 'backup_offsite' (controller:{where}): {folder} {why}; choose a folder of its own "
                          "(e.g. controller:backups, or an absolute path outside the project)")
    return folder


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


def taken_at(name: str) -> datetime:
    """The UTC time a backup's name says its run started."""
    if not is_name(name):
        raise ValueError(f"{name!r} is no backup name (YYYYMMDDTHHMMSSZ[-label])")
    return datetime.strptime(name[:16], _STAMP).replace(tzinfo=timezone.utc)


def age_hours(name: str, now: datetime) -> float:
    """How many hours before ``now`` the backup ``name`` was started."""
    return (now - taken_at(name)).total_seconds() / 3600


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
