"""The first production deploy on production-shaped hosts, as an operator runs it.

Four fresh hosts (systemd as PID 1, their own addresses, sshd with a `deploy` login
and passwordless sudo, no Docker, no registry): a db host and two api hosts on Debian 12,
and a third api host on Debian 13, so that every run below covers both releases at once.
pyinfra logs in as `deploy` with `_sudo`, installs Docker from each release's archive
(through an apt proxy, as behind a corporate mirror: Docker 20.10 and Compose v1 on
Debian 12, Docker 26 and Compose v2 on Debian 13), carries the images from the
controller (`image_source = controller`) and brings the stack up. Then: a rerun
changes nothing, a reboot brings everything back, key rotation loses no request, and
a canary with --limit touches one host.

A scenario: the tests run in file order and build on each other.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest
import requests

from tests.e2e.harness import Run, bearer, run_pyinfra
from tests.harness.auth0 import JwksEndpoint, Tenant
from tests.harness.load import RequestLoop
from tests.harness.testhosts import TestHost

AUDIENCE = "https://api.example.com"
ISSUER = "https://tenant.eu.auth0.com/"
ROLE_CLAIM = "https://postgrest-demo.de/role"
IMAGES = {"db": "postgres:15.14-bookworm", "postgrest": "postgrest/postgrest:v12.0.2"}
APP = "/opt/postgrest"
REQUESTS_AT_LEAST = 600
#: What a host of each release gets from `docker_install = distro`: VERSION_ID, the
#: engine's version prefix, the compose command bin/compose finds, its version prefix.
RELEASES = {
    "bookworm": ("12", "20.10.", "docker-compose", "1.29."),
    "trixie": ("13", "26.1.", "docker compose", "2."),
}


@dataclass
class FleetTarget:
    """One production-shaped host as a pyinfra target (the e2e harness's run_pyinfra drives it)."""

    name: str
    host: TestHost
    group: str
    suite: str = "bookworm"
    data: dict = field(default_factory=dict)
    secrets: dict = field(default_factory=lambda: {
        "STACK_POSTGRES_PASSWORD": "fleet-superuser-password-0001",
        "STACK_AUTHENTICATOR_PASSWORD": "fleet-authenticator-password-0001",
    })
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fleet-")))

    def connection_data(self) -> dict:
        return self.host.pyinfra_host_data()

    @property
    def api(self) -> str:
        return f"http://{self.host.address}:3000"

    def sh(self, command: str) -> str:
        rc, output = self.host.exec(command)
        assert rc == 0, f"{self.name}: {command}: {output}"
        return output.strip()

    def containers(self) -> dict[str, str]:
        """``{container name: started at}`` inside the host's own Docker."""
        out = self.sh("docker ps -a --format '{{.Names}}' | xargs -r docker inspect -f '{{.Name}} {{.State.StartedAt}}'")
        return dict(line.split(" ", 1) for line in out.splitlines())


@pytest.fixture(scope="module")
def tenant(tmp_path_factory):
    return Tenant.with_keys(("k1", "k2", "k3"), published=("k1", "k2")).write_pems(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def endpoint(tenant):
    with JwksEndpoint(tenant) as e:
        yield e


@pytest.fixture(scope="module")
def hosts(fleet, endpoint, testhost_image_trixie):
    fleet.add_hosts(["db1", "api1", "api2"])
    fleet.add_host("api3", image=testhost_image_trixie)
    db_host = fleet["db1"]
    targets = []
    for name, group, suite in (("db1", "db", "bookworm"), ("api1", "api", "bookworm"), ("api2", "api", "bookworm"),
                               ("api3", "api", "trixie")):
        host = fleet[name]
        targets.append(FleetTarget(name, host, group, suite, data={
            "auth0_domain": "tenant.eu.auth0.com",
            "jwt_audience": AUDIENCE,
            "jwks_url": endpoint.url,
            "docker_install": "distro",
            "apt_proxy": fleet.apt_proxy,
            "image_source": "controller",
            # Each host's own private address: the database and the API are published there.
            "db_bind": db_host.address,
            "db_host": db_host.address,
            "postgrest_bind": host.address,
        }))
    yield targets
    for target in targets:
        fleet.remove_host(target.name)


def deploy(hosts, *extra, script="deploy.py", **overrides) -> Run:
    return run_pyinfra(list(hosts), script, *extra, **overrides)


def token(tenant, key="k1"):
    return tenant.token(key, audience=AUDIENCE, issuer=ISSUER, role_claim=ROLE_CLAIM, role="api_user")


def api_hosts(hosts):
    return [t for t in hosts if t.group == "api"]


def test_first_deploy_from_nothing(hosts, tenant):
    for target in hosts:
        assert target.sh("cat /proc/1/comm") == "systemd"
        assert target.host.exec("command -v docker")[0] != 0  # no Docker yet
    run = deploy(hosts).check()

    for target in hosts:
        assert target.sh("systemctl is-enabled docker") == "enabled"
        assert target.sh("systemctl is-active docker") == "active"
        # Files under app_dir: 0700 directory, secrets 0600 root, nothing left in the temp dirs.
        assert target.sh(f"stat -c '%a %U' {APP}") == "700 root"
        assert target.sh(f"stat -c '%a %U' {APP}/.env") == "600 root"
        assert target.sh("ls -A /tmp /var/tmp | grep -c -e pyinfra -e postgrest-stack || true") == "0"
    # The images came from the controller: the host holds the controller's image IDs.
    controller = docker.from_env()
    db, api1, api2, api3 = hosts
    for target, service in ((db, "db"), (api1, "postgrest"), (api2, "postgrest"), (api3, "postgrest")):
        held = target.sh(f"docker image inspect -f '{{{{.Id}}}}' {IMAGES[service]}")
        assert held == controller.images.get(IMAGES[service]).id
    loads = {name: counts for name, counts in run.results.items() if "Load image" in name}
    assert sum(success for success, _e, _n in loads.values()) == 4, loads

    # The database is published on the db host's private address only.
    bindings = db.sh("docker inspect -f '{{json .HostConfig.PortBindings}}' $(docker ps -q)")
    assert bindings == f'{{"5432/tcp":[{{"HostIp":"{db.host.address}","HostPort":"5432"}}]}}'
    # A token round trip from the controller, at each api host's address; one database behind both.
    created = requests.post(f"{api1.api}/todos", json={"task": "first production row"},
                            headers={**bearer(token(tenant)), "Prefer": "return=representation"}, timeout=10)
    assert created.status_code == 201, created.text
    seen = requests.get(f"{api2.api}/todos?task=eq.first%20production%20row", headers=bearer(token(tenant)), timeout=10)
    assert seen.status_code == 200 and len(seen.json()) == 1


def test_each_host_runs_its_own_releases_docker_and_compose(hosts):
    """Debian 13 really is Debian 13, with Docker 26 and Compose v2 from its own archive
    (a host image fallen back to Debian 12 fails here), and Debian 12 keeps 20.10 and v1."""
    assert {t.suite for t in hosts} == set(RELEASES)
    for target in hosts:
        version_id, engine, compose, compose_version = RELEASES[target.suite]
        release = target.sh(". /etc/os-release && echo $ID $VERSION_ID $VERSION_CODENAME")
        assert release == f"debian {version_id} {target.suite}", (target.name, release)
        assert target.sh("docker version --format '{{.Server.Version}}'").startswith(engine), target.name
        # the compose bin/compose picks (the v2 plugin first), and the version it reports
        picked = target.sh(f"sh -x {APP}/bin/compose version --short 2>&1 | grep '^+ exec' | tail -n 1")
        assert picked.startswith(f"+ exec {compose} -f compose.yaml"), (target.name, picked)
        assert target.sh(f"{APP}/bin/compose version --short").lstrip("v").startswith(compose_version), target.name
        # the stack came up under that compose: v2 names containers stack-service-1, v1 stack_service_1
        sep = "-" if compose == "docker compose" else "_"
        service = "db" if target.group == "db" else "postgrest"
        assert f"/postgrest{sep}{service}{sep}1" in target.containers(), (target.name, target.containers())


def test_rerun_changes_nothing(hosts):
    before = [t.containers() for t in hosts]
    run = deploy(hosts).check()
    assert run.changed == [], run.changed
    assert [t.containers() for t in hosts] == before


def test_reboot_brings_docker_and_the_stack_back(hosts, tenant):
    key_files = [t.sh(f"sha256sum {APP}/postgrest/jwks.json") for t in api_hosts(hosts)]
    for target in hosts:
        target.host.reboot()
    for target in hosts:
        assert target.sh("systemctl is-active docker") == "active"
    for target in api_hosts(hosts):
        deadline = time.monotonic() + 120
        answer = None
        while time.monotonic() < deadline:
            try:
                answer = requests.get(f"{target.api}/todos?task=eq.first%20production%20row",
                                      headers=bearer(token(tenant)), timeout=5)
                if answer.status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(1)
        assert answer is not None and answer.status_code == 200 and len(answer.json()) == 1, \
            target.host.exec("docker ps -a; docker logs --tail 40 $(docker ps -aq) 2>&1")[1]
    assert [t.sh(f"sha256sum {APP}/postgrest/jwks.json") for t in api_hosts(hosts)] == key_files
    run = deploy(hosts).check()
    assert run.changed == [], run.changed


def smoke_command(tenant, key):
    return tenant.smoke_command(key, audience=AUDIENCE, issuer=ISSUER)


def test_rotation_across_the_api_hosts_loses_no_request(hosts, tenant):
    apis = api_hosts(hosts)
    before = [t.containers() for t in hosts]
    loop = RequestLoop([f"{target.api}/todos" for target in apis], bearer(token(tenant, "k2")),
                       at_least=REQUESTS_AT_LEAST)  # k2: in the set before and after
    with loop:
        tenant.publish("k2", "k3")
        run = deploy(hosts, script="rotate_keys.py", smoke_token_command=smoke_command(tenant, "k3"))
    run.check()
    assert len(loop.answers) >= REQUESTS_AT_LEAST
    assert loop.failures() == []
    for target in apis:
        assert requests.get(f"{target.api}/todos", headers=bearer(token(tenant, "k1")), timeout=10).status_code == 401
        assert requests.get(f"{target.api}/todos", headers=bearer(token(tenant, "k3")), timeout=10).status_code == 200
        assert target.sh(f"stat -c '%a %u' {APP}/postgrest/jwks.json {APP}/postgrest/jwks.json.prev") == "600 1000\n600 1000"
    assert [t.containers() for t in hosts] == before  # reloaded, never restarted
    assert deploy(hosts, script="rotate_keys.py").check().changed == []


def test_canary_with_limit_touches_one_host(hosts):
    db, api1, api2, api3 = hosts
    before = {t.name: t.sh(f"sha256sum {APP}/bin/health-gate") for t in hosts}
    canary = deploy(hosts, "--limit", "api1", health_timeout=90).check()
    assert canary.changed, canary.output[-3000:]
    assert api1.sh(f"sha256sum {APP}/bin/health-gate") != before["api1"]
    assert {t.name: t.sh(f"sha256sum {APP}/bin/health-gate") for t in (db, api2, api3)} == \
        {name: before[name] for name in ("db1", "api2", "api3")}
    rest = deploy(hosts, health_timeout=90).check()
    assert rest.changed
    assert deploy(hosts, health_timeout=90).check().changed == []
