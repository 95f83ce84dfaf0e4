"""The operator's schema migrations: the folder, its rules, and what a database still needs.

Pure: this module reads the controller's folder and compares it with ledger rows it is
given; applying the SQL and reading the ledger happen elsewhere (on the host).

The rules:

- The folder is the ``migrations_dir`` setting (relative to the project root, or
  absolute). A missing or empty folder holds no migrations.
- Every ``*.sql`` file in it is a migration named ``NNNN_slug.sql``: four or more
  digits, an underscore, a slug of lower-case letters, digits and ``_``
  (:data:`NAME_PATTERN`). Another ``.sql`` name is refused; dotfiles and files not
  ending in ``.sql`` are ignored (a README beside them is fine).
- The number is the version, compared as an integer (``10000`` after ``9999``,
  ``0002`` is ``00002``): unique in the folder, and migrations are applied in numeric
  order.
- A file whose first line (trailing white space stripped) is exactly
  ``-- migrate: no-transaction`` (:data:`NO_TRANSACTION`) runs outside a transaction,
  for statements such as ``CREATE INDEX CONCURRENTLY``; every other file runs in one
  transaction of its own.
- Applied migrations are recorded in the database's ledger with their version, file
  name and the SHA-256 of the file's bytes. :func:`pending` refuses, with one line
  naming the file and the fix, an applied file that changed, an applied file missing
  from the folder (or renamed), and a new file numbered below the highest applied one:
  history is only ever appended to.

:func:`ledger_digest` and :func:`folder_digest` condense the ledger and the folder
into one SHA-256 each, so a probe can tell "nothing pending" from one value read on
the host: the exact bytes are documented on :func:`ledger_digest`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

#: A migration's file name; the version is the integer value of its digits.
NAME_PATTERN = re.compile(r"^(?P<version>[0-9]{4,})_(?P<slug>[a-z0-9][a-z0-9_]*)\.sql$")
#: The first line (trailing white space stripped) of a file run outside a transaction.
NO_TRANSACTION = b"-- migrate: no-transaction"
#: The SHA-256 digests in messages: this many hex digits.
SHORT = 12
#: The ledger (templates/sql/04-migrations.sql.j2): a schema PostgREST never exposes.
LEDGER_SCHEMA = "stack_meta"
LEDGER_TABLE = f"{LEDGER_SCHEMA}.migrations"
#: The advisory lock one bin/migrate run holds from its first ledger check to its last row.
MIGRATE_LOCK = -1685094250344235363
#: Where the deploy puts the folder's files under app_dir (bin/migrate reads them there).
HOST_DIR = "migrations"
#: The example migration (the project's migrations/ folder). A database deployed before
#: migrations existed holds its table already, made by the project's SQL: bin/migrate
#: records it as applied there (an empty ledger and the table present) instead of running it.
ADOPTED = "0001_todos.sql"
ADOPTED_TABLE = "todos"


class MigrationError(ValueError):
    """The folder or its history breaks a rule; the one-line message names the file and the fix."""


@dataclass(frozen=True)
class Migration:
    """One file of the folder."""

    version: int
    name: str  # the file name, e.g. 0002_orders.sql
    sha256: str  # lower-case hex of the file's bytes
    no_transaction: bool
    content: bytes


@dataclass(frozen=True)
class Applied:
    """One row of a database's ledger: a migration applied there."""

    version: int
    name: str
    sha256: str


def file_name(version: int, slug: str) -> str:
    """``NNNN_slug.sql``: the version zero-padded to at least four digits."""
    return f"{version:04d}_{slug}.sql"


def _short(digest: str) -> str:
    return digest[:SHORT]


def read(path: Path) -> Migration:
    """One migration file (its name already checked against :data:`NAME_PATTERN`)."""
    if not NAME_PATTERN.match(path.name):
        raise MigrationError(f"migration file {path.name!r} in {path.parent} does not match NNNN_slug.sql "
                             f"({NAME_PATTERN.pattern}): rename it, e.g. 0001_add_orders.sql")
    content = path.read_bytes()
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        raise MigrationError(f"migration {path.name} in {path.parent} is not UTF-8 text: save it as UTF-8") from None
    return read_content(path.name, content)


def _named(name: str) -> re.Match[str]:
    """The parts of a checked file name (:data:`NAME_PATTERN`); refused when it does not match."""
    match = NAME_PATTERN.match(name)
    if match is None:
        raise MigrationError(f"migration file {name!r} does not match NNNN_slug.sql ({NAME_PATTERN.pattern})")
    return match


def read_content(name: str, content: bytes) -> Migration:
    """A migration from its (checked) file name and bytes."""
    first_line = content.split(b"\n", 1)[0].rstrip()
    return Migration(version=int(_named(name)["version"]), name=name,
                     sha256=hashlib.sha256(content).hexdigest(), no_transaction=first_line == NO_TRANSACTION,
                     content=content)


