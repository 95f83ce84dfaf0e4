"""--limit matching no host (tasks/limit_guard.py), through the real pyinfra command line:
a run of deploy.py or rotate_keys.py stops, non-zero, with one line naming the inventory's
hosts and groups, before any host is connected."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize("script", ["deploy.py", "rotate_keys.py"])
def test_limit_matching_no_host_exits_non_zero_with_the_inventory(tmp_path, script):
    inventory = tmp_path / "inv.py"
    inventory.write_text("web = [('web1', {'ssh_port': 1}), 'web2']\ndb = ['db1']\n")
    pyinfra = str(Path(sys.executable).with_name("pyinfra"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACK_")}
    done = subprocess.run([pyinfra, "-y", str(inventory), script, "--limit", "nosuch"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 1, done.stdout + done.stderr
    assert ("--limit nosuch matches no host of the inventory (hosts: web1, web2, db1; groups: db, inv, web)"
            in done.stderr), done.stderr
    assert "Connecting to hosts" not in done.stdout + done.stderr
