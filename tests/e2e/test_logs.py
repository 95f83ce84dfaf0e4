"""``python -m postgrest_stack logs`` against real deploys over SSH (issue 23): lines
come prefixed ``[logs] ``, ``--service`` keeps one service's, ``--tail`` bounds them;
``--follow`` over two hosts prints each host's lines as they are written until Ctrl-C,
which ends compose on both hosts too; a host without the stack or one that does not
answer is named with exit 1, the others still shown. The running containers use
json-file with the settings' rotation; ``postgrest_log_level = warn`` makes a token
refused for its signature (401) appear in the logs, and a change of level recreates
PostgREST (a reload would not apply it).

A scenario: the tests run in file order on one host and build on each other.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import docker
import pytest
import requests

from tests.conftest import ROOT
from tests.e2e.harness import Target, _environment, bearer, write_inventory

# compose's prefix: the container's service-index, padded to the longest name shown.
POSTGREST = re.compile(r"^\[logs\] postgrest-1 +\| ")
DB = re.compile(r"^\[logs\] db-1 +\| ")


@pytest.fixture(scope="module")
def target(endpoint):
    made = Target.create("logs", endpoint.url)
    made.data.update(log_max_size="2m", log_max_files=3, postgrest_log_level="warn")
    yield made
    made.destroy()


def logs(targets, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess:
    inventory = write_inventory(targets)
    return subprocess.run([sys.executable, "-m", "postgrest_stack", "logs", str(inventory), *extra], cwd=ROOT,
                          env=_environment(targets, None), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def test_a_deploy_runs_every_container_with_json_file_rotation(target):
    target.deploy().check()
    client = docker.from_env()
    for service, (container_id, _started) in target.containers().items():
        config = client.containers.get(container_id).attrs["HostConfig"]["LogConfig"]
        assert config == {"Type": "json-file", "Config": {"max-size": "2m", "max-file": "3"}}, service
    assert set(target.containers()) == {"db", "postgrest"}


def test_logs_prints_every_service_prefixed_with_the_host(target):
    done = logs([target])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines and all(line.startswith("[logs] ") for line in lines), lines[:5]
    assert any(POSTGREST.match(line) for line in lines), lines[:20]
    assert any(DB.match(line) for line in lines), lines[:20]
    assert done.stderr == ""


def test_service_keeps_one_service_and_tail_bounds_it(target):
    done = logs([target], "--service", "postgrest")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines and all(POSTGREST.match(line) for line in lines), lines[:5]
    assert "Listening on port" in done.stdout or "Connection successful" in done.stdout, done.stdout
    tail = logs([target], "--service", "db", "--tail", "2")
    assert tail.returncode == 0, tail.stderr
    assert len(tail.stdout.splitlines()) == 2 and all(
        DB.match(line) for line in tail.stdout.splitlines())


def test_a_rejected_token_is_logged_at_warn(target, tenant):
    forged = tenant.token("k3", audience=target.data["jwt_audience"], issuer="https://tenant.eu.auth0.com/",
                          role_claim="https://postgrest-demo.de/role", role="api_user")  # k3: not published
    assert requests.get(f"{target.api}/todos", headers=bearer(forged), timeout=5).status_code == 401
    done = logs([target], "--service", "postgrest", "--since", "5m")
    assert done.returncode == 0, done.stderr
    assert any('"GET /todos HTTP/1.1" 401' in line for line in done.stdout.splitlines()), done.stdout[-3000:]


def _following(app_dir) -> list[int]:
    """This machine's processes running a compose logs in ``app_dir`` (the targets' sshd
    run here): the hosts' side of --follow."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and os.readlink(proc / "cwd") == str(app_dir) \
                    and b"logs" in (proc / "cmdline").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_follow_interleaves_hosts_as_lines_come_and_ctrl_c_ends_it_on_every_host(target, endpoint):
    second = Target.create("logs2", endpoint.url)
    second.data.update(postgrest_log_level="warn")
    try:
        second.deploy().check()
        inventory = write_inventory([target, second])
        process = subprocess.Popen([sys.executable, "-m", "postgrest_stack", "logs", str(inventory), "--service",
                                    "postgrest", "--tail", "0", "--follow"], cwd=ROOT,
                                   env=_environment([target], None), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, stdin=subprocess.DEVNULL)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
        try:
            deadline = time.monotonic() + 20
            while not (_following(target.app_dir) and _following(second.app_dir)):
                assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
                time.sleep(0.2)
            time.sleep(1)
            seen = []
            for host in (target, second, target):  # 404s, logged at warn, while the command still runs
                requests.get(f"{host.api}/follow_{host.name}_{len(seen)}", timeout=5)
                seen.append(lines.get(timeout=30))
            assert re.match(r"^\[logs\] postgrest-1 +\| .*/follow_logs_0 ", seen[0]), seen
            assert re.match(r"^\[logs2\] postgrest-1 +\| .*/follow_logs2_1 ", seen[1]), seen
            assert re.match(r"^\[logs\] postgrest-1 +\| .*/follow_logs_2 ", seen[2]), seen
            assert process.poll() is None  # still following
            process.send_signal(signal.SIGINT)  # Ctrl-C
            assert process.wait(timeout=30) == 130
            assert process.stderr.read() == ""
            deadline = time.monotonic() + 10
            while _following(target.app_dir) or _following(second.app_dir):  # compose ends on both hosts
                assert time.monotonic() < deadline, (_following(target.app_dir), _following(second.app_dir))
                time.sleep(0.2)
        finally:
            process.kill()
            process.wait(timeout=30)
    finally:
        second.destroy()