def scan(folder: Path) -> list[Migration]:
    """The folder's migrations in numeric order; refused (one line) when a ``.sql`` name
    breaks the pattern or two files share a number. A missing folder has none."""
    folder = Path(folder)
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise MigrationError(f"migrations_dir {folder} is not a folder: point the setting at the folder of "
                             "NNNN_slug.sql files")
    found: dict[int, Migration] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.name.endswith(".sql"):
            continue
        if not path.is_file():
            raise MigrationError(f"migration {path.name!r} in {folder} is not a file: remove it or rename it "
                                 "without .sql")
        migration = read(path)
        other = found.get(migration.version)
        if other is not None:
            first, second = sorted((other.name, migration.name))
            raise MigrationError(f"migrations {first} and {second} in {folder} have the same number "
                                 f"{migration.version}: renumber one of them (the next free number is "
                                 f"{_next_version(found.values()):04d})")
        found[migration.version] = migration
    return sorted(found.values(), key=lambda m: m.version)


def _next_version(items: Iterable[Migration | Applied]) -> int:
    return max((item.version for item in items), default=0) + 1


def next_name(migrations: Sequence[Migration], slug: str) -> str:
    """The file name of a new migration after the folder's highest number (0001 first)."""
    return file_name(_next_version(migrations), slug)


def slug_of(name: str) -> str:
    """A file slug from a free-form name: lower-case, each run of characters other than
    a-z and 0-9 becomes one '_', none at either end; refused when nothing is left."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not slug:
        raise MigrationError(f"migration name {name!r} has no letters or digits for the file name: "
                             "give a name such as 'add orders'")
    return slug


def pending(migrations: Sequence[Migration], applied: Iterable[Applied]) -> list[Migration]:
    """The folder's migrations a database with ledger ``applied`` still needs, in
    numeric order; refused (one line naming the file and the fix) when the folder
    rewrites that database's history."""
    folder = {m.version: m for m in migrations}
    rows = sorted(applied, key=lambda row: row.version)
    suggestion = _next_version([*migrations, *rows])
    for row in rows:
        migration = folder.get(row.version)
        if migration is None or migration.name != row.name:
            instead = f" ({migration.name} has its number)" if migration is not None else ""
            raise MigrationError(f"applied migration {row.name} is missing from the folder{instead}: restore it "
                                 f"as it was applied (sha256 {_short(row.sha256)}); an applied migration stays, "
                                 f"a change goes into a new one ({suggestion:04d}_...)")
        if migration.sha256 != row.sha256:
            raise MigrationError(f"applied migration {row.name} has changed (applied sha256 {_short(row.sha256)}, "
                                 f"file now {_short(migration.sha256)}): restore the applied content and put the "
                                 f"change into a new migration ({suggestion:04d}_...)")
    applied_versions = {row.version for row in rows}
    new = [m for m in sorted(migrations, key=lambda m: m.version) if m.version not in applied_versions]
    if rows:
        highest = rows[-1]
        for migration in new:
            if migration.version < highest.version:
                slug = _named(migration.name)["slug"]
                raise MigrationError(f"migration {migration.name} is numbered below the highest applied one "
                                     f"({highest.name}): renumber it above, e.g. {file_name(suggestion, slug)}")
    return new


def ledger_digest(rows: Iterable[tuple[int, str]]) -> str:
    """One SHA-256 over ``(version, sha256)`` pairs, equal for equal histories.

    The bytes hashed: for each pair in ascending version order, the version in decimal
    (no leading zeros), one space, the file's SHA-256 as 64 lower-case hex digits, and
    a line feed; UTF-8 (all ASCII), concatenated, nothing else. No pairs: the SHA-256
    of zero bytes. The result is lower-case hex. In SQL, over a ledger with columns
    ``version bigint`` and ``sha256 text``::

        SELECT encode(sha256(convert_to(coalesce(
                 string_agg(version::text || ' ' || sha256 || E'\\n', '' ORDER BY version), ''),
               'UTF8')), 'hex')
          FROM ledger;
    """
    text = "".join(f"{version} {sha256}\n" for version, sha256 in sorted(rows, key=lambda pair: int(pair[0])))
    return hashlib.sha256(text.encode()).hexdigest()


def folder_digest(migrations: Iterable[Migration]) -> str:
    """:func:`ledger_digest` over the folder: equal to a ledger's when nothing is pending
    there and nothing was rewritten (file names are not part of it)."""
    return ledger_digest((m.version, m.sha256) for m in migrations)


# --- The listing ------------------------------------------------------------------------

