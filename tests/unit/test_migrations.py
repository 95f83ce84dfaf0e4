"""The migrations folder's rules (postgrest_stack/migrations.py): order, refusals, the
no-transaction marker, the digests a probe compares, and the listing."""

from __future__ import annotations

import hashlib

import pytest

from postgrest_stack import migrations
from postgrest_stack.migrations import (
    Applied,
    Migration,
    MigrationError,
    folder_digest,
    ledger_digest,
    listing,
    pending,
    scan,
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(folder, **files: bytes | str):
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content.encode() if isinstance(content, str) else content)
    return folder


def folder_of(tmp_path, *names: str):
    """A folder with one small file per name (content: its own name)."""
    return write(tmp_path / "migrations", **{name: f"-- {name}\nSELECT 1;\n" for name in names})


def applied(migration: Migration) -> Applied:
    return Applied(migration.version, migration.name, migration.sha256)


def refusal(migrations, rows) -> str:
    with pytest.raises(MigrationError) as error:
        pending(migrations, rows)
    message = str(error.value)
    assert "\n" not in message
    return message


# --- the folder ---------------------------------------------------------------------------


def test_files_are_ordered_by_number_not_by_name(tmp_path):
    folder = folder_of(tmp_path, "10000_last.sql", "9999_before_last.sql", "0002_second.sql", "00010_tenth.sql",
                       "0001_first.sql")
    migrations = scan(folder)
    assert [m.version for m in migrations] == [1, 2, 10, 9999, 10000]
    assert [m.name for m in migrations] == ["0001_first.sql", "0002_second.sql", "00010_tenth.sql",
                                            "9999_before_last.sql", "10000_last.sql"]
    assert [m.name for m in pending(migrations, [])] == [m.name for m in migrations]
    assert pending(sorted(migrations, key=lambda m: m.name), []) == migrations  # whatever order it is given
    # With the first two applied, the rest follow in the same numeric order.
    assert [m.version for m in pending(migrations, [applied(m) for m in migrations[:2]])] == [10, 9999, 10000]


def test_a_migration_is_its_file(tmp_path):
    content = b"CREATE TABLE api.orders (id bigint);\n"
    [migration] = scan(write(tmp_path / "m", **{"0042_orders.sql": content}))
    assert migration == Migration(version=42, name="0042_orders.sql", sha256=sha(content), no_transaction=False,
                                  content=content)


def test_a_missing_or_empty_folder_has_no_migrations(tmp_path):
    assert scan(tmp_path / "nowhere") == []
    (tmp_path / "empty").mkdir()
    assert scan(tmp_path / "empty") == []
    assert pending([], []) == []


def test_dotfiles_and_other_files_are_ignored(tmp_path):
    folder = write(tmp_path / "m", **{"0001_a.sql": "SELECT 1;", "README.md": "notes", ".0002_b.sql.swp": "x",
                                      ".draft.sql": "not yet", "0003_c.sql.orig": "backup", "notes.txt": ""})
    (folder / "archive").mkdir()
    assert [m.name for m in scan(folder)] == ["0001_a.sql"]


@pytest.mark.parametrize("name", ["001_short.sql", "0001-dash.sql", "0001_Upper.sql", "0001_.sql", "0001.sql",
                                  "add_orders.sql", "0001_has space.sql", "0001__leading.sql", "v0001_a.sql"])
def test_a_sql_file_breaking_the_pattern_is_refused(tmp_path, name):
    folder = folder_of(tmp_path, "0001_fine.sql", name)
    with pytest.raises(MigrationError) as error:
        scan(folder)
    assert str(error.value) == (
        f"migration file {name!r} in {folder} does not match NNNN_slug.sql "
        "(^(?P<version>[0-9]{4,})_(?P<slug>[a-z0-9][a-z0-9_]*)\\.sql$): rename it, e.g. 0001_add_orders.sql")


def test_two_files_with_the_same_number_are_refused_naming_both(tmp_path):
    folder = folder_of(tmp_path, "0001_todos.sql", "0007_orders.sql", "00007_invoices.sql")
    with pytest.raises(MigrationError) as error:
        scan(folder)
    assert str(error.value) == (f"migrations 00007_invoices.sql and 0007_orders.sql in {folder} have the same "
                                "number 7: renumber one of them (the next free number is 0008)")


def test_a_file_where_the_folder_should_be_is_refused(tmp_path):
    (tmp_path / "migrations").write_text("")
    with pytest.raises(MigrationError, match="is not a folder"):
        scan(tmp_path / "migrations")


