"""What installing Docker means per ``docker_install`` mode and distribution (pure data).

"official" follows Docker's documented apt set-up: the repository key in
/etc/apt/keyrings (no apt-key), a ``signed-by`` source line, and the engine, CLI,
containerd and compose plugin. "distro" takes the distribution's own packages.
"""

from __future__ import annotations

from dataclasses import dataclass

KEYRING = "/etc/apt/keyrings/docker.asc"
OFFICIAL_PACKAGES = ("docker-ce", "docker-ce-cli", "containerd.io", "docker-compose-plugin")
DISTRO_PACKAGES = ("docker.io", "docker-compose")
#: Needed by the deploy itself on every host (key download, health probes).
BASE_PACKAGES = ("ca-certificates", "curl")
#: Written only when ``apt_proxy`` is set, before the first apt run of the install.
APT_PROXY_CONF = "/etc/apt/apt.conf.d/80postgrest-stack-proxy"


def apt_proxy_conf(url: str) -> str:
    return f'Acquire::http::Proxy "{url}";\n'


DEB_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf", "ppc64le": "ppc64el", "s390x": "s390x"}


@dataclass(frozen=True)
class OfficialRepo:
    key_url: str
    keyring: str
    source_line: str
    packages: tuple[str, ...]


def official_repo(distro_id: str, codename: str, machine: str) -> OfficialRepo:
    distro = distro_id.lower()
    if distro not in ("debian", "ubuntu"):
        raise ValueError(f"docker_install 'official' supports Debian and Ubuntu, not {distro_id!r}")
    if not codename:
        raise ValueError(f"cannot tell the {distro_id} release codename for Docker's repository")
    arch = DEB_ARCH.get(machine, machine)
    base = f"https://download.docker.com/linux/{distro}"
    return OfficialRepo(
        key_url=f"{base}/gpg",
        keyring=KEYRING,
        source_line=f"deb [arch={arch} signed-by={KEYRING}] {base} {codename} stable",
        packages=OFFICIAL_PACKAGES,
    )
