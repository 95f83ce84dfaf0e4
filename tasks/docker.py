"""Docker engine and compose on the host, per ``docker_install``, started with the real init system."""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.api.exceptions import PyinfraError
from pyinfra.facts.server import Arch, LinuxDistribution
from pyinfra.operations import apt, files, systemd, sysvinit

from postgrest_stack import docker_install
from postgrest_stack.probe import HostState
from postgrest_stack.settings import Settings


@deploy("Docker engine")
def ensure_docker(settings: Settings, state: HostState, install: bool, start: bool):
    if install:
        if settings.docker_install == "skip":
            raise PyinfraError(f"{host.name}: Docker is not installed and docker_install is 'skip'")
        _install(settings.docker_install, settings.apt_proxy)
    if start:
        _start(state)


def _install(mode: str, apt_proxy: str | None):
    if apt_proxy:
        files.put(name="Send apt through apt_proxy", src=StringIO(docker_install.apt_proxy_conf(apt_proxy)),
                  dest=docker_install.APT_PROXY_CONF, mode="644")
    apt.packages(name="Install packages the deploy needs", packages=list(docker_install.BASE_PACKAGES), update=True)
    distro = host.get_fact(LinuxDistribution)
    meta = distro.get("release_meta") or {}
    distro_id, codename = meta.get("ID", distro.get("name") or ""), meta.get("VERSION_CODENAME", "")
    if mode == "distro":
        packages = docker_install.distro_packages(distro_id, meta.get("VERSION_ID", ""), codename)
        apt.packages(name="Install the distribution's Docker and compose", packages=list(packages))
        return
    repo = docker_install.official_repo(distro_id, codename, host.get_fact(Arch))
    files.directory(name="Create /etc/apt/keyrings", path="/etc/apt/keyrings", mode="755")
    files.download(name="Fetch Docker's repository key", src=repo.key_url, dest=repo.keyring, mode="644")
    apt.repo(name="Add Docker's apt repository", src=repo.source_line, filename="docker")
    apt.packages(name="Install Docker from Docker's repository", packages=list(repo.packages), update=True)


def _start(state: HostState):
    # Decided by what runs as PID 1, not by which binaries exist: a host may have
    # systemctl without systemd, and then /etc/init.d scripts do the job.
    if state.systemd:
        systemd.service(name="Start and enable Docker", service="docker", running=True, enabled=True)
    else:
        sysvinit.service(name="Start and enable Docker", service="docker", running=True, enabled=True)
