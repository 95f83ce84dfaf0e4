"""`python -m postgrest_stack render|token` read settings exactly as pyinfra does; `python -m
stackctl` is the same program."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from tests.conftest import ROOT

ENV = {"STACK_POSTGRES_PASSWORD": "cli-superuser-password-01", "STACK_AUTHENTICATOR_PASSWORD": "cli-authenticator-pw-01"}


def cli(*args, env=None, module="postgrest_stack", python=()):
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("STACK_")}
    run_env.update(env or {})
    return subprocess.run([sys.executable, *python, "-m", module, *args], cwd=ROOT, capture_output=True,
                          text=True, env=run_env, timeout=60)


def test_render_prod_with_data_overrides(tmp_path):
    out = tmp_path / "out"
    done = cli("render", "inventories/prod.py", "--host", "api-2.prod.example.com", "--data", "jwt_audience=client-123",
               "--data", "postgrest_port=8080", "--out", str(out), env=ENV)
    assert done.returncode == 0, done.stderr
    conf = (out / "postgrest/postgrest.conf").read_text()
    assert 'jwt-aud = "client-123"' in conf
    assert '"127.0.0.1:8080:3000"' in (out / "compose.yaml").read_text()
    assert 'db-uri = "postgres://authenticator@10.0.1.10:5432/app"' in conf
    assert stat.S_IMODE((out / ".env").stat().st_mode) == 0o600
    assert not (out / "db").exists()  # an api host: no database files


def test_render_prod_db_host(tmp_path):
    out = tmp_path / "out"
    done = cli("render", "inventories/prod.py", "--host", "db-1.prod.example.com", "--out", str(out), env=ENV)
    assert done.returncode == 0, done.stderr
    assert (out / "db/superuser-password").read_text() == ENV["STACK_POSTGRES_PASSWORD"]
    assert stat.S_IMODE((out / "db").stat().st_mode) == 0o700
    assert '"10.0.1.10:5432:5432"' in (out / "compose.yaml").read_text()
    assert not (out / "postgrest").exists()
    assert "https://example-tenant.eu.auth0.com/" in (out / "sql/03-pre-request.sql").read_text()
    assert not (out / "postgrest/jwks.json").exists()  # fetched at deploy time, not rendered


def test_render_prod_without_secrets_is_one_line(tmp_path):
    done = cli("render", "inventories/prod.py", "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "missing secret 'postgres_password'" in done.stderr


def test_render_unknown_host(tmp_path):
    done = cli("render", "inventories/prod.py", "--host", "nope", "--out", str(tmp_path), env=ENV)
    assert done.returncode == 1 and "no host named 'nope'" in done.stderr


def test_token_for_the_local_key_is_verifiable(tmp_path):
    import jwt

    done = cli("token", "inventories/local.py", "--role", "api_user", "--ttl", "10m")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    jwks = jwt.PyJWKSet.from_json((ROOT / ".local/dev-jwks.json").read_text())
    header = jwt.get_unverified_header(token)
    key = next(k for k in jwks.keys if k.key_id == header["kid"])
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience="local-dev-api",
                        issuer="https://dev-tenant.local/")
    assert claims["https://postgrest-demo.de/role"] == "api_user"
    assert 590 <= claims["exp"] - claims["iat"] <= 600


def test_an_inventory_that_does_not_load_is_one_line_for_every_command(tmp_path):
    """A typo in the inventory file: each command that reads it names the file and the
    line, no traceback (render exits 1, status and migration list 2, as for their
    other refusals)."""
    inventory = tmp_path / "inventory.py"
    inventory.write_text("db = [('db-1', {})])\n")
    for args, code in ((["render", str(inventory), "--out", str(tmp_path / "out")], 1),
                       (["status", str(inventory)], 2), (["migration", "list", str(inventory)], 1)):
        done = cli(*args)
        assert (done.returncode, done.stdout, done.stderr) == (
            code, "", f"error: {inventory}:1: not valid Python: unmatched ')'\n"), args


def test_both_entry_points_are_the_same_program(tmp_path):
    """`python -m postgrest_stack` only launches stackctl: `python -m stackctl` gives the
    same output, files and exit status."""
    runs = {}
    for module in ("postgrest_stack", "stackctl"):
        out = tmp_path / module
        runs[module] = [
            cli("--help", module=module),
            cli("render", "inventories/prod.py", "--host", "api-1.prod.example.com", "--out", str(out), env=ENV,
                module=module),
            cli("render", "inventories/prod.py", "--host", "nope", "--out", str(out / "x"), env=ENV, module=module),
            cli("status", "nosuch.py", module=module),
            cli(module=module),
        ]
    first, second = ([(done.returncode, done.stdout.replace(str(tmp_path / module), "OUT"), done.stderr)
                      for done in runs[module]] for module in ("postgrest_stack", "stackctl"))
    assert first == second
    helped, rendered, refused, status, bare = first
    assert helped[0] == 0 and helped[1].startswith("usage: python -m postgrest_stack [-h] [-C PROJECT_DIR]\n")
    assert rendered[0] == 0 and "postgrest/postgrest.conf\n" in rendered[1]
    assert refused[0] == 1 and "no host named 'nope'" in refused[2]
    assert status == (2, "", "error: nosuch.py: no such inventory file\n")
    assert bare[0] == 2 and "the following arguments are required: command" in bare[2]
    files = {module: {path.relative_to(tmp_path / module): path.read_bytes()
                      for path in (tmp_path / module).rglob("*") if path.is_file()} for module in runs}
    assert files["postgrest_stack"] == files["stackctl"] and files["stackctl"]


def _imported_in_order(stderr: str) -> list[str]:
    """Module names from `python -X importtime`, in the order each import finished."""
    return [line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")]


def test_status_and_migration_list_patch_the_stdlib_for_gevent_before_ssl_is_imported():
    """They drive pyinfra's SSH in gevent greenlets: the launcher must patch the stdlib
    before the core imports ssl (patched later, TLS breaks: RecursionError); other
    commands leave it alone."""
    for module in ("postgrest_stack", "stackctl"):
        for args, patched in ((["status", "nosuch.py"], True), (["migration", "list", "nosuch.py"], True),
                              (["render", "nosuch.py", "--out", "/nonexistent"], False)):
            done = cli(*args, module=module, python=("-X", "importtime"))
            assert done.returncode in (1, 2) and "error: nosuch.py: no such inventory file\n" in done.stderr
            order = _imported_in_order(done.stderr)
            assert "ssl" in order, (module, args)
            monkey_first = "gevent.monkey" in order and order.index("gevent.monkey") < order.index("ssl")
            assert monkey_first == patched, (module, args)