def test_a_new_level_recreates_postgrest_and_is_in_effect(target):
    """A reload would not apply it (tests/contract/test_log_level.py): compose.yaml names it."""
    before = target.containers()
    target.data["postgrest_log_level"] = "info"
    run = target.deploy().check()
    after = target.containers()
    assert after["postgrest"][0] != before["postgrest"][0] and after["db"] == before["db"], run.output[-3000:]
    assert requests.get(f"{target.api}/todos?at_info", timeout=5).status_code == 200
    done = logs([target], "--service", "postgrest", "--since", "2m")
    assert any('"GET /todos?at_info HTTP/1.1" 200' in line for line in done.stdout.splitlines()), done.stdout[-3000:]
    assert target.deploy().check().changed == []


def test_a_host_without_the_stack_and_an_unreachable_one_are_named_the_others_shown(target, endpoint):
    bare = Target.create("bare", endpoint.url)
    gone = Target.create("gone", endpoint.url)
    gone.sshd.stop()
    try:
        done = logs([target, bare, gone], "--service", "postgrest", "--tail", "3")
        assert done.returncode == 1
        assert len([line for line in done.stdout.splitlines() if POSTGREST.match(line)]) == 3
        errors = done.stderr.splitlines()
        assert len(errors) == 2, errors
        assert errors[0].startswith("[bare] no logs: no stack here: ") and "bin/compose is missing" in errors[0]
        assert errors[1].startswith("[gone] no logs: unreachable: "), errors
    finally:
        bare.destroy()
        gone.destroy()


def test_refusals_are_one_line_before_connecting(target):
    stopped = Target.create("never", "https://unused.example/jwks.json")
    stopped.sshd.stop()
    try:
        for args, message in ((["--service", "web"], "--service 'web': expected one of"),
                              (["--since", "yesterday"], "--since 'yesterday': expected a duration"),
                              (["--host", "nosuch"], "--host 'nosuch': no group or host of the inventory")):
            done = logs([stopped], *args)
            assert done.returncode == 2 and done.stdout == ""
            assert done.stderr.splitlines() == [f"error: {done.stderr.strip()[7:]}"]
            assert message in done.stderr and "unreachable" not in done.stderr
    finally:
        stopped.destroy()

