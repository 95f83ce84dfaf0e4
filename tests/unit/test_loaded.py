"""Records of what a host's services loaded (loaded.py): written for real by the shell the
host runs, read back through the probe's own file lines, and the plan and status rules
that finish a run which stopped half-way."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest

from postgrest_stack import compare, layout, loaded, probe, render, settings, status
from postgrest_stack import plan as planning
from postgrest_stack.layout import JWKS_FILE
from tests.unit.test_plan import deployed_state

JWKS = b'{"keys": []}'


def rendered(data, secrets, **overrides):
    return planning.with_jwks(render.render(settings.resolve({**data, **overrides}), secrets), JWKS)


@pytest.fixture
def files(data, secrets):
    return rendered(data, secrets)


def probe_dir(app) -> probe.HostState:
    """The probe's file lines, run for real on ``app``, parsed as the deploy parses them."""
    script = probe.command(str(app), "loaded-test", 1, secret_files=layout.KEYED_FILES)
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    return probe.parse(done.stdout.splitlines())


def record(app, files, records) -> subprocess.CompletedProcess:
    command = loaded.record_command(str(app), {r: loaded.sources(r, files) for r in records})
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True)


def test_what_the_host_records_is_what_the_controller_expects(tmp_path, files):
    app = tmp_path / "app"
    render.write_tree(files, app)
    assert set(loaded.stale(files, compare.digest_key_of(files), probe_dir(app))) == set(loaded.expected(
        files, compare.digest_key_of(files)))
    assert record(app, files, loaded.expected(files, compare.digest_key_of(files))).returncode == 0
    assert loaded.stale(files, compare.digest_key_of(files), probe_dir(app)) == []
    # Root's, 0700, each record 0600; a secret file is recorded by its keyed digest only.
    assert (app / "state").stat().st_mode & 0o7777 == 0o700
    assert (app / loaded.STACK).stat().st_mode & 0o777 == 0o600
    env_line = (app / loaded.STACK).read_text().splitlines()[1]
    assert env_line.startswith(".env ") and env_line.split()[1] not in (app / ".env").read_text()


def test_a_conf_written_but_never_reloaded_is_stale_until_recorded(tmp_path, data, secrets, files):
    app = tmp_path / "app"
    render.write_tree(files, app)
    record(app, files, list(loaded.expected(files, compare.digest_key_of(files))))
    # A run wrote the new postgrest.conf and stopped before the reload.
    newer = rendered(data, secrets, jwt_audience="https://other.example.com")
    conf = "postgrest/postgrest.conf"
    render.write_tree({conf: newer[conf]}, app)
    assert loaded.stale(newer, compare.digest_key_of(newer), probe_dir(app)) == [loaded.CONFIG]
    assert record(app, newer, [loaded.CONFIG]).returncode == 0
    assert loaded.stale(newer, compare.digest_key_of(newer), probe_dir(app)) == []


def test_a_record_of_a_missing_file_is_refused(tmp_path, files):
    app = tmp_path / "app"
    render.write_tree(files, app)
    (app / JWKS_FILE).unlink()
    done = record(app, files, [loaded.KEYS])
    assert done.returncode != 0 and not (app / loaded.KEYS).exists()


# --- The plan finishes what a stopped run left --------------------------------------


def without(state: probe.HostState, record: str) -> probe.HostState:
    state.paths.pop(record)
    return state


def test_a_complete_host_has_nothing_to_do(files):
    assert not planning.make_plan(files, deployed_state(files)).changes_anything


def test_conf_in_place_but_not_loaded_is_reloaded(files):
    plan = planning.make_plan(files, without(deployed_state(files), loaded.CONFIG))
    assert plan.reload and plan.files == [] and not plan.up and plan.gate and plan.record == [loaded.CONFIG]


