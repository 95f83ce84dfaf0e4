"""A run's lock and audit line (postgrest_stack/runs.py): the owner line, the command line
without secrets, the audit line, and the lock script itself run here with sh, tied to a
process of the test (as it is tied to the run's sshd session on a host), and the log's
rotation."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from postgrest_stack import runs

CONTROLLER = runs.Controller("alice@ctl", "deploy.py -y inventories/prod.py --limit web1", "2026-12-02T13:00:00Z")


def test_owner_is_one_line_naming_who_what_and_since_when():
    assert runs.owner(CONTROLLER) == \
        "alice@ctl: deploy.py -y inventories/prod.py --limit web1 (started 2026-12-02T13:00:00Z)"
    assert "\n" not in runs.owner(runs.Controller("a@b", "deploy.py\n--x", "t"))


def test_command_line_leaves_out_data_values_and_passwords():
    argv = ["-y", "/work/p/inventories/prod.py", "/work/p/deploy.py", "--data", "postgres_password=s3cret",
            "--data=jwks_url=x", "--ssh-password", "hunter2", "--limit", "web1"]
    line = runs.command_line("deploy.py", argv)
    assert line == "deploy.py -y /work/p/inventories/prod.py --data postgres_password=… --data jwks_url=… --limit web1"
    assert "s3cret" not in line and "hunter2" not in line


def test_audit_line_is_compact_json_with_every_field():
    line = runs.audit_line("2026-12-02T13:05:00Z", "web1", CONTROLLER, "abc123", True, ["Upload files"], "success")
    assert "\n" not in line
    assert json.loads(line) == {"time": "2026-12-02T13:05:00Z", "host": "web1", "controller": "alice@ctl",
                                "command": CONTROLLER.command, "started": CONTROLLER.started, "commit": "abc123",
                                "dirty": True, "changed": ["Upload files"], "result": "success"}
    with pytest.raises(ValueError, match="audit result 'ok'"):
        runs.audit_line("t", "h", CONTROLLER, None, False, [], "ok")


def test_last_run_line():
    line = runs.audit_line("2026-12-02T13:05:00Z", "web1", CONTROLLER, None, False, [], "failed")
    assert runs.last_run(line) == "last run: 2026-12-02T13:05:00Z alice@ctl deploy.py failed"
    assert runs.last_run("not json") is None and runs.last_run("{}") is None


def test_lock_file_is_beside_app_dir():
    assert runs.lock_file("/opt/postgrest") == "/opt/.postgrest.lock"
    assert runs.lock_file("/opt/postgrest/") == "/opt/.postgrest.lock"
    assert runs.pending_file("/srv/a") == "/srv/.a.lock.pending"


def test_split_lock():
    assert runs.split_lock(["lock taken", "init systemd"]) == (None, ["init systemd"])
    assert runs.split_lock(["lock held alice@ctl: deploy.py (started t)"]) == \
        ("locked by alice@ctl: deploy.py (started t)", [])
    assert runs.split_lock([])[0].startswith("the lock script printed nothing")


# --- the lock script, run with sh: a python process stands for the run's sshd session ---

def _run(app_dir: Path, result: str = "no change", wait: int = 0, user: str = "alice@ctl") -> subprocess.Popen:
    """A 'run': a python process that runs the lock script (so it is the anchor) and stays
    alive until its stdin closes; its first stdout line is what the script printed."""
    controller = runs.Controller(user, "deploy.py -y inv.py", "2026-12-02T13:00:00Z")
    script = runs.lock_script(str(app_dir), runs.owner(controller),
                              runs.audit_line("t", "h", controller, None, False, [], result), wait)
    child = ("import subprocess, sys\n"
             "done = subprocess.run(['sh', '-c', sys.argv[1]], capture_output=True, text=True)\n"
             "print(done.stdout.strip().replace('\\n', ' | '), flush=True)\n"
             "sys.stdin.read()\n")
    return subprocess.Popen([sys.executable, "-c", child, script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


def _end(run: subprocess.Popen, kill: bool = False) -> None:
    if kill:
        run.kill()
    else:
        assert run.stdin is not None
        run.stdin.close()
    run.wait(timeout=10)


def _wait_for(path: Path, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} not written")


def test_second_run_is_refused_naming_the_first_then_takes_it_once_the_first_ended(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    first = _run(app)
    assert first.stdout is not None and first.stdout.readline().strip() == "lock taken"
    second = _run(app, user="bob@other")
    assert second.stdout is not None
    assert second.stdout.readline().strip() == \
        "lock held alice@ctl: deploy.py -y inv.py (started 2026-12-02T13:00:00Z)"
    _end(second)
    _end(first)
    third = _run(app, user="carol@x")  # the first ended: its holder writes the line, frees the lock
    assert third.stdout is not None and third.stdout.readline().strip() == "lock taken"
    _end(third)
    lines = _wait_for(app / "audit.log").splitlines()
    assert json.loads(lines[0])["controller"] == "alice@ctl"
    assert (app / "audit.log").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / ".app.lock").stat().st_mode & 0o777 == 0o600


def test_a_killed_run_frees_the_lock_and_leaves_its_pending_line(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    first = _run(app, result="interrupted")
    assert first.stdout is not None and first.stdout.readline().strip() == "lock taken"
    _end(first, kill=True)  # SIGKILL: nothing of the run's own runs after this
    second = _run(app)
    assert second.stdout is not None and second.stdout.readline().strip() == "lock taken"
    _end(second)
    assert json.loads(_wait_for(app / "audit.log").splitlines()[0])["result"] == "interrupted"


def test_lock_wait_waits_for_the_holder(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    first = _run(app)
    assert first.stdout is not None and first.stdout.readline().strip() == "lock taken"
    second = _run(app, wait=20, user="bob@other")
    time.sleep(1.0)
    _end(first)
    assert second.stdout is not None and second.stdout.readline().strip() == "lock taken"
    _end(second)


def test_no_audit_line_without_app_dir(tmp_path):
    app = tmp_path / "app"  # a first run's --dry: app_dir does not exist
    first = _run(app, result="dry run")
    assert first.stdout is not None and first.stdout.readline().strip() == "lock taken"
    _end(first)
    time.sleep(0.6)
    assert not app.exists()
    assert not (tmp_path / ".app.lock.pending").exists()


def test_audit_log_rotates_past_its_size(tmp_path):
    log = tmp_path / "audit.log"
    log.write_bytes(b"x" * runs.AUDIT_MAX)
    pending = tmp_path / "pending"
    pending.write_text('{"n":1}\n')
    subprocess.run(["sh", "-c", f'log="$1"\n{runs.APPEND_AUDIT}', "sh", str(log), str(pending)], check=True)
    assert (tmp_path / "audit.log.1").read_bytes() == b"x" * runs.AUDIT_MAX
    assert log.read_text() == '{"n":1}\n'
    subprocess.run(["sh", "-c", f'log="$1"\n{runs.APPEND_AUDIT}', "sh", str(log), str(pending)], check=True)
    assert log.read_text() == '{"n":1}\n{"n":1}\n'  # under the size: appended, not rotated
    assert (tmp_path / "audit.log.1").stat().st_size == runs.AUDIT_MAX


def test_last_run_fact_reads_the_logs_last_line():
    from tasks.facts import LastRun

    line = runs.audit_line("2026-12-02T13:05:00Z", "web1", CONTROLLER, None, False, [], "no change")
    assert LastRun().command("/opt/postgrest") == "tail -n 1 /opt/postgrest/audit.log 2>/dev/null || true"
    assert LastRun().process([line]) == "last run: 2026-12-02T13:05:00Z alice@ctl deploy.py no change"
    assert LastRun().process([]) is None
