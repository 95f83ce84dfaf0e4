"""What the 'official' Docker install would apply (Docker's repository cannot be reached here)."""

from __future__ import annotations

import pytest

from postgrest_stack import docker_install


def test_debian_bookworm_amd64():
    repo = docker_install.official_repo("debian", "bookworm", "x86_64")
    assert repo.keyring == "/etc/apt/keyrings/docker.asc"
    assert repo.key_url == "https://download.docker.com/linux/debian/gpg"
    assert repo.source_line == (
        "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] "
        "https://download.docker.com/linux/debian bookworm stable"
    )
    assert repo.packages == ("docker-ce", "docker-ce-cli", "containerd.io", "docker-compose-plugin")


def test_ubuntu_arm64():
    repo = docker_install.official_repo("Ubuntu", "noble", "aarch64")
    assert repo.source_line.startswith("deb [arch=arm64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu noble")


@pytest.mark.parametrize(("distro", "codename"), [("centos", "x"), ("debian", "")])
def test_unsupported(distro, codename):
    with pytest.raises(ValueError):
        docker_install.official_repo(distro, codename, "x86_64")


@pytest.mark.parametrize(("distro", "version_id", "codename", "packages"), [
    ("debian", "12", "bookworm", ("docker.io", "docker-compose")),          # Compose v1, CLI inside docker.io
    ("debian", "13", "trixie", ("docker.io", "docker-cli", "docker-compose")),  # CLI split off, Compose v2
    ("Debian", "14", "forky", ("docker.io", "docker-cli", "docker-compose")),
    ("debian", "", "forky", ("docker.io", "docker-cli", "docker-compose")),     # testing: no VERSION_ID
    ("debian", "", "bookworm", ("docker.io", "docker-compose")),
    ("ubuntu", "24.04", "noble", ("docker.io", "docker-compose")),
])  # fmt: skip
def test_distro_packages_per_release(distro, version_id, codename, packages):
    """Debian 13's docker.io only recommends docker-cli: without naming it, a host with
    Install-Recommends off gets an engine and no `docker` command."""
    assert docker_install.distro_packages(distro, version_id, codename) == packages
