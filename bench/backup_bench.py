"""Benchmark: backup.py (dump + verification) and restore.py on a database of about 1 GB,
beside plain `pg_dump -Fc` and `pg_restore` of the same database on the same machine.

One host (the e2e harness: sshd on loopback, the stack on this machine's Docker). After
the deploy, `pgbench -i -s SCALE` fills the database (scale 70: 7 million rows in
pgbench_accounts, about 1 GB). Then, each timed on its own:

- `pg_dump -Fc` of the database from the db container, streamed to a file on this
  machine (what a backup writes, without the verification);
- `pg_restore` of that file into a new, empty database of the same server;
- `pyinfra INVENTORY backup.py`: dump, restore into a throwaway container, per-table
  counts compared, rename, prune (and the copy off the host with --offsite);
- `pyinfra INVENTORY restore.py --data restore_from=latest --data restore_confirm=DB`:
  manifest check, safety backup, restore, swap, SQL and migrations.

MB/s is the database's size (pg_database_size before the first dump) over the wall time,
so the four figures compare. Prints figures; asserts only that each step succeeded and
that the restored database holds pgbench's rows. A checkout without backup.py or
restore.py prints those rows as skipped.

Needs what the end-to-end tests need (`make images`) and free disk of about 3x the
database. Run:
.venv/bin/python bench/backup_bench.py [--scale 70] [--offsite]
(--scale 2, about 30 MB, for a quick try)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import ROOT  # noqa: E402
from tests.e2e.harness import Target, run_pyinfra  # noqa: E402
from tests.harness.auth0 import JwksEndpoint, Tenant  # noqa: E402

ROWS_PER_SCALE = 100_000  # pgbench_accounts rows per unit of scale
MB = 1024 * 1024


def in_db(container: str, script: str, *args: str, stdin=None, stdout=None, timeout: int = 3600) -> str:
    """``sh -c SCRIPT ARGS`` in the db container, where $POSTGRES_USER and $POSTGRES_DB
    name the superuser and db_name (as the stack's own host scripts use them)."""
    done = subprocess.run(["docker", "exec", "-i", container, "sh", "-c", script, "sh", *args], stdin=stdin,
                          stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise SystemExit(f"backup_bench: {script.split()[0]} failed: {done.stderr.decode(errors='replace').strip()}")
    return (done.stdout or b"").decode().strip()


def sql(container: str, query: str, database: str | None = None) -> str:
    return in_db(container, 'psql -X -tA -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "${1:-$POSTGRES_DB}" -c "$2"',
                 database or "", query)


def timed(step) -> float:
    started = time.monotonic()
    step()
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=70, help="pgbench scale (70: about 1 GB; 2 for a quick try)")
    parser.add_argument("--offsite", action="store_true",
                        help="backup.py also copies to backup_offsite = controller:<a temporary folder>")
    args = parser.parse_args()
    has = {script: (ROOT / script).exists() for script in ("backup.py", "restore.py")}
    tenant = Tenant.with_keys(("k1",), published=("k1",))
    figures: list[tuple[str, float | None, str]] = []
    with JwksEndpoint(tenant) as endpoint:
        target = Target.create("bakbench-e", endpoint.url)
        target.data["backup_dir"] = str(target.workdir / "backups")
        if args.offsite:
            target.data["backup_offsite"] = f"controller:{target.workdir / 'offsite'}"
        try:
            print("deploying...", file=sys.stderr)
            target.deploy().check()
            db = target.containers()["db"][0]
            db_name = sql(db, "SELECT current_database()")
            print(f"pgbench -i -s {args.scale}...", file=sys.stderr)
            filled = timed(lambda: in_db(db, 'pgbench -i -q -s "$1" -U "$POSTGRES_USER" "$POSTGRES_DB"',
                                         str(args.scale)))
            size = int(sql(db, "SELECT pg_database_size(current_database())"))
            rows = args.scale * ROWS_PER_SCALE

            dump = target.workdir / "plain.dump"
            print("pg_dump -Fc...", file=sys.stderr)
            with dump.open("wb") as out:
                seconds = timed(lambda: in_db(db, 'pg_dump -Fc -U "$POSTGRES_USER" -d "$POSTGRES_DB"', stdout=out))
            figures.append(("pg_dump -Fc (to a file on this machine)", seconds, f"{dump.stat().st_size / MB:.1f} MB dump"))

            print("pg_restore...", file=sys.stderr)
            sql(db, "CREATE DATABASE bench_restore")
            with dump.open("rb") as dumped:
                seconds = timed(lambda: in_db(db, 'pg_restore --exit-on-error -U "$POSTGRES_USER" -d bench_restore',
                                              stdin=dumped))
            restored = int(sql(db, "SELECT count(*) FROM pgbench_accounts", "bench_restore"))
            assert restored == rows, f"pg_restore: {restored} rows in pgbench_accounts, expected {rows}"
            figures.append(("pg_restore (into an empty database)", seconds, f"{restored} rows"))
            sql(db, "DROP DATABASE bench_restore")
            dump.unlink()

            if has["backup.py"]:
                print("backup.py...", file=sys.stderr)
                seconds = timed(lambda: run_pyinfra([target], "backup.py").check())
                names = sorted(p.name for p in Path(target.data["backup_dir"]).iterdir()
                               if (p / "SHA256SUMS").exists() and not p.name.endswith(".partial"))
                assert names, "backup.py succeeded but left no verified backup"
                kept = Path(target.data["backup_dir"]) / names[-1] / "db.dump"
                figures.append(("backup.py (dump + verification" + (" + offsite)" if args.offsite else ")"), seconds,
                                f"{names[-1]}: {kept.stat().st_size / MB:.1f} MB db.dump"))
            else:
                figures.append(("backup.py", None, "skipped: not in this checkout"))

            if has["backup.py"] and has["restore.py"]:
                sql(db, "DELETE FROM pgbench_accounts WHERE aid <= 1000")  # a change the restore must undo
                print("restore.py...", file=sys.stderr)
                seconds = timed(lambda: run_pyinfra([target], "restore.py", restore_from="latest",
                                                    restore_confirm=db_name).check())
                db = target.containers()["db"][0]
                restored = int(sql(db, "SELECT count(*) FROM pgbench_accounts"))
                assert restored == rows, f"restore.py: {restored} rows in pgbench_accounts, expected {rows}"
                figures.append(("restore.py (safety backup + restore + SQL)", seconds, f"{restored} rows"))
            else:
                figures.append(("restore.py", None, "skipped: needs backup.py and restore.py"))
        finally:
            target.destroy()

    print(f"database {db_name}: pgbench scale {args.scale}, {rows} accounts, {size / MB:.0f} MB "
          f"(pg_database_size); filled in {filled:.1f} s")
    print(f"{'step':<48}{'wall time':>10}{'MB/s':>8}  notes")
    for label, seconds, note in figures:
        if seconds is None:
            print(f"{label:<48}{'-':>10}{'-':>8}  {note}")
        else:
            print(f"{label:<48}{seconds:>9.1f}s{size / MB / seconds:>8.1f}  {note}")
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "?")
    print(f"machine: {os.cpu_count()} cores, {model}")


if __name__ == "__main__":
    main()
