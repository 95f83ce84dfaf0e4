"""Backups off the db host and back (tasks/offsite.py), through real pyinfra runs over SSH.

Two loopback sshd targets: ``offdb`` (the db host; its fake backups come from
tests/e2e/deploys/offsite_copy.py) and ``offbk``, in group ``backup`` (group_data/backup.py:
stack_role backup) with only its connection and backup_dir. The db host's login goes
through ``_sudo``; a stand-in ``sudo`` on its PATH (the targets log in as root) records
each use, so pyinfra's sudo transfers and their private staging folders are exercised.
The tests run in order and share the targets (each pyinfra run costs seconds).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.e2e.harness import Target, run_pyinfra
from tests.harness.ports import free_port

pytestmark = pytest.mark.e2e

N1, N2, N3, N4 = "20260101T000000Z", "20260102T000000Z", "20260103T000000Z", "20260104T000000Z"
OLD = "20250101T000000Z"
JWKS = "https://tenant.eu.auth0.com/.well-known/jwks.json"  # never fetched by these runs
COPY = "tests/e2e/deploys/offsite_copy.py"
FETCH = "tests/e2e/deploys/offsite_fetch.py"
FILES = ("db.dump", "roles.sql", "counts.tsv", "info", "SHA256SUMS")
STAGING = Path("/var/tmp")
#: What one test leaves for the next (they run in order).
SHARED: dict = {}

FAKE_SUDO = """#!/bin/sh
# Test stand-in for sudo (the login is root already): record the use, drop the options, run.
echo "$*" >> {log}
while [ $# -gt 0 ]; do
  case "$1" in -u|-g|-p) shift 2 ;; -*) shift ;; *) break ;; esac
