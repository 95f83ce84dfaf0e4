"""What installing Docker means per ``docker_install`` mode and distribution (pure data).

"official" follows Docker's documented apt set-up: the repository key in
/etc/apt/keyrings (no apt-key), a ``signed-by`` source line, and the engine, CLI,
containerd and compose plugin. "distro" takes the distribution's own packages,
which differ between releases (``distro_packages``).
"""

from __future__ import annotations

from dataclasses import dataclass

KEYRING = "/etc/apt/keyrings/docker.asc"
OFFICIAL_PACKAGES = ("docker-ce", "docker-ce-cli", "containerd.io", "docker-compose-plugin")
#: Debian 12 and older, Ubuntu: ``docker.io`` carries the CLI, ``docker-compose`` is Compose v1.
DISTRO_PACKAGES = ("docker.io", "docker-compose")
#: Debian 13 and later: the CLI is its own package that ``docker.io`` only recommends
#: (a host with Install-Recommends off would get an engine without ``docker``), and
#: ``docker-compose`` is Compose v2, the ``docker compose`` CLI plugin.
DISTRO_PACKAGES_SPLIT_CLI = ("docker.io", "docker-cli", "docker-compose")
#: Debian codenames from before the split; testing and sid (no VERSION_ID) come after it.
_DEBIAN_BEFORE_SPLIT = frozenset({"buster", "bullseye", "bookworm"})
#: Needed by the deploy itself on every host (key download, health probes).
BASE_PACKAGES = ("ca-certificates", "curl")
#: Written only when ``apt_proxy`` is set, before the first apt run of the install.
APT_PROXY_CONF = "/etc/apt/apt.conf.d/80postgrest-stack-proxy"


def apt_proxy_conf(url: str) -> str:
    return f'Acquire::http::Proxy "{url}";\n'


def distro_packages(distro_id: str, version_id: str, codename: str) -> tuple[str, ...]:
    """The distribution's Docker and compose packages for this release (``/etc/os-release``
    ID, VERSION_ID and VERSION_CODENAME)."""
    if distro_id.lower() != "debian":
        return DISTRO_PACKAGES
    major = version_id.split(".")[0]
    if major.isdigit():
        return DISTRO_PACKAGES_SPLIT_CLI if int(major) >= 13 else DISTRO_PACKAGES
    if codename and codename.lower() not in _DEBIAN_BEFORE_SPLIT:
        return DISTRO_PACKAGES_SPLIT_CLI
    return DISTRO_PACKAGES


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
