"""`python -m postgrest_stack status` over SSH against two loopback hosts: a healthy fleet
exits 0 and stays byte-for-byte and state-for-state the same; each drift users cause
(a kid the tenant added, a hand-edited postgrest.conf, a stopped PostgREST) is reported
with exit 1, a deploy fixes it and the next status exits 0; an unreachable host exits 2.

A scenario: the tests run in file order against the same two hosts. This module has its
own Auth0 stand-in, so publishing a key here does not disturb other modules.
"""

from __future__ import annotations

import json
import os
import subprocess

import docker
import pytest
import requests

from postgrest_stack import signing_keys
from tests.e2e.harness import Target, bearer, deployed, run_pyinfra, run_status, stand_in_backup
from tests.harness.auth0 import Tenant

ISSUER = "https://tenant.eu.auth0.com/"
AUDIENCE = "https://api.example.com"


@pytest.fixture(scope="module")
def tenant():
    return Tenant.with_keys(("k1", "k2", "k3"), published=("k1", "k2"))


@pytest.fixture(scope="module")
def hosts(endpoint):
    with deployed(endpoint.url, "st-a", "st-b") as targets:
        for target in targets:
            stand_in_backup(target)  # else each db host's lack of a backup is drift
        yield tuple(targets)


def status(hosts, *extra):
    return run_status(list(hosts), *extra)


def verdict(run) -> str:
    lines = [line for line in run.output.splitlines() if line.startswith("verdict: ")]
    assert len(lines) == 1, run.output
    return lines[0]


def snapshot(target: Target) -> dict:
    """Everything status must leave alone: each file under app_dir (bytes, mode, owner,
    inode, mtime), each container (state, start time, restarts, image) and the database."""
    files = {}
    for directory, _dirs, names in os.walk(target.app_dir):
        for name in [None, *names]:
            path = os.path.join(directory, name) if name else directory
            info = os.lstat(path)
            content = open(path, "rb").read() if name and os.path.isfile(path) else None
            files[os.path.relpath(path, target.app_dir)] = (info.st_mode, info.st_uid, info.st_gid, info.st_ino,
                                                           info.st_mtime_ns, content)
    client = docker.from_env()
    containers = {}
    for container in client.containers.list(all=True, filters={
            "label": f"com.docker.compose.project={target.data['stack_name']}"}):
        s = container.attrs["State"]
        containers[container.name] = (container.id, s["Status"], s["StartedAt"], container.attrs["RestartCount"],
                                      container.attrs["Image"])
    db = target.containers()["db"][0]
    dump = subprocess.run(["docker", "exec", db, "sh", "-c",
                           'pg_dump -U "$POSTGRES_USER" -d "$POSTGRES_DB" && pg_dumpall -U "$POSTGRES_USER" --roles-only'],
                          capture_output=True, timeout=120, check=True).stdout
    # pg_dump 15.14 brackets its output with a random \restrict key: the only line that varies.
    dump = b"\n".join(line for line in dump.splitlines() if not line.startswith((b"\\restrict ", b"\\unrestrict ")))
    return {"files": files, "containers": containers, "database": dump}


def changes(before: list[dict], after: list[dict]) -> list[str]:
    """What differs between two lists of snapshots, by host, part and key (content not shown)."""
    found = []
    for index, (old, new) in enumerate(zip(before, after, strict=True)):
        for part in old:
            if isinstance(old[part], dict):
                for key in sorted(set(old[part]) | set(new[part])):
                    if old[part].get(key) != new[part].get(key):
                        found.append(f"host {index} {part} {key}")
            elif old[part] != new[part]:
                found.append(f"host {index} {part}")
    return found


def test_a_healthy_fleet_exits_0_and_nothing_changes(hosts, tenant):
    token = tenant.token("k1", audience=AUDIENCE, issuer=ISSUER, role_claim="https://postgrest-demo.de/role",
                         role="api_user")
    for target in hosts:
        created = requests.post(f"{target.api}/todos", json={"task": "before status"}, headers=bearer(token),
                                timeout=10)
        assert created.status_code == 201, created.text
    before = [snapshot(t) for t in hosts]
    run = status(hosts)
    assert run.returncode == 0, run.output
    assert verdict(run).startswith("verdict: ok: 2 of 2 hosts match render and the tenant's keys")
    for target in hosts:
        row = next(line for line in run.output.splitlines() if line.startswith(f"{target.name}  "))
        assert "role all  docker " in row and "  compose 2." in row and "ready 200" in row and row.endswith("OK")
    assert "    postgrest  postgrest/postgrest:v12.0.2  sha256:" in run.output
    after = [snapshot(t) for t in hosts]
    assert after == before, changes(before, after)
    for secret in hosts[0].secrets.values():
        assert secret not in run.output


