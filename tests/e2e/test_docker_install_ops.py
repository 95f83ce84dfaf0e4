"""Docker installation at the operation level, through the real pyinfra command line.

Docker's apt repository cannot be reached here, so these runs are --dry: they check
the repository line, keyring path, packages and start command the deploy would apply
to a host without Docker, and that nothing is executed.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path

import pytest

from postgrest_stack import docker_install
from tests.conftest import ROOT
from tests.e2e.harness import PYINFRA

DEPLOY = "tests/e2e/deploys/official_docker_install.py"


def planned(tmp_path: Path, mode: str) -> dict[str, list[str]]:
    inventory = tmp_path / "inventory.py"
    inventory.write_text(
        "hosts = [('@local', {'auth0_domain': 't.eu.auth0.com', 'jwt_audience': 'a', "
        f"'docker_install': {mode!r}, 'assume_init': 'sysvinit', 'plan_out': {str(tmp_path / 'plan.json')!r}}})]\n"
    )
    done = subprocess.run([PYINFRA, str(inventory), DEPLOY, "--dry"], cwd=ROOT, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return {op["name"]: op["commands"] for op in json.loads((tmp_path / "plan.json").read_text())}


def test_official_repository_keyring_and_packages(tmp_path):
    if not Path("/etc/debian_version").exists():
        pytest.skip("needs a Debian host")
    ops = planned(tmp_path, "official")
    codename = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().split("\n") if "=" in line)[
        "VERSION_CODENAME"].strip('"')
    assert any("curl -sSLf https://download.docker.com/linux/debian/gpg" in c for c in ops["Fetch Docker's repository key"])
    assert any(c.endswith(" /etc/apt/keyrings/docker.asc") for c in ops["Fetch Docker's repository key"])
    arch = docker_install.DEB_ARCH[platform.machine()]
    repo_line = (f"deb [arch={arch} signed-by=/etc/apt/keyrings/docker.asc] "
                 f"https://download.docker.com/linux/debian {codename} stable")
    assert ops["Add Docker's apt repository"] == [f"echo '{repo_line}' >> /etc/apt/sources.list.d/docker.list"]
    install = ops["Install Docker from Docker's repository"][-1]
    assert install.endswith("install docker-ce docker-ce-cli containerd.io docker-compose-plugin")
    assert not any("apt-key" in c for commands in ops.values() for c in commands)
    # Not systemd as PID 1: the init.d script starts it.
    assert ops["Start and enable Docker"][0] == "/etc/init.d/docker start"
    # --dry executed nothing.
    assert not os.path.exists("/etc/apt/sources.list.d/docker.list")


def test_distro_packages(tmp_path):
    ops = planned(tmp_path, "distro")
    assert "Add Docker's apt repository" not in ops
    install = ops["Install the distribution's Docker and compose"]
    installed = subprocess.run(["dpkg", "-s", "docker.io", "docker-compose"], capture_output=True).returncode == 0
    if installed:
        assert install == []  # already there: no change
    else:
        assert install[-1].endswith("install docker.io docker-compose")
