"""What db hosts, api hosts and hosts using an external database receive."""

from __future__ import annotations

import pytest

from postgrest_stack import compare, render, settings
from postgrest_stack import plan as planning
from postgrest_stack.probe import HostState
from tests.harness.host_state import with_records


def rendered(data, secrets, **overrides):
    return render.render(settings.resolve(dict(data, **overrides)), secrets)


def test_db_host_runs_only_the_database(data, secrets):
    files = rendered(data, secrets, stack_role="db", db_bind="10.0.0.7")
    compose = files["compose.yaml"].content.decode()
    assert compare.expected_services(files) == {"db"}
    assert '"10.0.0.7:5432:5432"' in compose
    assert "postgrest/postgrest.conf" not in files and "bin/reload-postgrest" not in files
    assert {"sql/01-roles.sql", "bin/apply-sql"} <= set(files)
    env = files[".env"].content.decode()
    assert "PASSWORD" not in env
    assert files["db/superuser-password"].content == secrets["postgres_password"].encode()
    assert planning.with_jwks(files, b"{}") == files  # no key file where PostgREST does not run


def test_api_host_runs_postgrest_against_db_host(data, secrets):
    files = rendered(data, secrets, stack_role="api", db_host="10.0.0.7", db_port=6432, swagger_enabled=True,
                     public_api_url="https://api.example.com")
    assert compare.expected_services(files) == {"postgrest", "swagger"}
    conf = files["postgrest/postgrest.conf"].content.decode()
    assert 'db-uri = "postgres://authenticator@10.0.0.7:6432/app"' in conf
    compose = files["compose.yaml"].content.decode()
    assert "depends_on" not in compose and "db-data" not in compose
    assert not any(name.startswith(("sql/", "db/")) for name in files) and "bin/apply-sql" not in files
    env = files[".env"].content.decode()
    assert "POSTGRES_PASSWORD" not in env and "AUTHENTICATOR_PASSWORD=" in env
    assert "postgrest/jwks.json" in planning.with_jwks(files, b"{}")


def test_api_host_without_db_host_is_refused(data):
    with pytest.raises(settings.SettingsError, match="setting 'db_host' is not set"):
        settings.resolve(dict(data, stack_role="api"))


def test_external_database(data, secrets):
    files = rendered(data, secrets, stack_role="api", external_db_uri="postgres://db.example.com:6543/app?sslmode=require")
    conf = files["postgrest/postgrest.conf"].content.decode()
    assert 'db-uri = "postgres://authenticator@db.example.com:6543/app?sslmode=require"' in conf
    assert compare.expected_services(files) == {"postgrest"}
    apply_sql = files["bin/apply-sql"].content.decode()
    assert "'host=db.example.com port=6543 dbname=app user=postgres sslmode=require'" in apply_sql
    assert "docker run --rm -i --network host --env-file .env postgres:15.14-bookworm" in apply_sql
    env = files[".env"].content.decode()
    assert "POSTGRES_PASSWORD=" in env and "AUTHENTICATOR_PASSWORD=" in env
    assert "db/superuser-password" not in files
    assert "ALTER ROLE postgres" not in files["sql/01-roles.sql"].content.decode()  # managed: not ours
    plan = planning.make_plan(planning.with_jwks(files, b"{}"), HostState(docker="running"))
    assert plan.sql and plan.up


@pytest.mark.parametrize(("uri", "message"), [
    ("postgres://user:pw@db.example.com/app", "no user or password"),
    ("mysql://db.example.com/app", "must look like"),
    ("postgres://db.example.com/other", "names database 'other'"),
])
def test_bad_external_uri(data, uri, message):
    with pytest.raises(settings.SettingsError, match=message):
        settings.resolve(dict(data, external_db_uri=uri))


def test_external_database_not_for_db_hosts(data):
    with pytest.raises(settings.SettingsError, match="for api hosts"):
        settings.resolve(dict(data, stack_role="db", external_db_uri="postgres://db.example.com/app"))


def test_healthy_db_host_has_nothing_to_do(data, secrets):
    import hashlib

    from postgrest_stack import probe
    from postgrest_stack.layout import DIRECTORIES
    from postgrest_stack.render import sql_digest

    resolved = settings.resolve(dict(data, stack_role="db"))
    files = render.render(resolved, secrets)
    state = probe.HostState(docker="running", ready=None, sql_digest=f"sql-digest:{sql_digest(files)}")
    for relative in (".", "bin", "db", "sql", "migrations"):
        mode, uid = DIRECTORIES[relative]
        state.paths[relative] = probe.PathState("d", mode, uid, 0)
    for relative, f in files.items():
        state.paths[relative] = probe.PathState("f", f.mode, f.owner_uid, 0, hashlib.sha256(f.content).hexdigest())
    image = compare.service_images(files)["db"]
    state.services["db"] = probe.ServiceState("running", "healthy", "t0", image)
    with_records(state, files)
    assert not planning.make_plan(files, state).changes_anything
    state.services["db"] = probe.ServiceState("running", "unhealthy", "t0", image)
    plan = planning.make_plan(files, state)
    assert plan.gate and not plan.up
