"""Multi-host topology over SSH: a db host and two api hosts, then a canary with --limit.

The db host publishes the database on Docker's bridge address (its "private
interface" here); the api hosts' PostgREST reach it there. One Docker engine serves
all three targets, each with its own stack.
"""

from __future__ import annotations

import json
import subprocess

import docker
import pytest
import requests

from tests.e2e.harness import Target, bearer, run_pyinfra
from tests.harness.ports import free_port

APPLY_SQL = "PostgREST stack | Apply SQL in the db container"


@pytest.fixture(scope="module")
def bridge_address(docker_engine) -> str:
    """The host's address on Docker's default bridge, however the engine was started.

    An engine started by hand (``dockerd --iptables=false``) lists no ``Gateway`` in
    the bridge's IPAM config, so the address is read from the bridge interface itself.
    """
    bridge = docker_engine.networks.get("bridge").attrs
    interface = bridge.get("Options", {}).get("com.docker.network.bridge.name", "docker0")
    listed = [c["Gateway"] for c in bridge["IPAM"].get("Config") or [] if c.get("Gateway")]
    if listed:
        return listed[0]
    shown = json.loads(subprocess.run(["ip", "-j", "-4", "addr", "show", "dev", interface],
                                      check=True, capture_output=True, text=True).stdout)
    return shown[0]["addr_info"][0]["local"]


@pytest.fixture(scope="module")
def fleet(jwks_endpoint, bridge_address):
    db_port = free_port()
    db = Target.create("db-1", jwks_endpoint.url)
    db.group = "db"
    db.data.update(db_bind=bridge_address, db_port=db_port)
    apis = []
    for name in ("api-1", "api-2"):
        api = Target.create(name, jwks_endpoint.url)
        api.group = "api"
        api.data.update(db_host=bridge_address, db_port=db_port)
        apis.append(api)
    yield db, apis
    for target in (db, *apis):
        target.destroy()


def token(tenant, audience):
    return tenant.token("k1", audience=audience, issuer="https://tenant.eu.auth0.com/",
                        role_claim="https://postgrest-demo.de/role", role="api_user")


def test_db_and_two_api_hosts(fleet, tenant, bridge_address):
    db, apis = fleet
    run = run_pyinfra([db, *apis], "deploy.py").check()
    success, _error, _no_change = run.results[APPLY_SQL]
    assert success == 1  # the SQL is applied once per run, on the db host
    assert set(db.containers()) == {"db"}
    assert all(set(api.containers()) == {"postgrest"} for api in apis)
    ports = docker.from_env().containers.get(db.containers()["db"][0]).attrs["HostConfig"]["PortBindings"]
    assert ports == {"5432/tcp": [{"HostIp": bridge_address, "HostPort": str(db.data["db_port"])}]}
    for api in apis:
        created = requests.post(f"{api.api}/todos", json={"task": f"via {api.name}"},
                                headers=bearer(token(tenant, api.data["jwt_audience"])), timeout=10)
        assert created.status_code == 201, created.text
    # Both api hosts share the one database.
    assert sorted(r["task"] for r in requests.get(f"{apis[0].api}/todos", timeout=10).json()) == ["via api-1", "via api-2"]


def test_rerun_changes_nothing(fleet):
    db, apis = fleet
    assert run_pyinfra([db, *apis], "deploy.py").check().changed == []


def test_rotation_over_the_whole_topology(fleet):
    """rotate_keys.py on an inventory with a db host: it has no keys and is left alone."""
    db, apis = fleet
    run = run_pyinfra([db, *apis], "rotate_keys.py").check()
    lines = [line for line in run.output.splitlines() if "nothing to rotate" in line]
    assert len(lines) == 1 and "[db-1]" in lines[0] and "no PostgREST on this host (stack_role db)" in lines[0]
    assert run.output.count("keys unchanged") == 2
    assert run.changed == []


def test_canary_with_limit_changes_only_that_host(fleet, tenant):
    db, (api1, api2) = fleet
    before = {t.name: (t.containers(), (t.app_dir / "compose.yaml").read_bytes()) for t in (db, api1, api2)}
    conf2 = (api2.app_dir / "postgrest/postgrest.conf").read_bytes()
    run = run_pyinfra([db, api1, api2], "deploy.py", "--limit", "api-1", jwt_audience="https://canary.example.com").check()
    assert "[api-1]" in run.output and "[api-2]" not in run.output and "[db-1]" not in run.output
    assert "PostgREST stack | Reload PostgREST (SIGUSR2)" in run.changed
    assert (api2.app_dir / "postgrest/postgrest.conf").read_bytes() == conf2
    assert {t.name: (t.containers(), (t.app_dir / "compose.yaml").read_bytes()) for t in (db, api1, api2)} == before
    assert requests.get(f"{api1.api}/todos", headers=bearer(token(tenant, "https://canary.example.com")),
                        timeout=10).status_code == 200
    assert requests.get(f"{api2.api}/todos", headers=bearer(token(tenant, "https://canary.example.com")),
                        timeout=10).status_code == 401


def test_api_host_on_an_external_database(fleet, tenant, bridge_address, jwks_endpoint):
    """The db host's database stands in for a managed one: no db service is deployed
    on the api host, and the SQL is applied to the external database from it."""
    db, _apis = fleet
    ext = Target.create("ext-api", jwks_endpoint.url)
    ext.group = "api"
    ext.data["external_db_uri"] = f"postgres://{bridge_address}:{db.data['db_port']}/app"
    try:
        run = run_pyinfra([ext], "deploy.py").check()
        assert "PostgREST stack | Apply SQL to the external database" in run.changed
        assert set(ext.containers()) == {"postgrest"}
        created = requests.post(f"{ext.api}/todos", json={"task": "via external"},
                                headers=bearer(token(tenant, ext.data["jwt_audience"])), timeout=10)
        assert created.status_code == 201, created.text
        assert "via api-1" in [r["task"] for r in requests.get(f"{ext.api}/todos", timeout=10).json()]
        assert run_pyinfra([ext], "deploy.py").check().changed == []
    finally:
        ext.destroy()