def test_key_file_in_place_but_not_proven_is_rotated_without_a_write(files):
    plan = planning.make_plan(files, without(deployed_state(files), loaded.KEYS))
    assert plan.rotate_keys and plan.key_file_current and plan.files == [] and not plan.reload
    assert plan.record == [loaded.KEYS]


def test_a_new_key_file_is_rotated_with_a_write(files):
    new = {**files, JWKS_FILE: dataclasses.replace(files[JWKS_FILE], content=b'{"keys": [{"kid": "k2"}]}')}
    plan = planning.make_plan(new, deployed_state(files))
    assert plan.rotate_keys and not plan.key_file_current


def test_compose_and_env_in_place_but_never_brought_up(files):
    plan = planning.make_plan(files, without(deployed_state(files), loaded.STACK))
    assert plan.up and plan.files == [] and plan.record == [loaded.STACK]


def test_edge_files_in_place_but_never_reloaded(data, secrets, tmp_path):
    edged = rendered(data, secrets, tls_mode="internal", public_hostname="api.example.com")
    state = deployed_state(edged, services=("db", "postgrest", "edge"))
    assert not planning.make_plan(edged, state).changes_anything
    plan = planning.make_plan(edged, without(state, loaded.EDGE))
    assert plan.reload_edge and not plan.up and plan.record == [loaded.EDGE]


def test_an_image_loaded_but_never_brought_up(files):
    state = deployed_state(files)
    state.services["postgrest"] = dataclasses.replace(state.services["postgrest"], image="postgrest/postgrest:v12.0.2",
                                                      image_id="sha256:" + "a" * 64)
    images = {"postgrest/postgrest:v12.0.2": "sha256:" + "b" * 64}
    state.images = dict(images)  # the host holds the new ID: nothing to load, but it never ran
    plan = planning.make_plan(files, state, images)
    assert plan.load_images == [] and plan.up
    state.services["postgrest"] = dataclasses.replace(state.services["postgrest"], image_id="sha256:" + "b" * 64)
    assert not planning.make_plan(files, state, images).changes_anything


@pytest.mark.parametrize(("running", "first"), [(("db", "postgrest"), True), ((), False)])
def test_sql_goes_in_before_up_when_the_database_answers(files, running, first):
    state = deployed_state(files, services=running)
    state.sql_digest = "sql-digest:old"
    changed = {**files, ".env": dataclasses.replace(files[".env"], content=b"POSTGRES_PASSWORD=new\n")}
    plan = planning.make_plan(changed, state)
    assert plan.sql and plan.up and plan.sql_first is first


# --- status reports it ----------------------------------------------------------------


@pytest.mark.parametrize(("record", "fix"), [(loaded.KEYS, status.ROTATE), (loaded.CONFIG, status.DEPLOY),
                                             (loaded.STACK, status.DEPLOY)])
def test_status_reports_what_was_never_loaded(data, files, record, fix):
    tenant = status.TenantKeys("https://tenant.eu.auth0.com/.well-known/jwks.json", (), JWKS)
    report = status.host_report("api-1", settings.resolve(data), files, without(deployed_state(files), record),
                                tenant)
    found = [d for d in report.drift if d.kind == "loaded"]
    assert [(d.subject, d.fix) for d in found] == [(record, fix)]
    assert report.verdict == "drift"


def test_edge_record_is_reported_too(data, secrets):
    edged = rendered(data, secrets, tls_mode="internal", public_hostname="api.example.com")
    tenant = status.TenantKeys("https://tenant.eu.auth0.com/.well-known/jwks.json", (), JWKS)
    state = without(deployed_state(edged, services=("db", "postgrest", "edge")), loaded.EDGE)
    report = status.host_report("api-1", settings.resolve(dict(data, tls_mode="internal",
                                                               public_hostname="api.example.com")),
                                edged, state, tenant)
    assert [d.subject for d in report.drift if d.kind == "loaded"] == [loaded.EDGE]
    assert layout.CADDYFILE in loaded.sources(loaded.EDGE, edged)
