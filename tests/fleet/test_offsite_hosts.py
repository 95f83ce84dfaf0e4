"""Backups off the db host on production-shaped hosts (tasks/offsite.py): the login is
`deploy` with passwordless sudo, the backups are root's (0700 folders, 0600 files).

A db host (a fake verified backup made by tests/e2e/deploys/offsite_copy.py) and a host
of group `backup`. The copy to the group, to the controller, and the fetch back after a
lost disk go through pyinfra's sudo transfers; nothing is left readable in /tmp or
/var/tmp. The tests run in file order and build on each other.
"""

from __future__ import annotations

import hashlib
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.harness import run_pyinfra
from tests.harness.testhosts import TestHost

pytestmark = pytest.mark.fleet

NAME, LATER = "20260201T000000Z", "20260202T000000Z"
STACK = "offb2"
BACKUPS = f"/var/backups/{STACK}"
#: The backup host's own backups_path: it has no stack_name of its own, so the default's.
KEPT = "/var/backups/postgrest"
FILES = ("db.dump", "roles.sql", "counts.tsv", "info", "SHA256SUMS")
COPY = "tests/e2e/deploys/offsite_copy.py"
FETCH = "tests/e2e/deploys/offsite_fetch.py"


@dataclass
class Host:
    name: str
    host: TestHost
    group: str
    data: dict = field(default_factory=dict)
    secrets: dict = field(default_factory=dict)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fleet-offsite-")))

    def connection_data(self) -> dict:
        return self.host.pyinfra_host_data()

    def sh(self, command: str) -> str:
        rc, output = self.host.exec(command)
        assert rc == 0, f"{self.name}: {command}: {output}"
        return output.strip()

    def listing(self, folder: str) -> dict[str, str]:
        """``{file: "mode owner sha256"}`` of a backup folder and its files."""
        out = self.sh(f"cd {folder} && stat -c '%n %a %U' . {' '.join(FILES)} && sha256sum {' '.join(FILES)}")
        modes, sums = {}, {}
        for line in out.splitlines():
            first, *rest = line.split()
            if len(first) == 64 and len(rest) == 1:
                sums[rest[0]] = first
            else:
                modes[first] = " ".join(rest)
        return {name: f"{modes[name]} {sums.get(name, '-')}" for name in modes}


@pytest.fixture(scope="module")
def hosts(fleet):
    db = Host("b2db", fleet.add_host("b2db"), "targets",
              data={"stack_name": STACK, "auth0_domain": "tenant.eu.auth0.com", "jwt_audience": "https://a.example"})
    bk = Host("b2bk", fleet.add_host("b2bk"), "backup")  # its connection only: group_data/backup.py
    try:
        yield db, bk
    finally:
        db.host.destroy()
        bk.host.destroy()


def no_leftovers(target: Host) -> None:
    assert target.sh("ls -d /tmp/pyinfra-* /var/tmp/postgrest-offsite.* 2>/dev/null || true") == ""


def test_copy_to_the_backup_group_with_a_sudo_login(hosts):
    db, bk = hosts
    run_pyinfra([db, bk], COPY, env={"OFFSITE_TEST_NAME": NAME}, backup_offsite="group:backup").check()
    here, there = db.listing(f"{BACKUPS}/{NAME}"), bk.listing(f"{KEPT}/{NAME}")
    assert there == here
    assert there["."].startswith("700 root")
    assert all(there[name].startswith("600 root ") for name in FILES), there
    assert bk.sh(f"stat -c '%a %U' {KEPT}") == "700 root"
    no_leftovers(db)
    no_leftovers(bk)


def test_copy_to_the_controller_and_fetch_after_a_lost_disk(hosts, tmp_path):
    db, bk = hosts
    place = tmp_path / "offsite"
    run_pyinfra([db, bk], COPY, env={"OFFSITE_TEST_NAME": LATER}, backup_offsite=f"controller:{place}").check()
    kept = db.listing(f"{BACKUPS}/{LATER}")
    for name in FILES:
        copy = place / LATER / name
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        assert kept[name].endswith(hashlib.sha256(copy.read_bytes()).hexdigest())

    db.sh(f"rm -rf {BACKUPS}")  # the lost disk
    done = run_pyinfra([db, bk], FETCH, env={"OFFSITE_TEST_WANTED": "latest"}, backup_offsite="group:backup").check()
    assert f"fetched name: {NAME} copied: True" in done.output  # the group holds NAME only
    assert db.listing(f"{BACKUPS}/{NAME}") == bk.listing(f"{KEPT}/{NAME}")
    no_leftovers(db)
