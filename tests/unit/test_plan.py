"""The rules that turn 'what changed' into actions, and the probe's parser."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from postgrest_stack import backups, compare, digests, layout, probe, render, settings
from postgrest_stack import plan as planning
from postgrest_stack.layout import DIRECTORIES
from postgrest_stack.render import sql_digest
from tests.harness.host_state import with_records

JWKS = b'{"keys": []}'


@pytest.fixture
def files(data, secrets):
    return planning.with_jwks(render.render(settings.resolve(data), secrets), JWKS)


def deployed_state(files, *, ready=200, services=("db", "postgrest")) -> probe.HostState:
    """A host on which exactly these files run, healthy."""
    state = probe.HostState(init="systemd", docker="running")
    for relative, (mode, uid) in DIRECTORIES.items():
        state.paths[relative] = probe.PathState("d", mode, uid, 0)
    key = files[layout.DIGEST_KEY].content
    for relative, rendered in files.items():
        if relative in layout.KEYED_FILES:
            state.paths[relative] = probe.PathState("f", rendered.mode, rendered.owner_uid, 0,
                                                    keyed_sha256=digests.keyed(key, rendered.content))
        else:
            state.paths[relative] = probe.PathState("f", rendered.mode, rendered.owner_uid, 0,
                                                    hashlib.sha256(rendered.content).hexdigest())
    for name in services:  # each running the image compose.yaml names
        state.services[name] = probe.ServiceState("running", "healthy", "t0", compare.service_images(files)[name])
    state.ready = ready
    state.sql_digest = f"sql-digest:{sql_digest(files)}"
    if "db" in services:  # backed up an hour ago (status: a recent verified backup)
        state.latest_backup = backups.name_for(datetime.now(timezone.utc) - timedelta(hours=1))
    # ... and whose services loaded them (the records a successful run leaves, loaded.py).
    return with_records(state, files)


def changed(files, relative, content=b"changed\n"):
    return {**files, relative: layout.RenderedFile(content, files[relative].mode, files[relative].owner_uid)}


def test_nothing_changed_means_nothing_to_do(files):
    plan = planning.make_plan(files, deployed_state(files))
    assert not plan.changes_anything


def test_bare_host_gets_everything(files):
    plan = planning.make_plan(files, probe.HostState())
    assert plan.install_docker and plan.start_docker
    # Every directory but the TLS edge's (tls_mode off); migrations/ holds the example.
    assert set(plan.directories) == set(DIRECTORIES) - {"edge", "edge/tls"}
    assert "migrations/0001_todos.sql" in plan.files and plan.migrate
    assert set(plan.files) == set(files)
    assert plan.up and plan.sql and plan.gate and not plan.reload


@pytest.mark.parametrize("relative", ["compose.yaml", ".env"])
def test_compose_or_env_change_brings_up(files, relative):
    plan = planning.make_plan(changed(files, relative), deployed_state(files))
    assert plan.files == [relative] and plan.up and not plan.reload and not plan.sql and plan.gate


def test_conf_change_reloads_without_up(files):
    plan = planning.make_plan(changed(files, "postgrest/postgrest.conf"), deployed_state(files))
    assert plan.files == ["postgrest/postgrest.conf"] and plan.reload
    assert not plan.up and not plan.sql and not plan.rotate_keys and plan.gate


def test_jwks_change_rotates_keys_without_up(files):
    plan = planning.make_plan(changed(files, "postgrest/jwks.json"), deployed_state(files))
    assert plan.rotate_keys and plan.files == [] and not plan.reload and not plan.up and plan.gate


def test_jwks_on_a_stack_not_running_is_a_plain_upload(files):
    state = deployed_state(files, services=())
    plan = planning.make_plan(changed(files, "postgrest/jwks.json"), state)
    assert plan.files == ["postgrest/jwks.json"] and not plan.rotate_keys and plan.up


def test_sql_change_applies_sql_only(files):
    new = changed(files, "sql/03-pre-request.sql")
    plan = planning.make_plan(new, deployed_state(files))
    # bin/apply-sql embeds the digest, so it changes too; nothing restarts.
    assert plan.sql and not plan.up and not plan.reload and not plan.migrate
    assert "sql/03-pre-request.sql" in plan.files


def test_database_without_digest_gets_sql(files):
    state = deployed_state(files)
    state.sql_digest = None  # e.g. a fresh volume
    plan = planning.make_plan(files, state)
    assert plan.sql and not plan.files and not plan.up


def test_stopped_service_brings_up(files):
    state = deployed_state(files)
    state.services["postgrest"] = probe.ServiceState("exited", "", "t0", "image")
    plan = planning.make_plan(files, state)
    assert plan.up and not plan.reload


def test_unready_postgrest_gets_the_gate(files):
    plan = planning.make_plan(files, deployed_state(files, ready=503))
    assert plan.gate and not plan.up and not plan.files


def test_mode_or_owner_drift_is_a_change(files):
    state = deployed_state(files)
    conf = state.paths["postgrest/postgrest.conf"]
    state.paths["postgrest/postgrest.conf"] = probe.PathState("f", 0o644, conf.uid, 0, conf.sha256)
    state.paths["postgrest"] = probe.PathState("d", 0o700, 0, 0)
    plan = planning.make_plan(files, state)
    assert plan.files == ["postgrest/postgrest.conf"] and plan.directories == ["postgrest"]


def test_swagger_expected_only_when_enabled(data, secrets):
    enabled = planning.with_jwks(render.render(settings.resolve(
        dict(data, swagger_enabled=True, public_api_url="https://api.example.com")), secrets), JWKS)
    plan = planning.make_plan(enabled, deployed_state(enabled))
    assert plan.up  # swagger is not running yet


def test_probe_parser():
    lines = [
        "init systemd",
        "path d 700 0 0 ",
        "path f 600 1000 0 postgrest/postgrest.conf",
        "path f 600 0 0 .env",
        "sha abc123 postgrest/postgrest.conf",
        "ksha def456 .env",
        "docker running",
        "service db running healthy 2026-01-01T00:00:00Z postgres:15.14-bookworm",
        "service postgrest running - 2026-01-01T00:00:01Z postgrest/postgrest:v12.0.2",
        # A leftover container of the same service, listed last, never hides the running one.
        "service postgrest exited - 2026-01-01T00:00:02Z postgrest/postgrest:v12.0.2",
        "ready 200",
        "sqldigest sql-digest:ff",
    ]
    state = probe.parse(lines)
    assert state.systemd and state.docker == "running"
    assert state.paths["."] == probe.PathState("d", 0o700, 0, 0)
    assert state.paths["postgrest/postgrest.conf"] == probe.PathState("f", 0o600, 1000, 0, "abc123")
    assert state.paths[".env"] == probe.PathState("f", 0o600, 0, 0, None, "def456")
    assert state.services["db"].health == "healthy" and state.services["postgrest"].health == ""
    assert state.services["postgrest"].status == "running"
    assert state.ready == 200 and state.sql_digest == "sql-digest:ff"


def test_a_stale_postgrest_container_does_not_hide_the_running_one(files):
    """A leftover exited container must not turn a key change into a plain upload."""
    state = deployed_state(files)
    lines = ["docker running",
             "service postgrest running - t0 postgrest/postgrest:v12.0.2",
             "service postgrest exited - t1 postgrest/postgrest:v12.0.2"]
    state.services = probe.parse(lines).services
    state.services["db"] = probe.ServiceState("running", "healthy", "t0", compare.service_images(files)["db"])
    state.services["postgrest"] = probe.ServiceState("running", "", "t0", compare.service_images(files)["postgrest"])
    plan = planning.make_plan(changed(files, "postgrest/jwks.json", b'{"keys":[1]}\n'), state)
    assert plan.rotate_keys and not plan.up and "postgrest/jwks.json" not in plan.files


def test_the_probe_selects_service_containers_not_one_offs():
    command = probe.command("/opt/app", "stack", 3001)
    assert ("ids=$(docker ps -aq --filter label=com.docker.compose.project=stack "
            "--filter label=com.docker.compose.oneoff=False)") in command


def test_probe_parser_on_a_bare_host():
    state = probe.parse(["init bash", "docker missing"])
    assert not state.systemd and state.docker == "missing" and state.paths == {} and state.ready is None


def test_controller_images_load_only_what_the_host_lacks(files):
    wanted = {"postgres:15.14-bookworm": "sha256:" + "1" * 64, "postgrest/postgrest:v12.0.2": "sha256:" + "2" * 64}
    state = deployed_state(files)
    state.images = dict(wanted)
    same = planning.make_plan(files, state, wanted)
    assert same.load_images == [] and not same.changes_anything  # a rerun: 0 changes
    state.images = {"postgres:15.14-bookworm": "sha256:" + "9" * 64, "postgrest/postgrest:v12.0.2": None}
    plan = planning.make_plan(files, state, wanted)
    assert plan.load_images == list(wanted) and plan.up and plan.gate and not plan.files
    state.images = {"postgres:15.14-bookworm": wanted["postgres:15.14-bookworm"]}  # no line for postgrest
    assert planning.make_plan(files, state, wanted).load_images == ["postgrest/postgrest:v12.0.2"]
    assert planning.make_plan(files, probe.HostState(), wanted).load_images == list(wanted)  # no Docker yet


def test_registry_source_loads_nothing(files):
    assert planning.make_plan(files, deployed_state(files)).load_images == []