APPLIED, PENDING, CHANGED, MISSING, OUT_OF_ORDER, UNKNOWN = (
    "applied", "pending", "CHANGED", "MISSING", "OUT OF ORDER", "?")
#: What each status means, printed under the table when it occurs.
LEGEND = {
    APPLIED: "recorded in the ledger with this file's name and SHA-256",
    PENDING: "not recorded yet: the next deploy applies it",
    CHANGED: "recorded with another SHA-256: the file was edited after it was applied (refused)",
    MISSING: "recorded in the ledger, not in the folder (refused)",
    OUT_OF_ORDER: "not recorded, numbered at or below the highest applied one (refused)",
    UNKNOWN: "the ledger could not be read",
}


def _status(migration: Migration, rows: dict[int, Applied], highest: int) -> str:
    row = rows.get(migration.version)
    if row is not None and row.name == migration.name:
        return APPLIED if row.sha256 == migration.sha256 else CHANGED
    return OUT_OF_ORDER if migration.version <= highest else PENDING


def statuses(migrations: Sequence[Migration], applied: Iterable[Applied]) -> list[tuple[str, str]]:
    """One database: ``(file name, status)`` for each file of the folder and each ledger
    row missing from it (:data:`MISSING`), in version order."""
    rows = {row.version: row for row in applied}
    highest = max(rows, default=0)
    found = [(m.version, 0, m.name, _status(m, rows, highest)) for m in migrations]
    names = {(m.version, m.name) for m in migrations}
    found += [(row.version, 1, row.name, MISSING) for row in rows.values() if (row.version, row.name) not in names]
    return [(name, status) for _version, _order, name, status in sorted(found)]


def files_of(files: Mapping[str, bytes]) -> list[Migration]:
    """The migrations among rendered ``files`` (``HOST_DIR/NAME`` -> bytes), in numeric order."""
    prefix = HOST_DIR + "/"
    return sorted((read_content(name[len(prefix):], content) for name, content in files.items()
                   if name.startswith(prefix)), key=lambda m: m.version)


def listing(migrations: Sequence[Migration], applied_by_host: Mapping[str, list[Applied] | str]) -> str:
    """The folder against each database's ledger, as a text table: a row per file (and
    per ledger row missing from the folder), a column per host; then one summary line
    per host (a ``str`` value is that host's error, shown instead of its counts)."""
    hosts = list(applied_by_host)
    ledgers = {host: {row.version: row for row in value} for host, value in applied_by_host.items()
               if not isinstance(value, str)}
    files = {(m.version, m.name) for m in migrations}
    table: list[tuple[int, int, str, dict[str, str]]] = []
    for migration in migrations:
        cells = {}
        for host in hosts:
            if host not in ledgers:
                cells[host] = UNKNOWN
                continue
            highest = max(ledgers[host], default=0)
            cells[host] = _status(migration, ledgers[host], highest)
        table.append((migration.version, 0, migration.name, cells))
    gone: dict[tuple[int, str], dict[str, str]] = {}
    for host, rows in ledgers.items():
        for row in rows.values():
            if (row.version, row.name) not in files:
                gone.setdefault((row.version, row.name), {})[host] = MISSING
    for (version, name), cells in gone.items():
        table.append((version, 1, f"{name} (not in the folder)", cells))
    table.sort(key=lambda entry: entry[:3])

    header = ["migration", *hosts]
    lines = [header] + [[label, *(cells.get(host, "-") for host in hosts)] for _v, _o, label, cells in table]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines]
    if not table:
        out.append("(no migrations in the folder, none applied)")
    out.append("")
    seen: set[str] = set()
    for host in hosts:
        value = applied_by_host[host]
        if isinstance(value, str):
            out.append(f"{host}: {value}")
            seen.add(UNKNOWN)
            continue
        statuses = [cells[host] for _v, _o, _label, cells in table if host in cells]
        seen.update(statuses)
        counts = [f"{statuses.count(status)} {status}" for status in (APPLIED, PENDING, CHANGED, MISSING,
                                                                      OUT_OF_ORDER)
                  if statuses.count(status) or status in (APPLIED, PENDING)]
        out.append(f"{host}: {', '.join(counts)}")
    legend = [f"  {status}: {LEGEND[status]}" for status in LEGEND if status in seen]
    if legend:
        out += ["", *legend]
    return "\n".join(out) + "\n"


def digest_of_files(files: Mapping[str, bytes]) -> str:
    """:func:`folder_digest` of the migrations among ``files`` (``HOST_DIR/NAME`` -> bytes),
    as the deploy renders them for a host."""
    prefix = HOST_DIR + "/"
    return ledger_digest((int(_named(name[len(prefix):])["version"]), hashlib.sha256(content).hexdigest())
                         for name, content in files.items() if name.startswith(prefix))
