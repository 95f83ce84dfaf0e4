"""Real PostgreSQL 15 + the real PostgREST 12.0.2, fed the rendered SQL and config.

One cluster per test module; the Auth0 tenant is the local stand-in publishing k1
and k2 (k3 exists but is not published). The rendered postgrest.conf is used as is,
except the lines that point at the container world (database host, JWKS path, ports),
which are rewritten to the test's own.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from postgrest_stack import jwks, layout, migrations, render, settings
from tests.harness.auth0 import JwksEndpoint, Tenant
from tests.harness.pgcluster import PgCluster
from tests.harness.ports import free_port
from tests.harness.postgrest import PostgrestProcess
from tests.unit.conftest import SECRETS as UNIT_SECRETS
from tests.unit.conftest import group_defaults

AUDIENCE = "https://api.example.com"
DOMAIN = "tenant.eu.auth0.com"
ISSUER = f"https://{DOMAIN}/"


def stack_settings(**overrides) -> settings.Settings:
    data = group_defaults()
    data.update(auth0_domain=DOMAIN, jwt_audience=AUDIENCE, **overrides)
    return settings.resolve(data)


def local_conf(rendered_conf: bytes, *, db_port: int, jwks_path: Path, server_port: int, admin_port: int) -> bytes:
    """Point the rendered config at the test's own database, JWKS file and ports."""
    text = rendered_conf.decode()
    replacements = {
        "db-uri": render.conf_string(re.sub(r"@db:5432/", f"@127.0.0.1:{db_port}/", _value(text, "db-uri"))),
        "jwt-secret": render.conf_string(f"@{jwks_path}"),
        "server-host": '"127.0.0.1"',
        "server-port": str(server_port),
        "admin-server-port": str(admin_port),
    }
    for key, value in replacements.items():
        text, count = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.M)
        assert count == 1, f"rendered postgrest.conf has no single '{key}' line"
    return text.encode()


def _value(text: str, key: str) -> str:
    match = re.search(rf'^{key} = "(.*)"$', text, flags=re.M)
    assert match, key
    return match.group(1)


@dataclass
class Api:
    """A running PostgREST plus what the tests need to talk to it."""

    process: PostgrestProcess
    settings: settings.Settings
    tenant: Tenant
    jwks_path: Path

    @property
    def url(self) -> str:
        return self.process.base_url

    def token(self, key_name="k1", **claims) -> str:
        defaults = dict(audience=AUDIENCE, issuer=ISSUER, role_claim=self.settings.jwt_role_claim, role="api_user")
        defaults.update(claims)
        return self.tenant.token(key_name, **defaults)

    def get(self, path="/todos", token=None):
        return requests.get(self.url + path, headers=_auth(token), timeout=10)

    def post(self, path="/todos", token=None, body=None):
        return requests.post(self.url + path, json=body or {"task": "write tests"}, headers=_auth(token), timeout=10)


def _auth(token):
    return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture(scope="module")
def tenant():
    return Tenant.with_keys(("k1", "k2", "k3"), published=("k1", "k2"))


#: The rendered secrets; the superuser's password is set to the cluster's own below,
#: since sql/01-roles.sql applies it to the superuser.
SECRETS = dict(UNIT_SECRETS)


@pytest.fixture(scope="module")
def cluster():
    with PgCluster() as pg:
        pg.create_database("app")
        SECRETS["postgres_password"] = pg.superuser_password
        yield pg


def apply_sql(cluster: PgCluster, files: dict[str, layout.RenderedFile], directory: Path, *,
              resolved: settings.Settings | None = None, user: str | None = None,
              password: str | None = None) -> None:
    """Run every rendered SQL file, in lexical order, as psql -v ON_ERROR_STOP=1 -f FILE,
    then the rendered migrations the ledger lacks (the example's api.todos), as bin/migrate
    would: each in a transaction as the owner role with the psql variables it sets, and
    recorded. ``resolved``: the settings the files were rendered with (role and schema
    names), stack_settings() unless given. bin/migrate itself runs in test_migrate_script.py."""
    directory.mkdir(parents=True, exist_ok=True)
    login = {"user": user, "password": password} if user else {}
    for name in sorted(n for n in files if n.startswith("sql/")):
        path = directory / Path(name).name
        path.write_bytes(files[name].content)
        cluster.psql_file(path, "app", **login)
    resolved = resolved or stack_settings()
    for name in sorted(n for n in files if n.startswith(migrations.HOST_DIR + "/")):
        migration = migrations.read_content(Path(name).name, files[name].content)
        path = directory / migration.name
        path.write_bytes(migration.content)
        runner = directory / f"run-{migration.name}"
        runner.write_text(MIGRATION_RUNNER.format(s=resolved, m=migration, ledger=migrations.LEDGER_TABLE,
                                                  path=path))
        cluster.psql_file(runner, "app", **login)


