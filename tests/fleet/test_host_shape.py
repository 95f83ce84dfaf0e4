"""The test hosts look like the production servers: systemd, key-only SSH as a
sudoer, no Docker yet, Debian packages through the fleet's apt proxy, and a
reboot that keeps the address and the SSH host key."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.harness.testhosts import inventory_source


@pytest.fixture(scope="module")
def host(fleet):
    h = fleet.add_host("shape1")
    yield h
    h.destroy()


def test_pid1_is_systemd(host):
    assert host.exec("cat /proc/1/comm") == (0, "systemd\n")
    rc, state = host.exec("systemctl is-system-running")
    assert state.strip() in ("running", "degraded"), state
    assert host.exec("systemctl is-active ssh") == (0, "active\n")


def test_deploy_sudoes_without_password_over_ssh(host):
    rc, out = host.ssh("id -un && sudo -n true && sudo -n id -u")
    assert (rc, out.split()) == (0, ["deploy", "0"]), out
    rc, out = host.exec("stat -c '%a %U:%G' /etc/sudoers.d/deploy")
    assert out.strip() == "440 root:root"


def test_root_login_refused_and_only_keys_accepted(host):
    # even with the right key in root's authorized_keys, root may not log in
    pub = open(host.key_path + ".pub").read()
    host.exec("install -d -m 700 /root/.ssh && cat >/root/.ssh/authorized_keys", input=pub, check=True)
    try:
        rc, out = host.ssh("true", user="root")
        assert rc == 255 and "Permission denied (publickey)" in out, out
    finally:
        host.exec("rm -rf /root/.ssh")
    rc, out = host.exec("sshd -T")
    settings = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    assert settings["permitrootlogin"] == "no"
    assert settings["passwordauthentication"] == "no"
    assert settings["kbdinteractiveauthentication"] == "no"


def test_pyinfra_connects_with_strict_host_key_checking(host, tmp_path):
    inventory = tmp_path / "inventory.py"
    inventory.write_text(inventory_source({host.name: host}))
    proc = subprocess.run(
        [sys.executable, "-m", "pyinfra", "-y", str(inventory), "exec", "--", "id -u"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"[{host.name}] 0" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_docker_is_not_installed(host):
    assert host.exec("command -v docker dockerd containerd")[0] != 0
    assert host.exec("dpkg -s docker.io")[0] != 0


def test_apt_get_update_through_the_proxy(fleet, host):
    assert fleet.apt_proxy.startswith(f"http://{fleet.gateway}:")
    host.use_apt_proxy()
    rc, out = host.exec("apt-get update", timeout=300)
    assert rc == 0 and "Err:" not in out, out
    rc, out = host.exec("apt-cache policy docker.io")
    assert "Candidate: (none)" not in out and "Candidate:" in out, out


def test_reboot_keeps_address_and_host_key(host):
    keys = host.host_keys()
    host.exec("touch /run/before-reboot", check=True)
    host.reboot()
    assert host.exec("test -e /run/before-reboot")[0] != 0  # a fresh /run: systemd booted again
    assert host.exec("cat /proc/1/comm") == (0, "systemd\n")
    assert host.host_keys() == keys
    rc, out = host.exec("ip -4 -o addr show eth0")
    assert f" {host.address}/" in out, out
    # strict checking against the known_hosts written at first boot
    assert host.ssh("sudo -n true") == (0, "")