def test_without_the_passwords_every_other_check_is_made_and_each_skipped_one_named(hosts):
    """Issue 23.11: an ops box without STACK_POSTGRES_PASSWORD / STACK_AUTHENTICATOR_PASSWORD
    still checks everything else; the matching fleet exits 0, one line per check left out."""
    before = [snapshot(t) for t in hosts]
    run = run_status(list(hosts), env={})
    assert run.returncode == 0, run.output
    assert verdict(run).startswith("verdict: ok: 2 of 2 hosts match render and the tenant's keys")
    assert verdict(run).endswith("checks skipped for lack of secrets")
    why = "not compared: no secret (STACK_POSTGRES_PASSWORD, STACK_AUTHENTICATOR_PASSWORD not given)"
    for name in (".env", "db/superuser-password", "sql/01-roles.sql"):
        assert run.output.count(f"    skipped: file {name}: {why}") == 2, run.output
    assert "    drift:" not in run.output
    after = [snapshot(t) for t in hosts]
    assert after == before, changes(before, after)


def test_json_is_the_same_report(hosts, tenant):
    run = status(hosts, "--json")
    assert run.returncode == 0
    report = json.loads(run.output)
    assert report["exit"] == 0 and [h["verdict"] for h in report["hosts"]] == ["ok", "ok"]
    assert report["tenants"][0]["kids"] == [signing_keys.kid_of(tenant.keys[name]) for name in tenant.published]
    assert all(h["kids"] == report["tenants"][0]["kids"] for h in report["hosts"])
    assert all(h["services"]["postgrest"]["image_id"].startswith("sha256:") for h in report["hosts"])


def test_a_kid_added_to_the_tenant_is_drift_until_a_deploy(hosts, tenant):
    tenant.publish("k1", "k2", "k3")
    run = status(hosts)
    assert run.returncode == 1, run.output
    assert run.output.count("drift: keys missing: the tenant publishes ") == 2
    assert run.output.count("drift: file postgrest/jwks.json: content differs from the tenant's key set") == 2
    assert verdict(run) == ("verdict: drift: st-a (2 differences), st-b (2 differences); 0 of 2 hosts match")
    run_pyinfra(list(hosts), "deploy.py").check()
    assert status(hosts).returncode == 0


def test_a_hand_edited_postgrest_conf_is_drift_until_a_deploy(hosts):
    a, b = hosts
    conf = a.app_dir / "postgrest/postgrest.conf"
    edited = conf.read_bytes() + b"# edited by hand\n"
    conf.write_bytes(edited)
    run = status(hosts)
    assert run.returncode == 1, run.output
    assert "drift: file postgrest/postgrest.conf: content differs from render (fix: deploy.py)" in run.output
    assert verdict(run) == "verdict: drift: st-a (1 difference); 1 of 2 hosts match"
    assert conf.read_bytes() == edited  # status fixes nothing
    assert status(hosts, "--limit", "st-b").returncode == 0
    run_pyinfra(list(hosts), "deploy.py").check()
    assert status(hosts).returncode == 0


def test_a_stopped_postgrest_is_drift_until_a_deploy(hosts):
    a, _b = hosts
    docker.from_env().containers.get(a.containers()["postgrest"][0]).stop(timeout=10)
    run = status(hosts)
    assert run.returncode == 1, run.output
    assert "drift: service postgrest: exited (expected running) (fix: deploy.py)" in run.output
    assert "drift: ready postgrest: /ready did not answer (expected 200) (fix: deploy.py)" in run.output
    assert verdict(run) == "verdict: drift: not ready: st-a (2 differences); 1 of 2 hosts match"
    run_pyinfra(list(hosts), "deploy.py").check()
    assert status(hosts).returncode == 0


def test_an_unreachable_host_exits_2(hosts):
    _a, b = hosts
    b.sshd.pause()
    try:
        run = status(hosts)
    finally:
        b.sshd.start()
    assert run.returncode == 2, run.output
    assert "st-b  role all  UNREACHABLE: Could not connect" in run.output
    assert verdict(run).startswith("verdict: unknown: unreachable: st-b; 1 of 2 hosts match")
    assert status(hosts).returncode == 0
