"""Multi-host topology over SSH: a db host and two api hosts, then a canary with --limit.

The db host publishes the database on Docker's bridge address (its "private
interface" here); the api hosts' PostgREST reach it there. One Docker engine serves
all three targets, each with its own stack.
"""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys
import time

import docker
import pytest
import requests

from tasks import db_first
from tests.conftest import ROOT
from tests.e2e.harness import Target, _environment, bearer, run_pyinfra, run_status, write_inventory
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


def test_a_db_host_out_of_reach_stops_the_api_hosts_before_they_change(fleet):
    """db-1 cannot be reached: no api host writes its new postgrest.conf or waits out a
    gate; each fails at once with one line naming db-1."""
    db, apis = fleet
    closed = free_port()
    down = copy.copy(db)
    down.connection_data = lambda: {**db.connection_data(), "ssh_port": closed}
    confs = {api.name: (api.app_dir / "postgrest/postgrest.conf").read_bytes() for api in apis}
    run = run_pyinfra([down, *apis], "deploy.py", jwt_audience="https://while-db-1-is-down.example.com")
    assert run.returncode != 0
    for api in apis:
        assert f"[{api.name}] not deployed: the database host db-1 failed or could not be reached" in run.output
        assert (api.app_dir / "postgrest/postgrest.conf").read_bytes() == confs[api.name]
    assert "Reload PostgREST" not in run.output and "health gate" not in run.output.lower()


def test_a_conf_a_stopped_run_wrote_is_reloaded_by_the_next_run(fleet, tenant, tmp_path):
    """A run that stopped after writing postgrest.conf and before the reload: the file is
    current, PostgREST enforces the old audience; status says so, and the next deploy
    reloads (it used to find the file current and do nothing)."""
    db, (api1, api2) = fleet
    audience = "https://stopped-run.example.com"
    original = api1.data["jwt_audience"]
    api1.data["jwt_audience"] = audience
    try:
        out = tmp_path / "render"
        subprocess.run([sys.executable, "-m", "postgrest_stack", "render", str(write_inventory([db, api1, api2])),
                        "--host", "api-1", "--out", str(out)], cwd=ROOT, env=_environment([api1], None),
                        check=True, capture_output=True, timeout=120)
        # What the stopped run left: the new file, in place with its mode and owner.
        (api1.app_dir / "postgrest/postgrest.conf").write_bytes((out / "postgrest/postgrest.conf").read_bytes())
        assert requests.get(f"{api1.api}/todos", headers=bearer(token(tenant, audience)), timeout=10).status_code == 401
        report = run_status([db, api1, api2], "--limit", "api-1")
        assert report.returncode == 1, report.output
        assert "drift: loaded state/postgrest.conf: PostgREST has not loaded the deployed postgrest.conf" in report.output

        run = run_pyinfra([db, api1, api2], "deploy.py", "--limit", "api-1").check()
        assert "PostgREST stack | Reload PostgREST (SIGUSR2)" in run.changed
        assert requests.get(f"{api1.api}/todos", headers=bearer(token(tenant, audience)), timeout=10).status_code == 200
        assert run_status([db, api1, api2], "--limit", "api-1").returncode == 0
        assert run_pyinfra([db, api1, api2], "deploy.py", "--limit", "api-1").check().changed == []
    finally:
        api1.data["jwt_audience"] = original


def test_a_new_authenticator_password_reaches_the_database_before_any_postgrest(fleet, tenant):
    """The db host's SQL (the new password) runs before its own up and before any api
    host's steps, so no PostgREST is recreated with a password the database does not
    know; every api host serves with it afterwards. Then the old password is put back."""
    db, apis = fleet
    for password in ("e2e-authenticator-password-0002", db.secrets["STACK_AUTHENTICATOR_PASSWORD"]):
        env = {**db.secrets, "STACK_AUTHENTICATOR_PASSWORD": password}
        run = run_pyinfra([db, *apis], "deploy.py", env=env).check()
        started = [line.split("operation:", 1)[1].strip() for line in run.output.splitlines()
                   if "Starting operation:" in line]
        sql = started.index(APPLY_SQL)
        wait = max(i for i, name in enumerate(started) if name == db_first.OPERATION)  # after db-1's steps
        ups = [i for i, name in enumerate(started) if name == "PostgREST stack | Bring the stack up (compose up -d)"]
        # db-1's SQL before its up, then the wait (after all of db-1's steps), then the api hosts' up.
        assert len(ups) == 2 and sql < ups[0] < wait < ups[1], started
        assert started.index("PostgREST stack | Prove PostgREST read the key file as keys") > wait, started
        for api in apis:
            assert requests.get(f"{api.api}/todos", headers=bearer(token(tenant, api.data["jwt_audience"])),
                                timeout=10).status_code == 200


