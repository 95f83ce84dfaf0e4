"""Issue 23.11: `status` on a controller without the database passwords (an ops box):
every check that needs no secret is made, each one that does is left out with one line,
and a host otherwise matching is ok (exit 0). tasks/fleet_status.render_without gives the
files and the unknown ones; status.host_report leaves those out."""

from __future__ import annotations

import dataclasses

import pytest

from postgrest_stack import compare, render, settings, status
from postgrest_stack import plan as planning
from postgrest_stack.layout import JWKS_FILE
from tasks.fleet_status import render_without
from tests.unit.test_plan import deployed_state
from tests.unit.test_status import tenant_of

API = {"stack_role": "api", "db_host": "10.0.0.5"}
NO_SECRETS = "no secret (STACK_POSTGRES_PASSWORD, STACK_AUTHENTICATOR_PASSWORD not given)"


def healthy(files):
    """As test_status.healthy, with the services these files define (an api host: postgrest)."""
    import json

    state = deployed_state(files, services=tuple(sorted(compare.expected_services(files))))
    for name, service in state.services.items():
        state.services[name] = dataclasses.replace(service, image_id="sha256:" + "ab" * 32)
    state.jwks_kids = [key["kid"] for key in json.loads(files[JWKS_FILE].content)["keys"]]
    return state


def deployed_and_seen_without(data, secrets, given, **role):
    """A host deployed with ``secrets``, and what a controller holding only ``given`` of
    them expects of it."""
    resolved = settings.resolve(dict(data, **role))
    tenant = tenant_of("k1", "k2")
    state = healthy(planning.with_jwks(render.render(resolved, secrets), tenant.key_file))
    files, unknown = render_without(resolved, {name: secrets[name] for name in given})
    return resolved, planning.with_jwks(files, tenant.key_file), state, tenant, unknown


def test_an_api_host_without_any_password_is_ok_with_its_skipped_checks(data, secrets):
    resolved, files, state, tenant, unknown = deployed_and_seen_without(data, secrets, (), **API)
    assert unknown == {".digest-key": NO_SECRETS, ".env": NO_SECRETS}
    host = status.host_report("api-1", resolved, files, state, tenant, unknown=unknown)
    assert host.drift == [] and host.verdict == "ok"
    assert host.skipped == [f"file .digest-key: not compared: {NO_SECRETS}", f"file .env: not compared: {NO_SECRETS}",
                            "loaded state/stack: not compared: it records .env"]
    fleet = status.FleetReport([host], [tenant])
    assert fleet.exit_code == 0
    assert fleet.verdict.startswith("ok: 1 of 1 hosts match render and the tenant's keys [")
    assert fleet.verdict.endswith("]; 3 checks skipped for lack of secrets")
    assert f"    skipped: file .env: not compared: {NO_SECRETS}" in fleet.text().splitlines()
    assert host.as_json()["skipped"] == host.skipped


def test_without_secrets_an_api_hosts_other_drift_is_still_found(data, secrets):
    resolved, files, state, tenant, unknown = deployed_and_seen_without(data, secrets, (), **API)
    conf = state.paths["postgrest/postgrest.conf"]
    state.paths["postgrest/postgrest.conf"] = dataclasses.replace(conf, sha256="0" * 64)
    env = state.paths[".env"]
    state.paths[".env"] = dataclasses.replace(env, mode=0o644)
    host = status.host_report("api-1", resolved, files, state, tenant, unknown=unknown)
    assert [d.line for d in host.drift] == [
        "file .env: mode 0644, expected 0600 (fix: deploy.py)",
        "file postgrest/postgrest.conf: content differs from render (fix: deploy.py)"]
    assert status.FleetReport([host], [tenant]).exit_code == 1
    del state.paths[".env"]
    host = status.host_report("api-1", resolved, files, state, tenant, unknown=unknown)
    assert "file .env: missing (fix: deploy.py)" in [d.line for d in host.drift]


def test_a_db_host_without_the_passwords_skips_its_secret_checks_one_line_each(data, secrets):
    resolved, files, state, tenant, unknown = deployed_and_seen_without(data, secrets, ())
    # bin/apply-sql holds the digest of the SQL it applies, roles SQL included.
    assert set(unknown) == {".digest-key", ".env", "bin/apply-sql", "db/superuser-password", "sql/01-roles.sql"}
    host = status.host_report("db-1", resolved, files, state, tenant, unknown=unknown)
    assert host.drift == [] and status.FleetReport([host], [tenant]).exit_code == 0
    assert host.skipped == [f"file {name}: not compared: {NO_SECRETS}" for name in sorted(unknown)] + [
        "loaded state/stack: not compared: it records .env",
        "sql digest: not compared: the applied SQL includes sql/01-roles.sql"]


def test_with_one_password_only_the_files_of_the_other_are_unknown(data, secrets):
    _resolved, _files, _state, _tenant, unknown = deployed_and_seen_without(data, secrets, ("authenticator_password",),
                                                                             **API)
    # An api host's .env holds the authenticator's password only, but every secret file
    # is digested with a key made from all the secrets.
    why = "no secret (STACK_POSTGRES_PASSWORD not given)"
    assert unknown == {".digest-key": why, ".env": why}


def test_with_every_secret_nothing_is_unknown_and_nothing_skipped(data, secrets):
    resolved, files, state, tenant, unknown = deployed_and_seen_without(data, secrets, tuple(secrets), **API)
    assert unknown == {}
    host = status.host_report("api-1", resolved, files, state, tenant, unknown=unknown)
    assert host.drift == [] and host.skipped == []


@pytest.mark.parametrize("given", [(), ("postgres_password",)])
def test_a_wrong_secret_file_is_still_drift_when_the_secrets_are_there(data, secrets, given):
    """The stand-in is never compared as if it were the secret: with the real secrets a
    .env that differs is drift (the control case of the tests above)."""
    resolved, files, state, tenant, _unknown = deployed_and_seen_without(data, secrets, given, **API)
    host = status.host_report("api-1", resolved, files, state, tenant)  # no unknown: compared
    assert any(d.subject == ".env" for d in host.drift)