@pytest.mark.parametrize(("content", "expected"), [
    pytest.param(b"-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY i ON api.t (a);\n", True, id="marker"),
    pytest.param(b"-- migrate: no-transaction   \t\nCREATE INDEX CONCURRENTLY i ON api.t (a);\n", True,
                 id="marker-trailing-space"),
    pytest.param(b"-- migrate: no-transaction\r\nCREATE INDEX CONCURRENTLY i ON api.t (a);\r\n", True,
                 id="marker-crlf"),
    pytest.param(b"-- migrate: no-transaction", True, id="marker-only"),
    pytest.param(b"CREATE TABLE api.t (a int);\n", False, id="no-marker"),
    pytest.param(b"", False, id="empty"),
    pytest.param(b" -- migrate: no-transaction\n", False, id="leading-space"),
    pytest.param(b"-- Migrate: No-Transaction\n", False, id="other-case"),
    pytest.param(b"-- migrate: no-transaction please\n", False, id="more-text"),
    pytest.param(b"--migrate: no-transaction\n", False, id="no-space"),
    pytest.param(b"-- header\n-- migrate: no-transaction\n", False, id="second-line"),
])
def test_only_an_exact_first_line_runs_outside_a_transaction(tmp_path, content, expected):
    [migration] = scan(write(tmp_path / "m", **{"0001_index.sql": content}))
    assert migration.no_transaction is expected


# --- against a ledger -----------------------------------------------------------------------


def test_pending_is_what_the_ledger_lacks(tmp_path):
    migrations = scan(folder_of(tmp_path, "0001_todos.sql", "0002_orders.sql", "0005_gap_is_fine.sql"))
    assert pending(migrations, [applied(m) for m in migrations]) == []
    assert pending(migrations, [applied(migrations[0])]) == migrations[1:]
    # The ledger's order does not matter.
    assert pending(migrations, [applied(migrations[1]), applied(migrations[0])]) == migrations[2:]


def test_an_applied_file_that_changed_is_refused_with_both_digests(tmp_path):
    folder = folder_of(tmp_path, "0001_todos.sql", "0002_orders.sql", "0003_new.sql")
    before = scan(folder)
    (folder / "0002_orders.sql").write_text("-- edited after it was applied\n")
    after = scan(folder)
    assert refusal(after, [applied(m) for m in before[:2]]) == (
        f"applied migration 0002_orders.sql has changed (applied sha256 {before[1].sha256[:12]}, file now "
        f"{after[1].sha256[:12]}): restore the applied content and put the change into a new migration (0004_...)")


def test_an_applied_file_missing_from_the_folder_is_refused(tmp_path):
    migrations = scan(folder_of(tmp_path, "0001_todos.sql", "0002_orders.sql", "0003_invoices.sql"))
    rows = [applied(m) for m in migrations]
    assert refusal([migrations[0], migrations[2]], rows) == (
        f"applied migration 0002_orders.sql is missing from the folder: restore it as it was applied (sha256 "
        f"{migrations[1].sha256[:12]}); an applied migration stays, a change goes into a new one (0004_...)")


def test_a_renamed_applied_file_is_refused_as_missing(tmp_path):
    folder = folder_of(tmp_path, "0001_todos.sql")
    [original] = scan(folder)
    (folder / "0001_todos.sql").rename(folder / "0001_tasks.sql")
    assert refusal(scan(folder), [applied(original)]) == (
        f"applied migration 0001_todos.sql is missing from the folder (0001_tasks.sql has its number): restore it "
        f"as it was applied (sha256 {original.sha256[:12]}); an applied migration stays, a change goes into a new "
        f"one (0002_...)")


def test_a_new_file_numbered_below_the_highest_applied_one_is_refused(tmp_path):
    folder = folder_of(tmp_path, "0001_todos.sql", "0003_orders.sql")
    rows = [applied(m) for m in scan(folder)]
    folder_of(tmp_path, "0002_late_branch.sql", "0004_next.sql")
    assert refusal(scan(folder), rows) == (
        "migration 0002_late_branch.sql is numbered below the highest applied one (0003_orders.sql): renumber it "
        "above, e.g. 0005_late_branch.sql")


def test_a_new_file_above_the_highest_applied_one_is_pending(tmp_path):
    folder = folder_of(tmp_path, "0001_todos.sql", "0003_orders.sql")
    rows = [applied(m) for m in scan(folder)]
    folder_of(tmp_path, "0004_next.sql", "10000_far.sql")
    assert [m.name for m in pending(scan(folder), rows)] == ["0004_next.sql", "10000_far.sql"]


# --- digests --------------------------------------------------------------------------------


