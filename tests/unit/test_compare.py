"""One comparison, two readers: for every kind of difference compare.diff finds, a deploy
acts (plan) and ``status`` reports drift (exit 1); with none, neither does anything."""

from __future__ import annotations

import dataclasses

import pytest

from postgrest_stack import compare, layout, loaded, migrations, probe, render, settings, status
from postgrest_stack import plan as planning
from tests.unit.test_plan import JWKS, deployed_state

KID = "k1"


@pytest.fixture
def resolved(data):
    return settings.resolve(data)


@pytest.fixture
def files(resolved, secrets):
    return planning.with_jwks(render.render(resolved, secrets), JWKS)


def healthy(files) -> probe.HostState:
    state = deployed_state(files)
    state.jwks_kids = [KID]
    return state


def report(resolved, files, state) -> status.HostReport:
    tenant = status.TenantKeys("https://tenant.eu.auth0.com/.well-known/jwks.json", (KID,), JWKS)
    return status.host_report("host-1", resolved, files, state, tenant)


def _service(state, name, **changes):
    state.services[name] = dataclasses.replace(state.services[name], **changes)


#: One change to a healthy host per case: (kind compare.diff must name, the change).
CASES = {
    "engine missing": ("docker", lambda s: setattr(s, "docker", "missing")),
    "engine stopped": ("docker", lambda s: setattr(s, "docker", "installed")),
    "directory missing": ("directory", lambda s: s.paths.pop("bin")),
    "directory mode": ("directory", lambda s: s.paths.__setitem__("sql", probe.PathState("d", 0o755, 0, 0))),
    "file missing": ("file", lambda s: s.paths.pop("bin/health-gate")),
    "file content": ("file", lambda s: s.paths.__setitem__(
        "compose.yaml", dataclasses.replace(s.paths["compose.yaml"], sha256="0" * 64))),
    "secret file content": ("file", lambda s: s.paths.__setitem__(
        ".env", dataclasses.replace(s.paths[".env"], keyed_sha256="0" * 64))),
    "file owner": ("file", lambda s: s.paths.__setitem__(
        "postgrest/postgrest.conf", dataclasses.replace(s.paths["postgrest/postgrest.conf"], uid=0))),
    "key file content": ("file", lambda s: s.paths.__setitem__(
        layout.JWKS_FILE, dataclasses.replace(s.paths[layout.JWKS_FILE], sha256="0" * 64))),
    "a file the project no longer has": ("file", lambda s: s.paths.__setitem__(
        "sql/02-api.sql", probe.PathState("f", 0o600, 0, 0, "0" * 64))),
    "record stale": ("loaded", lambda s: s.paths.pop(loaded.CONFIG)),
    "sql never applied": ("sql", lambda s: setattr(s, "sql_digest", None)),
    "sql differs": ("sql", lambda s: setattr(s, "sql_digest", "sql-digest:other")),
    "no ledger": ("migrations", lambda s: setattr(s, "ledger_digest", None)),
    "ledger behind": ("migrations", lambda s: setattr(s, "ledger_digest", migrations.ledger_digest([]))),
    "service missing": ("service", lambda s: s.services.pop("postgrest")),
    "service stopped": ("service", lambda s: _service(s, "db", status="exited")),
    "service unhealthy": ("service", lambda s: _service(s, "db", health="unhealthy")),
    "service not in render": ("service", lambda s: s.services.__setitem__(
        "swagger", probe.ServiceState("running", "", "t0", "swaggerapi/swagger-ui:v5.17.14"))),
    "other image": ("image", lambda s: _service(s, "postgrest", image="postgrest/postgrest:v11.2.2")),
    "image loaded, never brought up": ("image", lambda s: (
        _service(s, "db", image_id="sha256:" + "a" * 64),
        s.images.__setitem__(s.services["db"].image, "sha256:" + "b" * 64))),
    "not ready": ("ready", lambda s: setattr(s, "ready", 503)),
}


def test_a_healthy_host_is_no_difference_no_action_no_drift(resolved, files):
    state = healthy(files)
    assert compare.diff(files, state) == []
    assert not planning.make_plan(files, state).changes_anything
    found = report(resolved, files, state)
    assert found.drift == [] and status.FleetReport([found]).exit_code == status.EXIT_OK


@pytest.mark.parametrize("case", CASES)
def test_every_difference_is_acted_on_and_reported(resolved, files, case):
    kind, change = CASES[case]
    state = healthy(files)
    change(state)
    differences = compare.diff(files, state)
    assert kind in {d.kind for d in differences}, differences
    assert planning.make_plan(files, state).changes_anything, case
    found = report(resolved, files, state)
    assert found.drift and status.FleetReport([found]).exit_code == status.EXIT_DRIFT, case
    if state.docker == "running":  # without the engine, status reports the engine alone
        assert kind in {d.kind for d in found.drift}, found.drift


def test_the_cases_cover_every_kind():
    assert {kind for kind, _change in CASES.values()} == set(compare.KINDS)
