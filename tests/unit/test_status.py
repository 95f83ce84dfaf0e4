"""`status`'s comparison (postgrest_stack/status.py): probed state + rendered files + the
tenant's keys -> one drift line per difference, the verdict line and the exit status."""

from __future__ import annotations

import dataclasses
import json

import pytest

from postgrest_stack import jwks, probe, render, settings, signing_keys, status
from postgrest_stack import plan as planning
from postgrest_stack.layout import JWKS_FILE
from tests.unit.test_plan import deployed_state

KEYS = {name: signing_keys.generate_key() for name in ("k1", "k2", "k3")}


def key_set(*names: str) -> jwks.Jwks:
    document = {"keys": [signing_keys.public_jwk(KEYS[name]) for name in names]}
    return jwks.validate(json.dumps(document).encode(), "tenant")


def tenant_of(*names: str) -> status.TenantKeys:
    keys = key_set(*names)
    return status.TenantKeys("https://tenant.example/.well-known/jwks.json", keys.kids, keys.canonical)


@pytest.fixture
def resolved(data):
    return settings.resolve(data)


@pytest.fixture
def tenant():
    return tenant_of("k1", "k2")


@pytest.fixture
def files(resolved, secrets, tenant):
    return planning.with_jwks(render.render(resolved, secrets), tenant.key_file)


def healthy(files) -> probe.HostState:
    state = deployed_state(files)
    for name, service in state.services.items():
        image = {"db": "postgres:15.14-bookworm", "postgrest": "postgrest/postgrest:v12.0.2"}[name]
        state.services[name] = dataclasses.replace(service, image=image, image_id="sha256:" + "ab" * 32)
    state.jwks_kids = [key["kid"] for key in json.loads(files[JWKS_FILE].content)["keys"]]
    state.engine_version, state.compose_version = "24.0.7", "2.24.6"
    return state


def report(resolved, files, state, tenant, name="api-1"):
    return status.host_report(name, resolved, files, state, tenant)


def test_a_host_holding_what_render_and_the_tenant_say_has_no_drift(resolved, files, tenant):
    host = report(resolved, files, healthy(files), tenant)
    fleet = status.FleetReport([host], [tenant])
    assert host.drift == [] and host.verdict == "ok" and fleet.exit_code == 0
    assert host.kids == list(tenant.kids) and host.ready == 200
    assert fleet.verdict.startswith("ok: 1 of 1 hosts match")
    text = fleet.text()
    assert "docker 24.0.7  compose 2.24.6  ready 200" in text
    assert "postgrest  postgrest/postgrest:v12.0.2  sha256:abababababab  running" in text


def test_a_hand_edited_file_is_one_line_fixed_by_a_deploy(resolved, files, tenant):
    state = healthy(files)
    conf = state.paths["postgrest/postgrest.conf"]
    state.paths["postgrest/postgrest.conf"] = dataclasses.replace(conf, sha256="0" * 64, mode=0o644)
    host = report(resolved, files, state, tenant)
    assert [d.line for d in host.drift] == [
        "file postgrest/postgrest.conf: content differs from render; mode 0644, expected 0600 (fix: deploy.py)"]
    fleet = status.FleetReport([host], [tenant])
    assert fleet.exit_code == 1 and fleet.verdict == "drift: api-1 (1 difference); 0 of 1 hosts match"


def test_a_secret_file_that_differs_is_named_never_shown(resolved, files, tenant, secrets):
    state = healthy(files)
    env = state.paths[".env"]
    state.paths[".env"] = dataclasses.replace(env, keyed_sha256="f" * 64)
    host = report(resolved, files, state, tenant)
    assert [d.line for d in host.drift] == [
        "file .env: content differs from render (holds secrets: not shown) (fix: deploy.py)"]
    shown = status.FleetReport([host], [tenant]).text() + json.dumps(status.FleetReport([host], [tenant]).as_json())
    for secret in secrets.values():
        assert secret not in shown
    assert "f" * 64 not in shown and env.keyed_sha256 not in shown


def test_a_stopped_postgrest_is_drift_and_not_ready(resolved, files, tenant):
    state = healthy(files)
    state.services["postgrest"] = dataclasses.replace(state.services["postgrest"], status="exited")
    state.ready = None
    host = report(resolved, files, state, tenant)
    assert [d.line for d in host.drift] == [
        "service postgrest: exited (expected running) (fix: deploy.py)",
        "ready postgrest: /ready did not answer (expected 200) (fix: deploy.py)"]
    fleet = status.FleetReport([host], [tenant])
    assert host.not_ready and fleet.exit_code == 1
    assert fleet.verdict == "drift: not ready: api-1 (2 differences); 0 of 1 hosts match"