done
exec "$@"
"""


def seed(folder: Path, name: str, stack: str) -> None:
    """A verified backup ``folder/name`` of ``stack`` made on this machine (0700, files 0600)."""
    backup = folder / name
    backup.mkdir(parents=True, mode=0o700)
    os.chmod(folder, 0o700)
    lines = []
    for member in FILES[:-1]:
        content = f"stack={stack}\n".encode() if member == "info" else f"{name} {member}\n".encode()
        (backup / member).write_bytes(content)
        lines.append(f"{hashlib.sha256(content).hexdigest()}  {member}\n")
    (backup / "SHA256SUMS").write_text("".join(lines))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_same_backup(source: Path, copy: Path) -> None:
    assert mode(copy) == 0o700, oct(mode(copy))
    assert sorted(p.name for p in copy.iterdir()) == sorted(FILES)
    for name in FILES:
        assert (copy / name).read_bytes() == (source / name).read_bytes(), name
        assert mode(copy / name) == 0o600, (name, oct(mode(copy / name)))
        assert (copy / name).stat().st_uid == 0


def lines_with(output: str, text: str) -> list[str]:
    return [line for line in output.splitlines() if text in line]


def staging_leftovers() -> set[str]:
    return {p.name for p in STAGING.glob("postgrest-offsite.*")}


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    tools = tmp_path_factory.mktemp("fake-sudo")
    sudo_log = tools / "sudo.log"
    (tools / "sudo").write_text(FAKE_SUDO.format(log=sudo_log))
    os.chmod(tools / "sudo", 0o755)
    db = Target.create("offdb", JWKS, extra_config=[f"SetEnv PATH={tools}:/usr/sbin:/usr/bin:/sbin:/bin"])
    bk = Target.create("offbk", JWKS)
    try:
        db.data.update(backup_dir=str(db.workdir / "backups"), backup_keep=2, _sudo=True)
        bk.group = "backup"
        bk.data = {"backup_dir": str(bk.workdir / "backups")}  # a backup host needs no stack settings
        yield db, bk, sudo_log
    finally:
        db.destroy()
        bk.sshd.stop()  # no stack there to take down
        shutil.rmtree(bk.workdir, ignore_errors=True)


def run(hosts, script: str, offsite: str, **env: str):
    db, bk, _log = hosts
    return run_pyinfra([db, bk], script, env={**db.secrets, **env}, backup_offsite=offsite)


def test_copy_to_the_controller_keeps_backup_keep(hosts, tmp_path_factory):
    db, _bk, sudo_log = hosts
    place = tmp_path_factory.mktemp("controller") / "offsite"
    stack = db.data["stack_name"]
    seed(place, N1, stack)
    seed(place, N2, stack)
    seed(place, OLD, "another-stack")  # a place shared with another stack: never pruned by this one
    (place / "unrelated").mkdir()
    (place / f"{N1}.partial").mkdir()
    before = staging_leftovers()

    done = run(hosts, COPY, f"controller:{place}", OFFSITE_TEST_NAME=N3).check()

    assert done.results["Copy the backup off the host (controller:" + str(place) + ")"][:2] == (1, 0)
    assert_same_backup(Path(db.data["backup_dir"]) / N3, place / N3)
    # backup_keep = 2: the oldest verified one went; what is no verified backup stays.
    assert sorted(p.name for p in place.iterdir()) == sorted([OLD, N2, N3, "unrelated", f"{N1}.partial"])
    used = sudo_log.read_text()
    # pyinfra's sudo download copies each file into the private staging folder, never /tmp.
    assert f"{STAGING}/postgrest-offsite." in used, used[-2000:]
    assert "/tmp/pyinfra-" not in used
    assert staging_leftovers() == before
    SHARED["place"] = place  # the next tests fetch from here


def test_a_corrupted_controller_copy_is_refused_with_nothing_changed(hosts):
    db, _bk, _log = hosts
    place = SHARED["place"]
    local = Path(db.data["backup_dir"])
    shutil.rmtree(local / N3)  # the lost-disk case: the newest is only offsite
    dump = place / N3 / "db.dump"
    dump.write_bytes(dump.read_bytes()[:1000])  # truncated
    before = sorted(str(p.relative_to(local)) for p in local.rglob("*"))

    done = run(hosts, FETCH, f"controller:{place}", OFFSITE_TEST_WANTED="latest")

    assert done.returncode != 0
    refused = lines_with(done.output, "checksum mismatch")
    assert len(refused) == 1, done.output[-3000:]
    assert f"{place / N3}/db.dump" in refused[0]
    assert sorted(str(p.relative_to(local)) for p in local.rglob("*")) == before
    assert "fetched name:" not in done.output


def test_fetch_a_named_backup_from_the_controller(hosts):
    db, _bk, _log = hosts
    place = SHARED["place"]
    local = Path(db.data["backup_dir"])
    shutil.rmtree(local / N2, ignore_errors=True)

    done = run(hosts, FETCH, f"controller:{place}", OFFSITE_TEST_WANTED=N2).check()

    assert f"fetched name: {N2} copied: True" in done.output
    assert_same_backup(place / N2, local / N2)
    assert not list(local.glob("*.partial"))
    again = run(hosts, FETCH, f"controller:{place}", OFFSITE_TEST_WANTED=N2).check()
    assert f"fetched name: {N2} copied: False" in again.output


def test_copy_to_a_backup_group_and_fetch_latest_from_it(hosts):
    db, bk, _log = hosts
    kept = Path(bk.data["backup_dir"])
    seed(kept, N1, db.data["stack_name"])
    seed(kept, N2, db.data["stack_name"])

    done = run(hosts, COPY, "group:backup", OFFSITE_TEST_NAME=N3).check()

    local = Path(db.data["backup_dir"])
    assert_same_backup(local / N3, kept / N3)
    assert mode(kept) == 0o700
    assert sorted(p.name for p in kept.iterdir()) == [N2, N3]
    assert lines_with(done.output, f"backup {N3} copied to offbk:{kept}")

    original = {name: (local / N3 / name).read_bytes() for name in FILES}
    shutil.rmtree(local / N3)
    fetched = run(hosts, FETCH, "group:backup", OFFSITE_TEST_WANTED="latest").check()
    assert f"fetched name: {N3} copied: True" in fetched.output
    assert {name: (local / N3 / name).read_bytes() for name in FILES} == original


def test_a_missing_group_is_refused_before_any_host_changes(hosts):
    db, _bk, _log = hosts
    local = Path(db.data["backup_dir"])

    done = run(hosts, COPY, "group:nosuch", OFFSITE_TEST_NAME=N4)

    assert done.returncode != 0
    refused = lines_with(done.output, "no group 'nosuch'")
    assert refused and "(groups: backup, inventory, targets)" in refused[0], done.output[-3000:]
    assert not (local / N4).exists()  # the fake backup's operation never ran


def test_an_unreachable_backup_host_fails_the_run(hosts):
    db, bk, _log = hosts
    reachable = bk.connection_data()
    bk.connection_data = lambda: {**reachable, "ssh_port": free_port()}  # nothing listens there

    done = run(hosts, COPY, "group:backup", OFFSITE_TEST_NAME=N4)

    assert done.returncode != 0
    assert lines_with(done.output, f"backup {N4} not copied off the host: group:backup host offbk could not be "
                                   "reached"), done.output[-3000:]
    assert not (Path(bk.data["backup_dir"]) / N4).exists()
