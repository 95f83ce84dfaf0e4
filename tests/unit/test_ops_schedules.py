"""The schedule examples under ops/ are ready to use: the systemd units pass
`systemd-analyze verify`, the cron line is a valid /etc/cron.d entry, the CI workflow
parses and has what its runner needs, and each names the secrets it uses."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import ROOT

OPS = ROOT / "ops"
INSTALL_DIR = "/opt/postgrest-auth0-deploy"  # where the examples expect the checkout
UNITS = ("postgrest-rotate-keys.service", "postgrest-rotate-keys.timer")
SECRETS = ("ALERT_WEBHOOK_URL", "SMOKE_SECRET")


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: scripts/install-system-packages.sh installs package systemd"
    for name in UNITS:
        # The checkout here stands in for /opt/postgrest-auth0-deploy, so ExecStart's
        # pyinfra exists and is checked like every other setting.
        text = (OPS / "systemd" / name).read_text().replace(INSTALL_DIR, str(ROOT))
        (tmp_path / name).write_text(text)
    done = subprocess.run([analyze, "verify", "--man=no", *UNITS], cwd=tmp_path, capture_output=True, text=True,
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


def test_the_cron_line_is_a_valid_cron_d_entry():
    lines = [line for line in (OPS / "cron" / "postgrest-rotate-keys").read_text().splitlines()
             if line.strip() and not line.startswith("#") and not re.match(r"^[A-Z_]+=", line)]
    assert len(lines) == 1
    fields = lines[0].split(None, 6)
    minute, hour, dom, month, dow, user, command = fields
    ranges = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
    assert all(_cron_field(f, *r) for f, r in zip((minute, hour, dom, month, dow), ranges, strict=True)), fields[:5]
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