def test_a_kid_the_tenant_added_is_missing_on_the_host(resolved, secrets, files):
    state = healthy(files)  # serves k1, k2
    newer = tenant_of("k1", "k2", "k3")
    expected = planning.with_jwks(render.render(resolved, secrets), newer.key_file)
    host = report(resolved, expected, state, newer)
    kid3 = newer.kids[2]
    assert [d.line for d in host.drift] == [
        "file postgrest/jwks.json: content differs from the tenant's key set (fix: rotate_keys.py)",
        f"keys missing: the tenant publishes {kid3}, the host does not serve it (fix: rotate_keys.py)"]
    assert host.kids == list(newer.kids[:2])


def test_a_kid_the_tenant_revoked_is_extra_on_the_host(resolved, secrets, files):
    state = healthy(files)
    revoked = tenant_of("k2")
    expected = planning.with_jwks(render.render(resolved, secrets), revoked.key_file)
    lines = [d.line for d in report(resolved, expected, state, revoked).drift]
    assert lines[-1] == (f"keys extra: the host serves {key_set('k1').kids[0]}, the tenant no longer publishes it "
                         "(fix: rotate_keys.py)")


def test_sql_never_applied_or_different(resolved, files, tenant):
    state = healthy(files)
    state.sql_digest = None
    assert [d.line for d in report(resolved, files, state, tenant).drift] == [
        "sql digest: none recorded in the database (not applied, or the database did not answer) (fix: deploy.py)"]
    state.sql_digest = "sql-digest:" + "0" * 64
    assert [d.detail for d in report(resolved, files, state, tenant).drift] == ["the SQL applied differs from render"]


def test_stopped_docker_is_one_line_not_a_line_per_service(resolved, files, tenant):
    state = healthy(files)
    state.docker, state.services, state.ready, state.sql_digest = "stopped", {}, None, None
    assert [d.line for d in report(resolved, files, state, tenant).drift] == [
        "docker engine: not running (fix: deploy.py)"]


def test_images_and_services_render_does_not_name(resolved, files, tenant):
    state = healthy(files)
    state.services["postgrest"] = dataclasses.replace(state.services["postgrest"], image="postgrest/postgrest:v11")
    state.services["swagger"] = probe.ServiceState("running", "", "t0", "swaggerapi/swagger-ui:v5.17.14")
    lines = [d.line for d in report(resolved, files, state, tenant).drift]
    assert lines == ["image postgrest: runs postgrest/postgrest:v11, render names postgrest/postgrest:v12.0.2 "
                     "(fix: deploy.py)",
                     "service swagger: running but not in render (fix: deploy.py)"]


def test_a_file_with_the_wrong_owner_or_a_missing_one(resolved, files, tenant):
    state = healthy(files)
    state.paths["postgrest/postgrest.conf"] = dataclasses.replace(state.paths["postgrest/postgrest.conf"], uid=0)
    del state.paths["bin/prove-keys"]
    state.paths["sql"] = dataclasses.replace(state.paths["sql"], mode=0o755)
    assert [d.line for d in report(resolved, files, state, tenant).drift] == [
        "directory sql: mode 0755, expected 0700 (fix: deploy.py)",
        "file bin/prove-keys: missing (fix: deploy.py)",
        "file postgrest/postgrest.conf: owner 0:0, expected 1000:0 (fix: deploy.py)"]


def test_an_unreachable_host_makes_the_exit_status_2_whatever_else(resolved, files, tenant):
    drifted = report(resolved, files, probe.HostState(docker="missing"), tenant, name="api-1")
    gone = status.unreachable("api-2", "Could not connect (timed out)", "api")
    fleet = status.FleetReport([drifted, gone], [tenant])
    assert fleet.exit_code == 2
    assert "unreachable: api-2" in fleet.verdict and fleet.verdict.startswith("unknown: api-1")
    assert "api-2  role api  UNREACHABLE: Could not connect (timed out)" in fleet.text()
    assert fleet.as_json()["hosts"][1] == {**fleet.as_json()["hosts"][1], "verdict": "unreachable",
                                           "error": "Could not connect (timed out)"}


def test_an_unusable_tenant_key_set_is_unknown_not_drift(resolved, files, secrets):
    broken = status.TenantKeys("https://tenant.example/.well-known/jwks.json", error="HTTP 500")
    host = report(resolved, render.render(resolved, secrets) | {JWKS_FILE: files[JWKS_FILE]}, healthy(files), broken)
    fleet = status.FleetReport([host], [broken])
    assert host.drift == [] and fleet.exit_code == 2
    assert "tenant keys unknown (HTTP 500)" in fleet.verdict
    assert "tenant https://tenant.example/.well-known/jwks.json: kids unknown: HTTP 500" in fleet.text()


