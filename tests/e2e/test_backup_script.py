"""bin/backup itself, run on this machine against a real postgres container with compose's
labels (no pyinfra, no sshd): while a session keeps committing rows, the row counts in
counts.tsv are those of the dump (taken in the snapshot the dump uses), so the restore
check passes; and a name that is not a backup's is refused in one line, changing nothing.

Without ``pg_dump --snapshot`` the dump would see rows committed after the counts, and
the restore check would fail the backup: this test is what holds that guarantee.
"""

from __future__ import annotations

import os
import re
import subprocess
import time

import pytest

from postgrest_stack import layout, render, settings
from tests.unit.conftest import SECRETS, group_defaults

IMAGE = "postgres:15.14-bookworm"
STACK = f"e2e-bks-{os.getpid()}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("bks")
    resolved = settings.resolve({**group_defaults(), "auth0_domain": "tenant.eu.auth0.com",
                                 "jwt_audience": "https://api.example.com", "stack_name": STACK,
                                 "app_dir": str(root / "app"), "backup_dir": str(root / "backups")})
    files = render.render(resolved, dict(SECRETS))
    app = root / "app"
    for name in ("bin/backup", layout.SUPERUSER_PASSWORD):
        path = app / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_bytes(files[name].content)
        path.chmod(files[name].mode)
        os.chown(path, files[name].owner_uid, 0)
    os.chown(app / "db", layout.POSTGRES_UID, 0)
    labels = [f"--label=com.docker.compose.{key}={value}"
              for key, value in (("project", STACK), ("service", "db"), ("oneoff", "False"))]
    db = subprocess.run(["docker", "run", "-d", "--name", f"{STACK}-db", *labels, "-e", "POSTGRES_DB=app",
                         "-e", "POSTGRES_PASSWORD_FILE=/run/stack-secrets/superuser-password",
                         "-v", f"{app / 'db'}:/run/stack-secrets:ro", IMAGE],
                        capture_output=True, text=True, check=True).stdout.strip()
    try:
        deadline = time.monotonic() + 120
        while subprocess.run(["docker", "exec", db, "pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0:
            assert time.monotonic() < deadline, "postgres did not start"
            time.sleep(0.5)
        yield root, db
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", db], capture_output=True)


def psql(db: str, sql: str) -> str:
    return subprocess.run(["docker", "exec", db, "psql", "-X", "-tA", "-v", "ON_ERROR_STOP=1", "-U", "postgres",
                           "-d", "app", "-c", sql], capture_output=True, text=True, check=True).stdout.strip()


def test_counts_are_the_dumps_under_concurrent_writes(stack):
    root, db = stack
    psql(db, "CREATE TABLE public.events (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())")
    # One session committing a row every millisecond or so, for the whole backup.
    writer = subprocess.Popen(["docker", "exec", db, "psql", "-X", "-q", "-U", "postgres", "-d", "app", "-c",
                               "DO $$ BEGIN FOR i IN 1..600000 LOOP INSERT INTO public.events DEFAULT VALUES; "
                               "COMMIT; PERFORM pg_sleep(0.001); END LOOP; END $$"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)
        done = subprocess.run([str(root / "app/bin/backup"), "20261202T120000Z"], capture_output=True, text=True,
                              timeout=600)
        after = int(psql(db, "SELECT count(*) FROM public.events"))
    finally:
        psql(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'DO $$%' "
                 "AND pid <> pg_backend_pid()")
        writer.wait(timeout=60)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"backup 20261202T120000Z: \d+ bytes, 1 tables, verified\n", done.stdout), done.stdout
    counted = dict(line.split("\t") for line in (root / "backups/20261202T120000Z/counts.tsv").read_text().splitlines())
    # Rows were committed during the backup: the restore check compared the dump with
    # counts of that very snapshot, not of a moment before or after it.
    assert 0 < int(counted["public.events"]) < after, (counted, after)
    assert sorted(os.listdir(root / "backups")) == ["20261202T120000Z"]


@pytest.mark.parametrize("name", ["", "../x", "20261202T120000Z.partial", "latest", "20261202T120000Z-Pre"])
def test_a_name_that_is_no_backups_is_refused_in_one_line(stack, name):
    root, _db = stack
    before = sorted(os.listdir(root / "backups")) if (root / "backups").exists() else None
    done = subprocess.run([str(root / "app/bin/backup"), name], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("backup: "), done.stderr
    assert (sorted(os.listdir(root / "backups")) if (root / "backups").exists() else None) == before
