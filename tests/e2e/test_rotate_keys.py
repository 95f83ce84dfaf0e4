"""Key rotation over SSH on two hosts: zero failed requests, bad key sets never land,
rollback on a refused smoke token, an unreachable host.

A scenario: the tests run in file order and build on each other. This module has its
own Auth0 stand-in, so rotating its keys does not disturb other modules.
"""

from __future__ import annotations

import pytest
import requests

from postgrest_stack import signing_keys
from tasks import runlock
from tests.e2e.harness import Target, bearer, deployed, run_pyinfra, run_status, stand_in_backup
from tests.harness.auth0 import Tenant
from tests.harness.load import RequestLoop
from tests.jwks_corpus import refused_cases

ISSUER = "https://tenant.eu.auth0.com/"
AUDIENCE = "https://api.example.com"
REQUESTS_AT_LEAST = 1000


@pytest.fixture(scope="module")
def tenant(tmp_path_factory):
    return Tenant.with_keys(("k1", "k2", "k3", "k4"), published=("k1", "k2")).write_pems(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def hosts(endpoint):
    with deployed(endpoint.url, "rot-a", "rot-b") as targets:
        for target in targets:
            stand_in_backup(target)  # status: a db host without a recent backup is drift
        yield tuple(targets)


def token(tenant, key):
    return tenant.token(key, audience=AUDIENCE, issuer=ISSUER, role_claim="https://postgrest-demo.de/role",
                        role="api_user")


def status(target, tok):
    return requests.get(f"{target.api}/todos", headers=bearer(tok), timeout=10).status_code


def smoke_command(tenant, key):
    return tenant.smoke_command(key, audience=AUDIENCE, issuer=ISSUER)


def rotate(hosts, *extra, **overrides):
    return run_pyinfra(list(hosts), "rotate_keys.py", *extra, **overrides)


def key_files(hosts):
    return [(t.app_dir / "postgrest/jwks.json").read_bytes() for t in hosts]


def test_rotation_with_nothing_new_changes_nothing(hosts, tenant):
    before = [t.containers() for t in hosts]
    run = rotate(hosts).check()
    assert run.changed == []
    assert run.output.count("keys unchanged") == 2
    assert [t.containers() for t in hosts] == before


def test_dry_run_lists_each_hosts_rotation_and_changes_nothing(hosts, tenant):
    before = key_files(hosts)
    tenant.publish("k2", "k3")
    run = rotate(hosts, "--dry")
    assert run.returncode == 0, run.output[-3000:]
    for name in ("rot-a", "rot-b"):
        assert f"[{name}] key rotation planned: [" in run.output
    assert "steps: write jwks.json (previous kept as .prev), SIGUSR2, /ready, key proof" in run.output
    assert key_files(hosts) == before


def test_zero_downtime_rotation(hosts, tenant):
    before = [t.containers() for t in hosts]
    old_files = key_files(hosts)
    loop = RequestLoop([f"{target.api}/todos" for target in hosts], bearer(token(tenant, "k2")),
                       at_least=REQUESTS_AT_LEAST)  # k2: in the set before and after
    with loop:
        tenant.publish("k2", "k3")
        run = rotate(hosts, smoke_token_command=smoke_command(tenant, "k3"))
    run.check()
    # Each host's own operation reports its own change.
    assert run.results["Rotate signing keys, one host at a time"] == (2, 0, 0)
    assert len(loop.answers) >= REQUESTS_AT_LEAST
    assert loop.failures() == []
    kid = {name: signing_keys.kid_of(tenant.keys[name]) for name in ("k1", "k2", "k3")}
    assert run.output.count(f"added [{kid['k3']}], removed [{kid['k1']}], unchanged [{kid['k2']}]") == 2
    for target in hosts:
        assert status(target, token(tenant, "k1")) == 401
        assert status(target, token(tenant, "k3")) == 200
    assert [t.containers() for t in hosts] == before
    assert key_files(hosts) == [tenant.key_file()] * 2
    # The previous key set stays beside the new one.
    assert [(t.app_dir / "postgrest/jwks.json.prev").read_bytes() for t in hosts] == old_files


BAD_SOURCES = {name: {"body": raw} for name, (raw, _fragment) in refused_cases().items()}
BAD_SOURCES["HTTP 500"] = {"status": 500}
BAD_SOURCES["timeout"] = {"stall_seconds": 10}


def test_bad_key_sets_never_reach_a_host(hosts, tenant, endpoint):
    before = key_files(hosts)
    for name, behaviour in BAD_SOURCES.items():
        for field, value in behaviour.items():
            setattr(endpoint.behaviour, field, value)
        try:
            run = rotate(hosts, jwks_fetch_timeout=3)
        finally:
            endpoint.behaviour.body, endpoint.behaviour.status, endpoint.behaviour.stall_seconds = None, 200, 0
        assert run.returncode != 0, name
        assert "pyinfra error" in run.output and "rot-a" in run.output, name
        assert "Beginning operation run" not in run.output, name
        assert key_files(hosts) == before, name
    for target in hosts:
        assert status(target, token(tenant, "k2")) == 200


def test_refused_smoke_token_rolls_back_first_host_only(hosts, tenant):
    before = key_files(hosts)
    tenant.publish("k3", "k4")
    run = rotate(hosts, smoke_token_command=smoke_command(tenant, "k1"))
    assert run.returncode != 0
    # Inventory order: rot-a goes first and rolls back; rot-b is never touched.
    first, second = "rot-a", "rot-b"
    assert f"{first}: smoke token answered 401 after the reload, expected 200; rolled back" in run.output, run.output[-4000:]
    assert f"{second}: not rotated: the run stopped after {first} failed" in run.output
    assert "Traceback" not in run.output
    assert key_files(hosts) == before
    for target in hosts:
        assert status(target, token(tenant, "k2")) == 200 and status(target, token(tenant, "k4")) == 401


def test_smoke_token_command_that_times_out_rolls_back(hosts, tenant):
    before = key_files(hosts)
    tenant.publish("k3", "k4")
    run = rotate(hosts, smoke_token_command="sleep 30", health_timeout=2)
    assert run.returncode != 0
    assert ("rot-a: smoke_token_command printed no token within 2 s (health_timeout); rolled back"
            in run.output), run.output[-4000:]
    assert "Traceback" not in run.output
    assert key_files(hosts) == before


def test_unreachable_second_host(hosts, tenant):
    a, b = hosts
    tenant.publish("k3", "k4")
    b.sshd.pause()
    try:
        run = rotate(hosts, smoke_token_command=smoke_command(tenant, "k4"))
        assert run.returncode != 0
        assert "[rot-b] Could not connect" in run.output
        assert status(a, token(tenant, "k4")) == 200
        assert status(b, token(tenant, "k4")) == 401
    finally:
        b.sshd.start()
    rerun = rotate(hosts, smoke_token_command=smoke_command(tenant, "k4")).check()
    assert "[rot-a] keys unchanged" in rerun.output
    assert rerun.changed == [runlock.MARK_OPERATION, "Rotate signing keys, one host at a time"]
    assert status(b, token(tenant, "k4")) == 200
    assert key_files(hosts) == [tenant.key_file()] * 2


def test_a_rotation_stopped_after_its_write_is_finished_by_the_next_run(hosts, tenant):
    """What a rotation stopped between the write and the proof leaves (the new file,
    the old one as .prev, no record of loaded keys) is shown by status and finished,
    without a rewrite, by the next rotate_keys.py (it used to see 'keys unchanged')."""
    a, b = hosts
    tenant.publish("k1", "k2")
    key_file = a.app_dir / "postgrest/jwks.json"
    old = key_file.read_bytes()
    (a.app_dir / "postgrest/jwks.json.prev").write_bytes(old)
    key_file.write_bytes(tenant.key_file())
    (a.app_dir / "state/jwks.json").unlink()
    assert status(a, token(tenant, "k1")) == 401  # PostgREST still holds the old keys
    report = run_status([a])
    assert report.returncode == 1 and "drift: loaded state/jwks.json" in report.output, report.output

    run = rotate(hosts, smoke_token_command=smoke_command(tenant, "k1")).check()
    assert run.changed == [runlock.MARK_OPERATION, "Rotate signing keys, one host at a time"]
    assert status(a, token(tenant, "k1")) == 200 and status(b, token(tenant, "k1")) == 200
    assert (a.app_dir / "postgrest/jwks.json.prev").read_bytes() == old
    assert key_files(hosts) == [tenant.key_file()] * 2
    assert run_status(list(hosts)).returncode == 0
    assert "keys unchanged" in rotate(hosts).check().output


def test_a_host_with_no_stack_fails_alone(hosts, tenant, endpoint):
    """A never-deployed api host in the inventory fails its own operation with one line;
    the deployed hosts rotate (it used to stop the run for all of them)."""
    fresh = Target.create("rot-new", endpoint.url)
    try:
        tenant.publish("k2", "k3")
        run = rotate([*hosts, fresh], smoke_token_command=smoke_command(tenant, "k3"))
        assert run.returncode != 0
        assert f"rot-new: no deployed stack at {fresh.app_dir}/postgrest/jwks.json; run deploy.py first" in run.output
        assert all(status(t, token(tenant, "k3")) == 200 for t in hosts)
        assert key_files(hosts) == [tenant.key_file()] * 2
    finally:
        fresh.destroy()