def test_json_carries_the_same_report(resolved, files, tenant):
    state = healthy(files)
    state.ready = 503
    fleet = status.FleetReport([report(resolved, files, state, tenant)], [tenant])
    document = json.loads(json.dumps(fleet.as_json()))
    assert document["exit"] == 1 and document["verdict"] == fleet.verdict
    assert document["tenants"] == [{"jwks_url": tenant.url, "kids": list(tenant.kids), "error": None}]
    host = document["hosts"][0]
    assert host["drift"] == [{"kind": "ready", "subject": "postgrest", "detail": "/ready answered 503 (expected 200)",
                              "fix": "deploy.py"}]
    assert host["services"]["postgrest"]["image_id"] == "sha256:" + "ab" * 32
    assert (host["engine_version"], host["compose_version"], host["kids"]) == ("24.0.7", "2.24.6", list(tenant.kids))


def test_a_db_host_has_no_postgrest_checks(data, secrets, tenant):
    db = settings.resolve({**data, "stack_role": "db"})
    files = planning.with_jwks(render.render(db, secrets), tenant.key_file)
    state = deployed_state(files, services=("db",))
    state.services["db"] = dataclasses.replace(state.services["db"], image="postgres:15.14-bookworm")
    state.ready = None
    host = report(db, files, state, tenant, name="db-1")
    assert host.drift == [] and host.kids is None and host.ready is None
    assert "ready -  kids -" in status.FleetReport([host], [tenant]).text()


def test_a_key_file_without_a_usable_key(resolved, files, tenant):
    state = healthy(files)
    state.jwks_kids = []
    host = report(resolved, files, state, tenant)
    assert host.kids == [] and "keys postgrest/jwks.json: holds no key PostgREST could use (fix: deploy.py)" in [
        d.line for d in host.drift]


@pytest.fixture
def controller(data):
    return settings.resolve({**data, "image_source": "controller"})


def test_a_container_running_another_image_than_its_tag_is_drift(controller, secrets, tenant):
    """image_source = controller: the host holds a newer image under the tag than the one
    the container runs (loaded, not yet brought up), read from the probe's own lines."""
    files = planning.with_jwks(render.render(controller, secrets), tenant.key_file)
    state = healthy(files)  # both containers run sha256:abab...
    probed = probe.parse(["image postgres:15.14-bookworm sha256:" + "ab" * 32,
                          "image postgrest/postgrest:v12.0.2 sha256:" + "cd" * 32])
    state.images = probed.images
    host = report(controller, files, state, tenant)
    assert [d.line for d in host.drift] == [
        "image postgrest: runs image sha256:abababababab, the host holds sha256:cdcdcdcdcdcd under "
        "postgrest/postgrest:v12.0.2 (fix: deploy.py)"]
    assert status.FleetReport([host], [tenant]).exit_code == status.EXIT_DRIFT


def test_a_container_running_the_image_its_tag_names_is_no_drift(controller, secrets, tenant):
    files = planning.with_jwks(render.render(controller, secrets), tenant.key_file)
    state = healthy(files)
    state.images = {"postgres:15.14-bookworm": "sha256:" + "ab" * 32, "postgrest/postgrest:v12.0.2": "sha256:" + "ab" * 32}
    host = report(controller, files, state, tenant)
    assert host.drift == [] and host.verdict == "ok"


def test_a_digest_pin_is_compared_under_the_tag_the_host_holds_it_by(data, secrets, tenant):
    """A digest pin is loaded under a local tag (images.local_reference): the container
    runs that tag, and the image ID is compared under it, not under the pin."""
    digest = "sha256:" + "12" * 32
    pinned = settings.resolve({**data, "image_source": "controller", "postgrest_image": f"postgrest/postgrest@{digest}",
                               "postgrest_version": "12.0.2"})
    local = "postgrest/postgrest:sha256-" + "12" * 32
    files = planning.with_jwks(render.render(pinned, secrets), tenant.key_file)
    state = healthy(files)
    state.services["postgrest"] = dataclasses.replace(state.services["postgrest"], image=local)
    state.images = {"postgres:15.14-bookworm": "sha256:" + "ab" * 32, local: "sha256:" + "ab" * 32}
    assert report(pinned, files, state, tenant).drift == []
    state.images[local] = "sha256:" + "cd" * 32
    assert [d.detail for d in report(pinned, files, state, tenant).drift] == [
        f"runs image sha256:abababababab, the host holds sha256:cdcdcdcdcdcd under {local}"]


def test_the_last_run_is_a_line_under_the_host_and_a_json_field(resolved, files, tenant):
    host = report(resolved, files, healthy(files), tenant)
    assert "last run" not in status.FleetReport([host], [tenant]).text()  # no run recorded: no line
    host.last_run = "last run: 2026-12-02T13:05:00Z alice@ctl deploy.py success"
    fleet = status.FleetReport([host], [tenant])
    lines = fleet.text().splitlines()
    assert lines[lines.index("    last run: 2026-12-02T13:05:00Z alice@ctl deploy.py success") - 1].startswith(
        f"{host.name}  role ")
    assert fleet.as_json()["hosts"][0]["last_run"] == host.last_run