def test_a_db_host_that_fails_its_steps_stops_the_api_hosts_before_they_change(fleet, bridge_address):
    """db-1's compose up fails (its new port is taken): both api hosts, which had a new
    db_port to write, stop at the wait with one line naming db-1 and change nothing."""
    db, apis = fleet
    taken = socket.socket()
    taken.bind((bridge_address, 0))
    taken.listen()
    try:
        confs = {api.name: (api.app_dir / ".env").read_bytes() for api in apis}
        run = run_pyinfra([db, *apis], "deploy.py", db_port=taken.getsockname()[1])
        assert run.returncode != 0
        for api in apis:
            assert f"[{api.name}] not deployed: the database host db-1 failed or could not be reached" in run.output
            assert (api.app_dir / ".env").read_bytes() == confs[api.name]
    finally:
        taken.close()
    run_pyinfra([db, *apis], "deploy.py").check()  # db-1 back on its own port


# --- The operator's migrations on a fleet (issue 20); last: they change the folder ---------
APPLY_MIGRATIONS = "PostgREST stack | Apply migrations"
TAGS = """CREATE TABLE tags (name text PRIMARY KEY);
GRANT SELECT ON tags TO :"anon_role";
INSERT INTO tags VALUES ('new');
"""


@pytest.fixture(scope="module")
def folder(fleet, tmp_path_factory):
    """The fleet's migrations from here on: the example it was deployed with, and more."""
    made = tmp_path_factory.mktemp("fleet-migrations")
    (made / "0001_todos.sql").write_bytes((ROOT / "migrations" / "0001_todos.sql").read_bytes())
    for target in (fleet[0], *fleet[1]):
        target.data["migrations_dir"] = str(made)
    return made


def test_a_migrated_table_is_served_by_every_api_host_without_a_restart(fleet, folder):
    """bin/migrate runs once, on db-1; its NOTIFY reaches both api hosts' PostgREST, which
    serve the new table within 5 s with no change on them."""
    db, apis = fleet
    started = {api.name: api.containers()["postgrest"] for api in apis}
    (folder / "0002_tags.sql").write_text(TAGS)
    run = run_pyinfra([db, *apis], "deploy.py").check()
    assert run.results[APPLY_MIGRATIONS][0] == 1  # db-1 only
    assert "migrations pending: 0002_tags.sql" in run.output
    for api in apis:
        deadline = time.monotonic() + 5
        while (answer := requests.get(f"{api.api}/tags", timeout=5)).status_code != 200:
            assert time.monotonic() < deadline, f"{api.name}: /tags answered {answer.status_code} after 5 s"
            time.sleep(0.1)
        assert answer.json() == [{"name": "new"}]
        assert api.containers()["postgrest"] == started[api.name]


def test_a_failing_migration_stops_the_run_before_any_api_host(fleet, folder, tmp_path):
    """0003 fails on db-1: rolled back whole, one line with file, line and message, an
    alert; the api hosts (which had a new audience to write) stop at the wait and change
    nothing. Fixed, the next run applies it."""
    db, apis = fleet
    alerts = tmp_path / "alerts"
    (folder / "0003_tag_colour.sql").write_text("ALTER TABLE tags ADD COLUMN colour text;\nSELECT nosuch;\n")
    confs = {api.name: (api.app_dir / "postgrest/postgrest.conf").read_bytes() for api in apis}
    run = run_pyinfra([db, *apis], "deploy.py", jwt_audience="https://after-a-failed-migration.example.com",
                      alert_command=f"cat >> {alerts}")
    assert run.returncode != 0
    assert "migrate: migrations/0003_tag_colour.sql failed at line 2" in run.output
    assert 'column "nosuch" does not exist' in run.output
    for api in apis:
        assert f"[{api.name}] not deployed: the database host db-1 failed or could not be reached" in run.output
        assert (api.app_dir / "postgrest/postgrest.conf").read_bytes() == confs[api.name]
        assert requests.get(f"{api.api}/tags?select=colour", timeout=5).status_code == 400  # rolled back
    assert "0003_tag_colour.sql failed at line 2" in alerts.read_text()
    (folder / "0003_tag_colour.sql").write_text("ALTER TABLE tags ADD COLUMN colour text;\n")
    run = run_pyinfra([db, *apis], "deploy.py").check()
    assert run.results[APPLY_MIGRATIONS][0] == 1
    for api in apis:
        deadline = time.monotonic() + 5
        while requests.get(f"{api.api}/tags?select=colour", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, f"{api.name}: no colour column 5 s after the migration"
            time.sleep(0.1)
