"""Backups for the restore tests, made exactly in the layout of the backup spec
(docs: a backup on a host), until helper B1's backup.py / bin/backup takes their place.

:func:`take` writes ``<backups_path>/<NAME>/`` (0700) with ``db.dump`` (pg_dump
--format=custom), ``roles.sql`` (pg_dumpall --roles-only --no-role-passwords),
``counts.tsv`` (``schema.table<TAB>rows`` of every ordinary table, sorted), ``info`` and,
last, ``SHA256SUMS`` (sha256sum's format, relative names), every file 0600, all made
inside the stack's db container through its ``bin/compose``. The dump and the counts
are taken one after the other, not in one exported snapshot: the tests write nothing
meanwhile.

``python -m tests.harness.backups APP_DIR BACKUPS_PATH NAME`` does the same, and prints
bin/backup's success line: the stand-in bin/backup a test installs where the deployed
stack has none (never in templates/).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

FILES = ("db.dump", "roles.sql", "counts.tsv", "info")
COUNTS_SQL = r"""SELECT format('SELECT %L || E''\t'' || count(*) FROM %I.%I', n.nspname || '.' || c.relname, n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1 \gexec
"""


def in_db(app_dir: str | Path, script: str, stdin: bytes | None = None) -> bytes:
    """Run ``script`` with sh in the stack's db container; its stdout."""
    done = subprocess.run([str(Path(app_dir) / "bin" / "compose"), "exec", "-T", "db", "sh", "-c", script],
                          input=stdin if stdin is not None else b"", capture_output=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"in the db container: {script!r} failed: {done.stderr.decode(errors='replace')[-2000:]}")
    return done.stdout


def psql(app_dir: str | Path, sql: str, database: str | None = None) -> str:
    """``sql`` through psql -At as the superuser (on POSTGRES_DB unless ``database``)."""
    target = f"'{database}'" if database else '"$POSTGRES_DB"'
    return in_db(app_dir, f'psql -X -q -At -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d {target} -f -',
                 sql.encode()).decode()


def counts(app_dir: str | Path) -> bytes:
    rows = sorted(line for line in psql(app_dir, COUNTS_SQL).splitlines() if line)
    return "".join(f"{row}\n" for row in rows).encode()


def take(app_dir: str | Path, backups_path: str | Path, name: str, stack: str = "", host: str = "") -> Path:
    """A verified-looking backup NAME of the stack at ``app_dir``; its folder."""
    root = Path(backups_path)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    partial = root / f"{name}.partial"
    partial.mkdir(mode=0o700)
    contents = {
        "db.dump": in_db(app_dir, 'pg_dump -U "$POSTGRES_USER" -d "$POSTGRES_DB" --format=custom'),
        "roles.sql": in_db(app_dir, 'pg_dumpall -U "$POSTGRES_USER" --roles-only --no-role-passwords'),
        "counts.tsv": counts(app_dir),
    }
    version = int(psql(app_dir, "SHOW server_version_num;").strip())
    database = in_db(app_dir, 'printf %s "$POSTGRES_DB"').decode()
    contents["info"] = (f"stack={stack}\ndb_name={database}\npostgres_major={version // 10000}\nimage=\n"
                        f"host={host}\ncreated={time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n").encode()
    for file in FILES:
        (partial / file).write_bytes(contents[file])
        os.chmod(partial / file, 0o600)
    sums = "".join(f"{hashlib.sha256(contents[file]).hexdigest()}  {file}\n" for file in FILES)
    (partial / "SHA256SUMS").write_text(sums)
    os.chmod(partial / "SHA256SUMS", 0o600)
    partial.rename(root / name)
    return root / name


def stub_bin_backup(app_dir: str | Path, backups_path: str | Path) -> Path:
    """Where the deployed stack has no bin/backup (helper B1's, not merged here): a stand-in
    that makes the backup with :func:`take`. Never replaces a real one."""
    script = Path(app_dir) / "bin" / "backup"
    if not script.exists():
        root = Path(__file__).resolve().parents[2]
        script.write_text(f"#!/bin/sh\n# test stand-in (tests/harness/backups.py)\ncd {root} && exec {sys.executable} "
                          f"-m tests.harness.backups {app_dir} {backups_path} \"$1\"\n")
        os.chmod(script, 0o700)
    return script


if __name__ == "__main__":
    app, backups, wanted = sys.argv[1:4]
    try:
        made = take(app, backups, wanted)
    except Exception as error:  # one line, as bin/backup's contract says
        print(f"backup: {error}".splitlines()[0], file=sys.stderr)
        sys.exit(1)
    size = sum((made / file).stat().st_size for file in FILES)
    tables = len((made / "counts.tsv").read_bytes().splitlines())
    print(f"backup {wanted}: {size} bytes, {tables} tables, verified")
