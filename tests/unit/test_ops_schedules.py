"""The schedule examples under ops/ are ready to use: the systemd units pass
`systemd-analyze verify`, the cron line is a valid /etc/cron.d entry, the CI workflow
parses and has what its runner needs, and each names the secrets it uses. The backup
timer is what `python -m postgrest_stack timer backup` prints for backup_schedule's default."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from postgrest_stack import schedule, settings
from tests.conftest import ROOT
from tests.unit.test_cli import cli

OPS = ROOT / "ops"
INSTALL_DIR = "/opt/postgrest-auth0-deploy"  # where the examples expect the checkout
UNITS = ("postgrest-rotate-keys.service", "postgrest-rotate-keys.timer")
SECRETS = ("ALERT_WEBHOOK_URL", "SMOKE_SECRET")
BACKUP_UNITS = ("postgrest-backup.service", "postgrest-backup.timer")


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: scripts/install-system-packages.sh installs package systemd"
    for name in (*UNITS, *BACKUP_UNITS):
        # The checkout here stands in for /opt/postgrest-auth0-deploy, so ExecStart's
        # pyinfra exists and is checked like every other setting.
        text = (OPS / "systemd" / name).read_text().replace(INSTALL_DIR, str(ROOT))
        (tmp_path / name).write_text(text)
    done = subprocess.run([analyze, "verify", "--man=no", *UNITS, *BACKUP_UNITS], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr


def test_verify_would_catch_a_broken_unit(tmp_path):
    name = "postgrest-rotate-keys.service"
    text = (OPS / "systemd" / name).read_text()  # the real install path does not exist here
    (tmp_path / name).write_text(text)
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", name], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0 and "is not executable" in done.stdout + done.stderr


def test_the_service_runs_the_rotation_and_the_timer_every_15_minutes():
    service = (OPS / "systemd" / UNITS[0]).read_text()
    assert f"ExecStart={INSTALL_DIR}/.venv/bin/pyinfra -y inventories/prod.py rotate_keys.py" in service
    assert f"WorkingDirectory={INSTALL_DIR}" in service and "Type=oneshot" in service
    assert "EnvironmentFile=/etc/postgrest-rotate-keys.env" in service
    timer = (OPS / "systemd" / UNITS[1]).read_text()
    assert "OnCalendar=*:0/15" in timer and f"Unit={UNITS[0]}" in timer
    done = subprocess.run(["systemd-analyze", "calendar", "--iterations=2", "*:0/15"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    times = re.findall(r"(\d\d):(\d\d):00", done.stdout.split("Next elapse:", 1)[1])
    minutes = [int(h) * 60 + int(m) for h, m in times[:2]]
    assert (minutes[1] - minutes[0]) % (24 * 60) == 15


def _cron_field(text: str, low: int, high: int) -> bool:
    for part in text.split(","):
        match = re.fullmatch(r"(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?", part)
        if not match:
            return False
        numbers = [int(n) for n in match.group(2, 3, 4) if n is not None]
        if any(not low <= n <= high for n in numbers[:2]) or (match.group(4) and int(match.group(4)) < 1):
            return False
    return True


def _cron_entry(name: str) -> list[str]:
    """The one entry of ops/cron/NAME, split in its 7 fields, each time field valid."""
    lines = [line for line in (OPS / "cron" / name).read_text().splitlines()
             if line.strip() and not line.startswith("#") and not re.match(r"^[A-Z_]+=", line)]
    assert len(lines) == 1
    fields = lines[0].split(None, 6)
    ranges = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
    assert all(_cron_field(f, *r) for f, r in zip(fields[:5], ranges, strict=True)), fields[:5]
    return fields


def test_the_cron_line_is_a_valid_cron_d_entry():
    minute, hour, dom, month, dow, user, command = _cron_entry("postgrest-rotate-keys")
    assert minute == "*/15" and user == "postgrest-ops"
    assert "%" not in command  # cron would cut the command there
    assert f"cd {INSTALL_DIR} && flock -n " in command
    assert "exec .venv/bin/pyinfra -y inventories/prod.py rotate_keys.py" in command
    subprocess.run(["sh", "-n", "-c", command], check=True, timeout=30)


def test_the_ci_workflow_parses_with_what_its_runner_needs():
    text = (OPS / "ci" / "rotate-keys.github-workflow.yml").read_text()
    workflow = yaml.safe_load(text)
    # YAML 1.1 (PyYAML) reads the bare key `on` as true; GitHub reads it as "on".
    triggers = workflow.get("on", workflow.get(True))
    assert triggers["schedule"] == [{"cron": "*/15 * * * *"}] and "workflow_dispatch" in triggers
    assert _cron_field("*/15", 0, 59)
    assert workflow["concurrency"]["cancel-in-progress"] is False
    job = workflow["jobs"]["rotate"]
    assert job["runs-on"] and job["timeout-minutes"] <= 60
    steps = job["steps"]
    assert all(("uses" in step) != ("run" in step) for step in steps)
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert any(step.get("run", "").strip() == ".venv/bin/pyinfra -y inventories/prod.py rotate_keys.py"
               for step in steps)
    used = set(re.findall(r"\$\{\{ secrets\.([A-Z_]+) \}\}", text))
    assert used == {"DEPLOY_SSH_KEY", "DEPLOY_KNOWN_HOSTS", *SECRETS}
    header = text.split("\nname:", 1)[0]
    for secret in used:
        assert re.search(rf"^#\s+{secret}\s+\S", header, flags=re.M), f"{secret} is not explained in the header"


@pytest.mark.parametrize("path", ["systemd/postgrest-rotate-keys.service", "cron/postgrest-rotate-keys"])
def test_each_example_names_the_secrets_it_needs_and_where_they_come_from(path):
    text = (OPS / path).read_text()
    for secret in SECRETS:
        assert secret in text, secret
    assert "id_ed25519" in text and "known_hosts" in text and "Auth0" in text
    assert "/etc/postgrest-rotate-keys.env" in text


# --- The scheduled backup (issue 21)

def test_the_backup_service_runs_backup_py_and_the_timer_is_the_default_schedule():
    service = (OPS / "systemd" / BACKUP_UNITS[0]).read_text()
    assert f"ExecStart={INSTALL_DIR}/.venv/bin/pyinfra -y inventories/prod.py backup.py" in service
    assert f"WorkingDirectory={INSTALL_DIR}" in service and "Type=oneshot" in service
    assert "EnvironmentFile=/etc/postgrest-backup.env" in service and "UMask=0077" in service
    default = settings.SETTINGS_BY_NAME["backup_schedule"].default
    assert default == "daily"
    timer = (OPS / "systemd" / BACKUP_UNITS[1]).read_text()
    assert timer == schedule.backup_timer(default)
    assert "\nOnCalendar=daily\n" in timer and f"\nUnit={BACKUP_UNITS[0]}\n" in timer
    done = subprocess.run(["systemd-analyze", "calendar", "--iterations=2", default], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    elapses = re.findall(r"(\d{4}-\d\d-\d\d) 00:00:00", done.stdout.split("Next elapse:", 1)[1])
    assert len(elapses) == 2 and elapses[0] < elapses[1]  # once a day, at midnight


def test_the_timer_command_prints_the_shipped_timer_for_the_default_schedule():
    done = cli("timer", "backup", "inventories/prod.py")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (OPS / "systemd" / BACKUP_UNITS[1]).read_text()


def test_the_timer_command_takes_the_inventorys_schedule_and_refuses_one_systemd_cannot_read(tmp_path):
    done = cli("timer", "backup", "inventories/prod.py", "--data", "backup_schedule=Mon..Fri *-*-* 03:30")
    assert done.returncode == 0, done.stderr
    assert done.stdout == schedule.backup_timer("Mon..Fri *-*-* 03:30")
    verified = tmp_path / BACKUP_UNITS[1]
    verified.write_text(done.stdout)
    (tmp_path / BACKUP_UNITS[0]).write_text((OPS / "systemd" / BACKUP_UNITS[0]).read_text().replace(INSTALL_DIR,
                                                                                                    str(ROOT)))
    checked = subprocess.run(["systemd-analyze", "verify", "--man=no", *BACKUP_UNITS], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0 and checked.stdout + checked.stderr == "", checked.stdout + checked.stderr

    refused = cli("timer", "backup", "inventories/prod.py", "--data", "backup_schedule=nightly")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("error: backup_schedule 'nightly': systemd does not read it as a calendar "
                                     "expression (")


def test_the_timer_command_refuses_db_hosts_that_disagree(tmp_path):
    inventory = tmp_path / "inventory.py"
    inventory.write_text("db = [('db-1', {'stack_role': 'db', 'backup_schedule': 'daily'}),\n"
                         "      ('db-2', {'stack_role': 'db', 'backup_schedule': 'weekly'})]\n"
                         "api = [('api-1', {'stack_role': 'api', 'db_host': '10.0.0.1', 'backup_schedule': 'hourly'})]\n")
    done = cli("timer", "backup", str(inventory), "--data", "auth0_domain=t.eu.auth0.com",
               "--data", "jwt_audience=https://api.example.com")
    assert (done.returncode, done.stdout) == (1, ""), done.stderr
    assert done.stderr == ("error: backup_schedule differs between hosts ('daily': db-1; 'weekly': db-2): one timer "
                           "runs backup.py for the whole inventory; set it once, e.g. in group_data/all.py or the "
                           "environment's file\n")


def test_without_systemd_analyze_the_schedule_is_not_taken_unchecked(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(schedule.CalendarError, match="cannot be checked: systemd-analyze is not installed"):
        schedule.check_calendar("daily")
    monkeypatch.undo()
    assert schedule.check_calendar("*-*-* 03:00") == "*-*-* 03:00"


def test_the_backup_cron_line_runs_backup_py_daily_at_midnight():
    minute, hour, dom, month, dow, user, command = _cron_entry("postgrest-backup")
    assert (minute, hour, dom, month, dow, user) == ("0", "0", "*", "*", "*", "postgrest-ops")
    assert "%" not in command
    assert f"cd {INSTALL_DIR} && umask 077 && flock -n /run/lock/postgrest-backup.lock " in command
    assert "exec .venv/bin/pyinfra -y inventories/prod.py backup.py" in command
    subprocess.run(["sh", "-n", "-c", command], check=True, timeout=30)


def test_the_backup_ci_workflow_parses_with_what_its_runner_needs():
    text = (OPS / "ci" / "backup.github-workflow.yml").read_text()
    workflow = yaml.safe_load(text)
    triggers = workflow.get("on", workflow.get(True))
    assert triggers["schedule"] == [{"cron": "0 0 * * *"}] and "workflow_dispatch" in triggers
    assert workflow["concurrency"]["cancel-in-progress"] is False
    job = workflow["jobs"]["backup"]
    assert job["runs-on"] and job["timeout-minutes"] <= 360  # GitHub's hosted runners stop a job at 6 h
    steps = job["steps"]
    assert all(("uses" in step) != ("run" in step) for step in steps)
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert any(step.get("run", "").strip() == ".venv/bin/pyinfra -y inventories/prod.py backup.py"
               for step in steps)
    used = set(re.findall(r"\$\{\{ secrets\.([A-Z_]+) \}\}", text))
    assert used == {"DEPLOY_SSH_KEY", "DEPLOY_KNOWN_HOSTS", "ALERT_WEBHOOK_URL"}
    header = text.split("\nname:", 1)[0]
    for secret in used:
        assert re.search(rf"^#\s+{secret}\s+\S", header, flags=re.M), f"{secret} is not explained in the header"
    assert "group:NAME" in header  # a hosted runner's disk does not outlive the job


@pytest.mark.parametrize("path", ["systemd/postgrest-backup.service", "cron/postgrest-backup"])
def test_each_backup_example_names_its_secrets_and_a_persistent_offsite_path(path):
    text = (OPS / path).read_text()
    assert "ALERT_WEBHOOK_URL" in text and "id_ed25519" in text and "known_hosts" in text
    assert "/etc/postgrest-backup.env" in text
    assert "controller:PATH" in text and "persistent" in text and "/var/backups/postgrest-offsite" in text
