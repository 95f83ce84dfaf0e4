"""alert_command end to end: the real `pyinfra` command line over SSH against two loopback
hosts, the project's config.py installing the alert. A failing deploy.py or
rotate_keys.py run (an invalid JWKS, a rollback, an unreachable host, every host
unreachable) sends exactly one line with the reason; a run that succeeds or changes
nothing sends none.

A scenario: the tests run in file order and build on each other. This module has its
own Auth0 stand-in.
"""

from __future__ import annotations

import pytest

from tests.e2e.harness import deployed, run_pyinfra
from tests.harness.auth0 import Tenant
from tests.jwks_corpus import refused_cases

AUDIENCE = "https://api.example.com"
ISSUER = "https://tenant.eu.auth0.com/"


@pytest.fixture(scope="module")
def tenant(tmp_path_factory):
    return Tenant.with_keys(("k1", "k2", "k3", "k4"), published=("k1", "k2")).write_pems(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def alert_log(tmp_path_factory):
    return tmp_path_factory.mktemp("alerts") / "alerts.log"


@pytest.fixture(scope="module")
def hosts(endpoint, alert_log):
    with deployed(endpoint.url, "al-a", "al-b", alert_command=f"cat >> {alert_log}") as targets:
        yield tuple(targets)


class Alerts:
    """The lines alert_command received since the last look."""

    def __init__(self, log):
        self.log, self.seen = log, 0

    def new(self) -> list[str]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        fresh, self.seen = lines[self.seen:], len(lines)
        return fresh


@pytest.fixture(scope="module")
def alerts(hosts, alert_log):
    return Alerts(alert_log)


def smoke_command(tenant, key):
    return tenant.smoke_command(key, audience=AUDIENCE, issuer=ISSUER)


def test_a_successful_deploy_and_runs_with_no_change_send_nothing(hosts, alerts):
    assert alerts.new() == []  # the first deploy (fixture) succeeded
    assert run_pyinfra(list(hosts), "rotate_keys.py").check().changed == []
    assert run_pyinfra(list(hosts), "deploy.py").check().changed == []
    assert alerts.new() == []


@pytest.mark.parametrize("script", ["rotate_keys.py", "deploy.py"])
def test_an_invalid_jwks_sends_one_line_with_the_reason(hosts, alerts, endpoint, script):
    raw, fragment = refused_cases()["x5c of another key"]
    endpoint.behaviour.body = raw
    try:
        run = run_pyinfra(list(hosts), script)
    finally:
        endpoint.behaviour.body = None
    assert run.returncode != 0
    [line] = alerts.new()
    assert line.startswith(f"{script} on ") and " failed: al-" in line and fragment in line, line
    assert "alert sent through alert_command" in run.output


def test_a_rollback_sends_one_line_with_the_reason(hosts, alerts, tenant):
    tenant.publish("k2", "k3")
    run = run_pyinfra(list(hosts), "rotate_keys.py", smoke_token_command=smoke_command(tenant, "k1"))
    assert run.returncode != 0
    [line] = alerts.new()
    assert "rotate_keys.py on " in line
    assert "al-a: smoke token answered 401 after the reload, expected 200; rolled back" in line, line
    assert "al-b: not rotated" in line, line


def test_an_unreachable_host_sends_one_line(hosts, alerts, tenant):
    _a, b = hosts
    b.sshd.pause()
    try:
        run = run_pyinfra(list(hosts), "rotate_keys.py", smoke_token_command=smoke_command(tenant, "k3"))
    finally:
        b.sshd.start()
    assert run.returncode != 0
    [line] = alerts.new()
    assert "al-b: unreachable: Could not connect" in line and "al-a" not in line.split(" failed: ")[1], line


def test_every_host_unreachable_still_sends_one_line(hosts, alerts):
    for target in hosts:
        target.sshd.pause()
    try:
        run = run_pyinfra(list(hosts), "rotate_keys.py")
    finally:
        for target in hosts:
            target.sshd.start()
    assert run.returncode != 0 and "No hosts remaining" in run.output
    [line] = alerts.new()
    assert "al-a: unreachable: Could not connect" in line and "al-b: unreachable: Could not connect" in line, line


def test_a_rotation_that_succeeds_sends_nothing(hosts, alerts, tenant):
    run = run_pyinfra(list(hosts), "rotate_keys.py", smoke_token_command=smoke_command(tenant, "k3")).check()
    assert run.changed  # al-b catches up
    assert alerts.new() == []
