"""restore.py end to end (issue 21, item 4): real pyinfra runs over SSH on one host
running the whole stack, its backups in the target's own folder (backup_dir).

A scenario, in file order: deploy, rows and a role, a backup, then more rows and the
role dropped; a restore without the confirmation and one from a truncated db.dump are
refused with one line and change nothing; `restore.py latest` brings the backup's rows
and role back, signed tokens work and forged ones do not, and a deploy after it changes
nothing; then the lost disk: the volume removed, a fresh deploy, the restore, the rows
back.

The backup is made by tests/harness/backups.py in the spec's layout (the lead may switch
it to backup.py); where the deployed stack has no bin/backup, a stand-in is installed
for the restore's safety backup.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import requests

from tests.e2e.harness import Target, bearer, run_pyinfra
from tests.e2e.test_multi_host import bridge_address as bridge_address  # the fixture
from tests.harness import backups
from tests.harness.ports import free_port

ISSUER = "https://tenant.eu.auth0.com/"
ROLE_CLAIM = "https://postgrest-demo.de/role"
RESTORE = "Restore the database (bin/restore)"
ROLE = "c_reporter"


@pytest.fixture(scope="module")
def target(jwks_endpoint):
    made = Target.create("restore-c", jwks_endpoint.url)
    made.data["backup_dir"] = str(made.workdir / "backups")
    made.backups = made.workdir / "backups"
    yield made
    made.destroy()


def token(tenant, target, key="k1"):
    return tenant.token(key, audience=target.data["jwt_audience"], issuer=ISSUER, role_claim=ROLE_CLAIM,
                        role="api_user")


def tasks(target) -> list[str]:
    answer = requests.get(f"{target.api}/todos?order=id", timeout=10)
    assert answer.status_code == 200, answer.text
    return [row["task"] for row in answer.json()]


def post(target, tenant, task: str) -> None:
    created = requests.post(f"{target.api}/todos", json={"task": task}, headers=bearer(token(tenant, target)),
                            timeout=10)
    assert created.status_code == 201, created.text


def role_exists(target) -> bool:
    return backups.psql(target.app_dir, f"SELECT count(*) FROM pg_roles WHERE rolname = '{ROLE}';").strip() == "1"


def folders(target) -> list[str]:
    return sorted(path.name for path in target.backups.iterdir()) if target.backups.exists() else []


def restore(target, **data):
    return target.deploy(script="restore.py", **data)


def test_a_deployed_stack_with_rows_is_backed_up(target, tenant):
    target.deploy().check()
    assert (target.app_dir / "bin/restore").stat().st_mode & 0o777 == 0o700
    for task in ("one", "two", "three"):
        post(target, tenant, task)
    backups.psql(target.app_dir, f"CREATE ROLE {ROLE} NOLOGIN;")
    target.good = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    folder = backups.take(target.app_dir, target.backups, target.good)
    assert (folder / "counts.tsv").read_text() == "api.todos\t3\nstack_meta.migrations\t1\n"
    backups.stub_bin_backup(target.app_dir, target.backups)
    # After the backup: more rows, the role gone.
    post(target, tenant, "four")
    backups.psql(target.app_dir, f"DROP ROLE {ROLE};")
    assert tasks(target) == ["one", "two", "three", "four"] and not role_exists(target)


def test_without_the_confirmation_it_is_refused_before_any_host(target):
    before = folders(target)
    run = restore(target, restore_from="latest")
    assert run.returncode != 0
    assert "no restore_confirm: a restore replaces database 'app'; confirm it with --data restore_confirm=app" \
        in run.output
    assert RESTORE not in run.results
    wrong = restore(target, restore_from="yesterday", restore_confirm="app")
    assert wrong.returncode != 0 and "restore_from='yesterday' is neither 'latest' nor a backup's name" in wrong.output
    assert tasks(target) == ["one", "two", "three", "four"] and folders(target) == before


def test_a_truncated_dump_is_refused_with_one_line_and_nothing_changes(target):
    corrupt = target.backups / "20250101T000000Z"
    shutil.copytree(target.backups / target.good, corrupt)
    before = folders(target)
    with open(corrupt / "db.dump", "r+b") as dump:
        dump.truncate(100)
    try:
        run = restore(target, restore_from=corrupt.name, restore_confirm="app")
        assert run.returncode != 0
        assert f"Starting operation: {RESTORE}" in run.output  # it failed there: the run's one host
        lines = [line for line in run.output.splitlines() if "restore: " in line]
        assert len(lines) == 1, run.output[-3000:]
        assert f"{corrupt}/db.dump does not match its SHA-256 in SHA256SUMS (corrupt or truncated); nothing " \
               "changed" in lines[0]
        # Nothing changed: the rows, and no safety backup taken.
        assert tasks(target) == ["one", "two", "three", "four"]
        assert folders(target) == before
    finally:
        shutil.rmtree(corrupt)


def test_restored_rows_that_differ_from_counts_tsv_are_refused_before_the_swap(target):
    """bin/restore run on the host itself (no pyinfra run): a backup whose counts.tsv
    (and manifest) says 30 rows where the dump holds 3."""
    tampered = target.backups / "20250102T000000Z"
    shutil.copytree(target.backups / target.good, tampered)
    (tampered / "counts.tsv").write_text("api.todos\t30\nstack_meta.migrations\t1\n")
    sums = subprocess.run(["sha256sum", *backups.FILES], cwd=tampered, check=True, capture_output=True, text=True)
    (tampered / "SHA256SUMS").write_text(sums.stdout)
    before = folders(target)
    try:
        done = subprocess.run([str(target.app_dir / "bin/restore"), tampered.name], capture_output=True, text=True,
                              timeout=600)
        assert done.returncode != 0
        assert done.stderr.splitlines() == [
            f"restore: backup {tampered.name}: the restored rows differ from counts.tsv: api.todos has 3 restored, "
            f"counts.tsv says 30; app not touched (stack {target.data['stack_name']})"], done.stderr
        assert tasks(target) == ["one", "two", "three", "four"]
        assert backups.psql(target.app_dir, "SELECT count(*) FROM pg_database WHERE datname = 'app_restore';"
                            ).strip() == "0"
    finally:
        for name in set(folders(target)) - set(before):
            shutil.rmtree(target.backups / name)  # the safety backup it took
        shutil.rmtree(tampered)


def test_restore_latest_brings_back_rows_roles_and_token_access(target, tenant):
    run = restore(target, restore_from="latest", restore_confirm="app").check()
    assert RESTORE in run.changed
    assert "restore: 2 tables, 4 rows restored into app" in run.output
    assert f"restore: {target.good} restored into app (safety backup " in run.output
    assert tasks(target) == ["one", "two", "three"]
    assert role_exists(target)
    # The safety backup holds the database as it was before: four rows.
    safety = [name for name in folders(target) if name.endswith("-pre-restore")]
    assert len(safety) == 1 and "api.todos\t4\n" in (target.backups / safety[0] / "counts.tsv").read_text()
    # The temporary database and the hard links are gone.
    assert backups.psql(target.app_dir, "SELECT count(*) FROM pg_database WHERE datname = 'app_restore';").strip() \
        == "0"
    assert not [path for path in target.backups.iterdir() if path.name.startswith(".")]
    # Token access as after a deploy: signed 201, forged (a key the tenant does not publish) 401.
    post(target, tenant, "after")
    forged = requests.post(f"{target.api}/todos", json={"task": "x"}, headers=bearer(token(tenant, target, "k3")),
                           timeout=10)
    assert forged.status_code == 401
    assert "PostgREST stack | Prove PostgREST read the key file as keys" in run.changed
    assert target.deploy().check().changed == []


def test_a_lost_volume_is_restored_onto_a_fresh_deploy(target):
    subprocess.run([str(target.app_dir / "bin/compose"), "down", "-v"], check=True, capture_output=True, timeout=300)
    target.deploy().check()
    assert tasks(target) == []
    backups.stub_bin_backup(target.app_dir, target.backups)
    restore(target, restore_from=target.good, restore_confirm="app").check()
    assert tasks(target) == ["one", "two", "three"]
    assert role_exists(target)


@pytest.fixture(scope="module")
def db_and_api(jwks_endpoint, bridge_address):
    db = Target.create("restore-db-c", jwks_endpoint.url)
    db.group = "db"
    db.data.update(db_bind=bridge_address, db_port=free_port(), backup_dir=str(db.workdir / "backups"))
    api = Target.create("restore-api-c", jwks_endpoint.url)
    api.group = "api"
    api.data.update(db_host=bridge_address, db_port=db.data["db_port"])
    yield db, api
    for made in (db, api):
        made.destroy()


def test_a_db_host_and_an_api_host_the_api_host_reloads_after_the_restore(db_and_api, tenant):
    db, api = db_and_api
    run_pyinfra([db, api], "deploy.py").check()
    for task in ("kept-1", "kept-2"):
        post(api, tenant, task)
    name = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    backups.take(db.app_dir, db.workdir / "backups", name)
    backups.stub_bin_backup(db.app_dir, db.workdir / "backups")
    post(api, tenant, "lost")
    run = run_pyinfra([db, api], "restore.py", restore_from=name, restore_confirm="app").check()
    # The db host restores, then the api host (only) reloads and proves its keys.
    order = [line.split("Starting operation: ", 1)[1].strip() for line in run.output.splitlines()
             if "Starting operation: " in line]
    assert order.index(RESTORE) < order.index("Wait for the database hosts") < order.index(
        "Reload PostgREST's schema cache (SIGUSR1)") < order.index("PostgREST stack | Prove PostgREST read the key file as keys")
    assert run.results[RESTORE][0] == 1 and run.results["Reload PostgREST's schema cache (SIGUSR1)"][0] == 1
    assert tasks(api) == ["kept-1", "kept-2"]
