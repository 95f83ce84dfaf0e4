"""The postgres stand-ins (images/build.sh) honour the official image's contract the stack
relies on, 15 (Debian 12) and 17 (Debian 13, the upgrade's target) alike: the superuser's
password from POSTGRES_PASSWORD_FILE, POSTGRES_USER/POSTGRES_DB at initdb, initdb on an
empty volume only (a second start keeps the data and ignores a new password file),
password logins over TCP, and pg_isready, psql, pg_dump, pg_restore and pg_dumpall on PATH."""

from __future__ import annotations

import subprocess
import time
import uuid

import docker
import pytest

IMAGES = {"postgres:15.14-bookworm": "15", "postgres:17.12-trixie": "17"}


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, input=stdin, capture_output=True, timeout=120)


def start(image: str, volume: str, secrets, name: str) -> str:
    done = run("docker", "run", "-d", "--name", name, "--network", "none", "-v", f"{volume}:/var/lib/postgresql/data",
               "-v", f"{secrets}:/run/s:ro", "-e", "POSTGRES_USER=boss", "-e", "POSTGRES_DB=app",
               "-e", "POSTGRES_PASSWORD_FILE=/run/s/pw", image)
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 60
    # TCP answers once initdb's socket-only temporary server is gone.
    while run("docker", "exec", name, "pg_isready", "-q", "-h", "127.0.0.1").returncode != 0:
        assert time.monotonic() < deadline, run("docker", "logs", name).stderr.decode()[-2000:]
        time.sleep(0.5)
    return name


def sql(name: str, query: str, password: str) -> str:
    done = run("docker", "exec", "-e", f"PGPASSWORD={password}", name, "psql", "-X", "-tA", "-v", "ON_ERROR_STOP=1",
               "-h", "127.0.0.1", "-U", "boss", "-d", "app", "-c", query)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode().strip()


@pytest.mark.parametrize("image", IMAGES)
def test_stand_in_contract(image, tmp_path):
    if not docker.from_env().images.list(name=image):
        pytest.fail(f"image {image} is missing: run `make images`")
    tag = f"d-pgimg-{uuid.uuid4().hex[:8]}"
    secrets = tmp_path / "s"
    secrets.mkdir()
    (secrets / "pw").write_text("first-password\n")
    try:
        name = start(image, tag, secrets, f"{tag}-1")
        assert sql(name, "SHOW server_version_num", "first-password").startswith(IMAGES[image])
        sql(name, "CREATE TABLE t (n int); INSERT INTO t SELECT generate_series(1, 5)", "first-password")
        dump = run("docker", "exec", name, "pg_dump", "-Fc", "-U", "boss", "app")
        roles = run("docker", "exec", name, "pg_dumpall", "--roles-only", "--no-role-passwords", "-U", "boss")
        assert dump.returncode == 0 and roles.returncode == 0 and b"CREATE ROLE boss" in roles.stdout
        restored = run("docker", "exec", "-i", name, "sh", "-c",
                       "createdb -U boss copy && pg_restore --exit-on-error -U boss -d copy", stdin=dump.stdout)
        assert restored.returncode == 0, restored.stderr
        assert run("docker", "exec", name, "psql", "-tA", "-U", "boss", "-d", "copy", "-c",
                   "SELECT count(*) FROM t").stdout.strip() == b"5"
        # A second container on the same volume: no initdb, the data and the first password stay.
        assert run("docker", "stop", name).returncode == 0
        (secrets / "pw").write_text("second-password\n")
        again = start(image, tag, secrets, f"{tag}-2")
        assert "Skipping initialization" in run("docker", "logs", again).stdout.decode()
        assert sql(again, "SELECT count(*) FROM t", "first-password") == "5"
    finally:
        run("docker", "rm", "-f", "-v", f"{tag}-1", f"{tag}-2")
        run("docker", "volume", "rm", "-f", tag)
