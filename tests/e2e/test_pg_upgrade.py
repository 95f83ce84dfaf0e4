"""PostgreSQL major versions end to end (issue 21): a stack deployed on postgres 15 with
rows in it; postgres_image changed to 17 alone is refused before any change, naming
both versions and the runbook; with postgres_upgrade = dump-restore the deploy upgrades
(a verified pre-upgrade backup, the restore into 17, the switch) keeping rows, roles and
token access, keeps the 15 data in its own volume, and a rerun changes nothing.

A scenario: the tests run in file order on one host and build on each other. The 17
image is the local stand-in images/build.sh makes from Debian 13's postgresql-17.
"""

from __future__ import annotations

import hashlib
import subprocess

import docker
import pytest
import requests

from tests.e2e.harness import Target, bearer

OLD, NEW = "postgres:15.14-bookworm", "postgres:17.12-trixie"
UPGRADE = "PostgREST stack | Upgrade PostgreSQL 15 to 17 (backup, restore on a new volume, switch)"
ISSUER = "https://tenant.eu.auth0.com/"
ROLE_CLAIM = "https://postgrest-demo.de/role"


@pytest.fixture(scope="module")
def target(jwks_endpoint):
    if not docker.from_env().images.list(name=NEW):
        pytest.fail(f"image {NEW} is missing: run `make images`")
    made = Target.create("upg", jwks_endpoint.url)
    made.data.update(postgres_image=OLD, backup_dir=str(made.workdir / "backups"))
    yield made
    made.destroy()
    for volume in docker.from_env().volumes.list(filters={"name": made.data["stack_name"]}):
        volume.remove(force=True)


def token(tenant, target, key="k1"):
    return tenant.token(key, audience=target.data["jwt_audience"], issuer=ISSUER, role_claim=ROLE_CLAIM,
                        role="api_user")


def tasks(target):
    return sorted(row["task"] for row in requests.get(f"{target.api}/todos", timeout=10).json())


def in_db(target, sql: str, user: str = "postgres", password: str | None = None) -> str:
    """``sql`` through psql in the stack's db container; with ``password``, over TCP as ``user``."""
    db = target.containers()["db"][0]
    over_tcp = ["-e", f"PGPASSWORD={password}", db, "psql", "-h", "127.0.0.1"] if password else [db, "psql"]
    args = ["docker", "exec", *over_tcp, "-X", "-tA", "-v", "ON_ERROR_STOP=1", "-U", user, "-d", "app", "-c", sql]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def app_digests(target) -> dict[str, str]:
    """Every file of the stack's app_dir, but the run's own audit line (tasks/runlock.py)."""
    return {str(path.relative_to(target.app_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(target.app_dir.rglob("*")) if path.is_file() and not path.name.startswith("audit.log")}


def test_a_stack_on_15_with_rows(target, tenant):
    target.deploy().check()
    for task in ("kept one", "kept two"):
        created = requests.post(f"{target.api}/todos", json={"task": task}, headers=bearer(token(tenant, target)),
                                timeout=10)
        assert created.status_code == 201, created.text
    assert in_db(target, "SHOW server_version_num")[:2] == "15"


def test_another_major_is_refused_before_any_change(target):
    before, files = target.containers(), app_digests(target)
    run = target.deploy(postgres_image=NEW)
    assert run.returncode != 0
    line = next(line for line in run.output.splitlines() if "holds PostgreSQL" in line)
    assert f"{target.data['stack_name']}_db-data holds PostgreSQL 15 data but postgres_image {NEW} runs " \
           "PostgreSQL 17" in line
    assert "docs/backups.md#upgrading-postgresql" in line and "postgres_upgrade" in line
    # Nothing ran: the same containers (ids, start times) and the same files.
    assert target.containers() == before and app_digests(target) == files


def test_dump_restore_upgrades_keeping_rows_roles_and_tokens(target, tenant):
    target.data.update(postgres_image=NEW, postgres_upgrade="dump-restore")
    run = target.deploy().check()
    assert UPGRADE in run.changed, run.output[-4000:]
    assert in_db(target, "SELECT version()").startswith("PostgreSQL 17.")
    assert tasks(target) == ["kept one", "kept two"]
    # The authenticator logs in with its password (the backup holds none: the SQL set it).
    assert in_db(target, "SELECT current_user", user="authenticator",
                 password=target.secrets["STACK_AUTHENTICATOR_PASSWORD"]) == "authenticator"
    assert requests.get(f"{target.api}/todos", headers=bearer(token(tenant, target)), timeout=10).status_code == 200
    forged = requests.get(f"{target.api}/todos", headers=bearer(token(tenant, target, key="k3")), timeout=10)
    assert forged.status_code == 401
    # Writable: the read-only setting of the old server did not come along.
    created = requests.post(f"{target.api}/todos", json={"task": "after"}, headers=bearer(token(tenant, target)),
                            timeout=10)
    assert created.status_code == 201, created.text
    # The verified backup it took, and the 15 data kept for a rollback.
    backups = sorted(p.name for p in (target.workdir / "backups").iterdir())
    assert len(backups) == 1 and backups[0].endswith("-pre-upgrade")
    assert (target.workdir / "backups" / backups[0] / "SHA256SUMS").exists()
    kept = docker.from_env().volumes.get(f"{target.data['stack_name']}_db-data-pg15")
    with open(f"{kept.attrs['Mountpoint']}/PG_VERSION") as version:
        assert version.read().strip() == "15"
    with open(f"{kept.attrs['Mountpoint']}/postgresql.auto.conf") as auto:
        assert "default_transaction_read_only" not in auto.read()


def test_rerun_changes_nothing(target):
    before = target.containers()
    run = target.deploy().check()
    assert run.changed == [], run.output[-3000:]
    assert target.containers() == before
