"""The run lock and the audit trail end to end (tasks/runlock.py): the real `pyinfra`
command line over SSH against one loopback target.

Two runs at once: the first holds the lock while it waits at pyinfra's confirmation
prompt (no -y), the second stops naming it, or waits with lock_wait; a first run killed
with SIGKILL frees the lock for the next one at once. Each run leaves one JSON line in
app_dir/audit.log (success, no change, failed), and `status` shows the last one.

A scenario: the tests run in file order and build on each other.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import subprocess
import threading
import time

import pytest

from postgrest_stack import runs
from tasks.runlock import MARK_OPERATION
from tests.conftest import ROOT
from tests.e2e.harness import PYINFRA, Target, _environment, run_pyinfra, run_status, write_inventory
from tests.harness.auth0 import Tenant

AUDIENCE = "https://api.example.com"
ISSUER = "https://tenant.eu.auth0.com/"
CONTROLLER = f"{getpass.getuser()}@{socket.gethostname()}"


@pytest.fixture(scope="module")
def tenant(tmp_path_factory):
    return Tenant.with_keys(("k1", "k2", "k3"), published=("k1", "k2")).write_pems(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def target(endpoint):
    host = Target.create("rl", endpoint.url)
    try:
        run_pyinfra([host], "deploy.py").check()
        yield host
    finally:
        host.destroy()


def audit(target: Target) -> list[dict]:
    deadline = time.monotonic() + 5  # the holder writes the line once the run's connection is gone
    log = target.app_dir / runs.AUDIT_LOG
    lines: list[dict] = []
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        if not (target.app_dir.parent / f".{target.app_dir.name}.lock.pending").exists():
            break
        time.sleep(0.1)
    return lines


class Held:
    """A run of deploy.py without -y: it takes the lock in its probe, then waits at the prompt."""

    def __init__(self, target: Target):
        inventory = write_inventory([target])
        self.process = subprocess.Popen([PYINFRA, str(inventory), "deploy.py"], cwd=ROOT,
                                        env=_environment([target], None), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output = b""
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 120
        while b"Press enter to execute" not in self.output:
            assert self.process.poll() is None and time.monotonic() < deadline, self.output.decode()[-3000:]
            time.sleep(0.1)

    def _read(self):
        assert self.process.stdout is not None
        while True:
            try:  # pyinfra (gevent) makes the pipe it shares non-blocking
                chunk = os.read(self.process.stdout.fileno(), 4096)
            except BlockingIOError:
                time.sleep(0.05)
                continue
            if not chunk:
                return
            self.output += chunk

    def go_on(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.write(b"\n")
        self.process.stdin.close()
        return self.process.wait(timeout=300)


def test_a_deploy_writes_one_success_line(target):
    [line] = audit(target)
    assert line["result"] == "success" and line["host"] == "rl" and line["controller"] == CONTROLLER
    assert line["command"].startswith("deploy.py -y ")
    assert line["changed"] and MARK_OPERATION not in line["changed"]
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    assert line["commit"] == head.strip()
    assert (target.app_dir / runs.AUDIT_LOG).stat().st_mode & 0o777 == 0o600


def test_a_rerun_with_no_change_is_one_command_and_one_line(target):
    since = len(target.sshd.log())
    assert target.deploy("--limit", "rl").check().changed == []
    assert target.sshd.log()[since:].count("Starting session: command") == 1
    assert audit(target)[-1]["result"] == "no change"


def test_a_second_run_stops_naming_the_first_then_a_killed_first_frees_the_lock(target):
    first = Held(target)
    try:
        started = time.monotonic()
        second = target.deploy()
        assert second.returncode == 1, second.output[-3000:]
        assert time.monotonic() - started < 60
        [line] = [line for line in second.output.splitlines() if "locked by" in line]
        assert f"rl: locked by {CONTROLLER}: deploy.py " in line and "(started 20" in line, line
        assert "retry once it is over, or set lock_wait" in line
    finally:
        first.process.kill()  # SIGKILL: the run does nothing more
        first.process.wait(timeout=30)
    third = target.deploy().check()  # at once: the host's sshd ended the killed run's session
    assert third.changed == []


def test_lock_wait_waits_for_the_run_holding_the_lock(target):
    first = Held(target)
    inventory = write_inventory([target])
    second = subprocess.Popen([PYINFRA, "-y", str(inventory), "deploy.py", "--data", "lock_wait=120"], cwd=ROOT,
                              env=_environment([target], None), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    time.sleep(5)
    assert second.poll() is None  # waiting for the lock
    assert first.go_on() == 0
    output, _ = second.communicate(timeout=300)
    assert second.returncode == 0, output[-3000:]


def test_a_failed_run_writes_a_failed_line_and_status_shows_it(target, tenant):
    tenant.publish("k2", "k3")
    run = run_pyinfra([target], "rotate_keys.py",
                      smoke_token_command=tenant.smoke_command("k1", audience=AUDIENCE, issuer=ISSUER))
    assert run.returncode != 0
    line = audit(target)[-1]
    assert line["result"] == "failed" and line["command"].startswith("rotate_keys.py -y ")
    report = run_status([target])
    assert f"    last run: {line['time']} {CONTROLLER} rotate_keys.py failed" in report.output.splitlines(), \
        report.output