#: One migration as bin/migrate runs it (no lock, no timing): skipped when recorded.
MIGRATION_RUNNER = """\\set api_schema {s.db_schema}
\\set anon_role {s.db_anon_role}
\\set user_role {s.db_user_role}
\\set owner_role {s.db_owner_role}
SELECT EXISTS (SELECT FROM {ledger} WHERE version = {m.version}) AS done \\gset
\\if :done
\\else
BEGIN;
SET LOCAL ROLE {s.db_owner_role};
SET LOCAL search_path TO {s.db_schema}, public;
\\i {path}
RESET ROLE;
INSERT INTO {ledger} (version, name, sha256, duration_ms, applied_by)
VALUES ({m.version}, '{m.name}', '{m.sha256}', 0, 'tests/contract');
COMMIT;
\\endif
"""


@pytest.fixture(scope="module")
def stack_files(cluster):
    return render.render(stack_settings(), dict(SECRETS))


@pytest.fixture(scope="module")
def applied(cluster, stack_files, tmp_path_factory):
    apply_sql(cluster, stack_files, tmp_path_factory.mktemp("sql"))
    return stack_files


def start_api(cluster, tenant, tmp_dir: Path, resolved: settings.Settings, password: str) -> PostgrestProcess:
    files = render.render(resolved, dict(SECRETS, authenticator_password=password))
    return start_postgrest(cluster, tenant, tmp_dir, files, {"PGPASSWORD": password})


def start_postgrest(cluster, tenant, tmp_dir: Path, files: dict[str, render.RenderedFile],
                    env: dict[str, str]) -> PostgrestProcess:
    """The real PostgREST with the rendered postgrest.conf (pointed at the test's own
    database, key file and ports) and ``env``, ready."""
    # The key file reaches PostgREST only through the guard, as in a deploy.
    jwks_path = tmp_dir / "jwks.json"
    with JwksEndpoint(tenant) as endpoint:
        jwks.fetch_to_file(endpoint.url, jwks_path)
    server_port, admin_port = free_port(), free_port()
    conf = tmp_dir / "postgrest.conf"
    conf.write_bytes(local_conf(files["postgrest/postgrest.conf"].content, db_port=cluster.port,
                                jwks_path=jwks_path, server_port=server_port, admin_port=admin_port))
    process = PostgrestProcess(conf, server_port=server_port, admin_port=admin_port, env=env)
    process.start()
    try:
        process.wait_ready()
    except BaseException:
        process.stop()
        raise
    return process


@pytest.fixture(scope="module")
def api(cluster, applied, tenant, tmp_path_factory):
    tmp_dir = tmp_path_factory.mktemp("postgrest")
    resolved = stack_settings()
    process = start_api(cluster, tenant, tmp_dir, resolved, SECRETS["authenticator_password"])
    try:
        yield Api(process, resolved, tenant, tmp_dir / "jwks.json")
    finally:
        process.stop()


#: The admin a hosted provider hands out (tests/contract: managed database cases).
MANAGED_ADMIN_PASSWORD = "managed-admin-password-0001"


@contextmanager
def managed_database():
    """A cluster as a hosted provider hands it out: a login with CREATEROLE and no
    SUPERUSER (``admin``) that owns the database ``app``."""
    with PgCluster() as pg:
        with pg.connect("postgres") as conn:
            conn.autocommit = True
            conn.execute(f"CREATE ROLE admin LOGIN CREATEROLE PASSWORD '{MANAGED_ADMIN_PASSWORD}'")
            conn.execute("CREATE DATABASE app OWNER admin")
        yield pg


def apply_sql_as_admin(managed: PgCluster, directory: Path) -> dict[str, layout.RenderedFile]:
    """Render an api host's files for ``managed`` as its external database, and apply
    their SQL as the admin, in lexical order."""
    resolved = stack_settings(stack_role="api", external_db_uri=f"postgres://127.0.0.1:{managed.port}/app",
                              db_superuser="admin")
    files = render.render(resolved, dict(SECRETS, postgres_password=MANAGED_ADMIN_PASSWORD))
    apply_sql(managed, files, directory, resolved=resolved, user="admin", password=MANAGED_ADMIN_PASSWORD)
    return files