def test_ledger_digest_hashes_documented_bytes():
    a, b = "a" * 64, "0123456789abcdef" * 4
    expected = sha(f"9 {a}\n10 {b}\n".encode())
    assert ledger_digest([(10, b), (9, a)]) == expected  # numeric order, whatever the given order
    assert ledger_digest([(9, a), (10, b)]) == expected
    assert ledger_digest([]) == sha(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_equal_digests_mean_nothing_pending(tmp_path):
    folder = folder_of(tmp_path, "0001_todos.sql", "0002_orders.sql")
    migrations = scan(folder)
    rows = [(m.version, m.sha256) for m in migrations]
    assert folder_digest(migrations) == ledger_digest(rows)
    assert folder_digest(migrations) != ledger_digest(rows[:1])  # one pending
    assert folder_digest([]) == ledger_digest([])
    (folder / "0002_orders.sql").write_text("-- edited\n")
    assert folder_digest(scan(folder)) != ledger_digest(rows)  # an edit shows
    folder_of(tmp_path, "0003_more.sql")
    assert folder_digest(scan(folder)) != ledger_digest(rows)


# --- listing --------------------------------------------------------------------------------


def test_listing_shows_each_file_per_database(tmp_path):
    folder = folder_of(tmp_path, "0001_todos.sql", "0002_orders.sql", "0003_invoices.sql")
    migrations = scan(folder)
    rows = [applied(m) for m in migrations]
    edited = Applied(2, "0002_orders.sql", "f" * 64)
    gone = Applied(4, "0004_dropped.sql", "e" * 64)
    text = listing(migrations, {
        "db-1.prod": rows[:2],
        "db-2": [rows[0], edited, gone],
        "staging-db": "cannot read the ledger: connection refused",
        "fresh": [],
    })
    assert text == (
        "migration                             db-1.prod  db-2          staging-db  fresh\n"
        "0001_todos.sql                        applied    applied       ?           pending\n"
        "0002_orders.sql                       applied    CHANGED       ?           pending\n"
        "0003_invoices.sql                     pending    OUT OF ORDER  ?           pending\n"
        "0004_dropped.sql (not in the folder)  -          MISSING       -           -\n"
        "\n"
        "db-1.prod: 2 applied, 1 pending\n"
        "db-2: 1 applied, 0 pending, 1 CHANGED, 1 MISSING, 1 OUT OF ORDER\n"
        "staging-db: cannot read the ledger: connection refused\n"
        "fresh: 0 applied, 3 pending\n"
        "\n"
        "  applied: recorded in the ledger with this file's name and SHA-256\n"
        "  pending: not recorded yet: the next deploy applies it\n"
        "  CHANGED: recorded with another SHA-256: the file was edited after it was applied (refused)\n"
        "  MISSING: recorded in the ledger, not in the folder (refused)\n"
        "  OUT OF ORDER: not recorded, numbered at or below the highest applied one (refused)\n"
        "  ?: the ledger could not be read\n")


def test_listing_agrees_with_pending(tmp_path):
    """A host whose listing shows only applied and pending is one pending() accepts, with
    the same files pending; any other status is one pending() refuses."""
    folder = folder_of(tmp_path, "0001_todos.sql", "0002_orders.sql", "0003_invoices.sql")
    migrations = scan(folder)
    rows = [applied(m) for m in migrations]
    ledgers = {"ok": rows[:1], "changed": [rows[0], Applied(2, rows[1].name, "0" * 64)],
               "missing": [*rows, Applied(4, "0004_gone.sql", "1" * 64)], "below": [rows[0], rows[2]]}
    for host, ledger in ledgers.items():
        summary = [line for line in listing(migrations, {host: ledger}).splitlines() if line.startswith(host)]
        if host == "ok":
            assert summary == ["ok: 1 applied, 2 pending"]
            assert [m.name for m in pending(migrations, ledger)] == ["0002_orders.sql", "0003_invoices.sql"]
        else:
            assert any(status in summary[0] for status in ("CHANGED", "MISSING", "OUT OF ORDER")), summary
            with pytest.raises(MigrationError):
                pending(migrations, ledger)


def test_listing_of_nothing(tmp_path):
    assert listing([], {"db-1": []}) == (
        "migration  db-1\n(no migrations in the folder, none applied)\n\ndb-1: 0 applied, 0 pending\n")


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    (tmp_path / "0001_latin1.sql").write_bytes("SELECT 'caf\xe9';\n".encode("latin-1"))
    with pytest.raises(migrations.MigrationError, match=r"^migration 0001_latin1.sql in .* is not UTF-8 text"):
        migrations.scan(tmp_path)


def test_the_rendered_files_digest_as_the_folder(tmp_path):
    (tmp_path / "0002_b.sql").write_text("SELECT 2;\n")
    (tmp_path / "0001_a.sql").write_text("SELECT 1;\n")
    found = migrations.scan(tmp_path)
    files = {f"migrations/{m.name}": m.content for m in found} | {"sql/01-roles.sql": b"x"}
    assert migrations.digest_of_files(files) == migrations.folder_digest(found)
    assert migrations.digest_of_files({}) == migrations.ledger_digest([])
