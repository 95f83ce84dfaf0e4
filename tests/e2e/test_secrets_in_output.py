"""Secrets never reach pyinfra's output, even at -vvv --diff, and land with tight modes.

A first deploy, then a change of every secret (and of one non-secret setting, whose
diff must show), both at -vvv --diff; every line printed is searched for every secret
value and for the development signing key's private material.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat

import psycopg
import pytest
import requests

from postgrest_stack import signing_keys
from tests.e2e.harness import Target, bearer

OLD = {"STACK_POSTGRES_PASSWORD": "old-superuser-secret-value-1", "STACK_AUTHENTICATOR_PASSWORD": "old-authenticator-secret-1"}
NEW = {"STACK_POSTGRES_PASSWORD": "new-superuser-secret-value-2", "STACK_AUTHENTICATOR_PASSWORD": "new-authenticator-secret-2"}


@pytest.fixture(scope="module")
def target():
    t = Target.create("secrets", "unused")
    t.data.update(dev_signing_key=str(t.workdir / "dev" / "signing-key.pem"),
                  jwks_url=str(t.workdir / "dev" / "jwks.json"))
    yield t
    t.destroy()


def private_material(target) -> list[str]:
    """The key's private numbers in every encoding they could be printed in, and the PEM.

    (Single PEM lines are not searched: some encode only the public modulus, which the
    published certificate legitimately shows.)"""
    path = target.workdir / "dev" / "signing-key.pem"
    numbers = signing_keys.load_private_key(path).private_numbers()
    found = [path.read_text().strip()]
    for value in (numbers.d, numbers.p, numbers.q, numbers.dmp1, numbers.dmq1, numbers.iqmp):
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        found += [str(value), f"{value:x}", base64.urlsafe_b64encode(raw).rstrip(b"=").decode()[:40],
                  base64.b64encode(raw).decode()[:40]]
    return found


def assert_no_secret(output: str, target) -> None:
    for value in [*OLD.values(), *NEW.values(), *private_material(target)]:
        assert value not in output, f"secret material printed: {value[:12]}..."


def test_first_deploy_prints_no_secret(target):
    target.secrets = dict(OLD)
    run = target.deploy("-vvv", "--diff").check()
    assert "(holds secrets: content not shown)" in run.output
    assert "jwt-aud" in run.output  # non-secret files are shown
    assert_no_secret(run.output, target)


def test_changing_every_secret_prints_none(target):
    target.secrets = dict(NEW)
    run = target.deploy("-vvv", "--diff", jwt_audience="https://secrets-v2.example.com").check()
    for name in (".env", "sql/01-roles.sql", "db/superuser-password"):
        assert f"{target.app_dir / name} (holds secrets: content not shown)" in run.output
    assert '+ jwt-aud = "https://secrets-v2.example.com"' in run.output
    assert_no_secret(run.output, target)


def test_rerun_probe_prints_no_plain_digest_of_a_secret(target):
    """-vvv prints the probe's output: secret files appear only by their keyed digest."""
    target.secrets = dict(NEW)
    run = target.deploy("-vvv", jwt_audience="https://secrets-v2.example.com").check()
    assert run.changed == []
    assert "ksha " in run.output  # the probe's output is printed at -vvv
    for name in (".env", "sql/01-roles.sql", "db/superuser-password"):
        content = (target.app_dir / name).read_bytes()
        assert hashlib.sha256(content).hexdigest() not in run.output, name
    for value in NEW.values():
        assert hashlib.sha256(value.encode()).hexdigest() not in run.output


def test_new_secrets_are_in_force(target):
    port = target.data["db_port"]
    with psycopg.connect(host="127.0.0.1", port=port, dbname="app", user="postgres",
                         password=NEW["STACK_POSTGRES_PASSWORD"]) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host="127.0.0.1", port=port, dbname="app", user="postgres",
                        password=OLD["STACK_POSTGRES_PASSWORD"]).close()
    key = signing_keys.load_private_key(target.workdir / "dev" / "signing-key.pem")
    tok = signing_keys.mint_token(key, audience="https://secrets-v2.example.com", issuer="https://tenant.eu.auth0.com/",
                                  role_claim="https://postgrest-demo.de/role", role="api_user")
    assert requests.post(f"{target.api}/todos", json={"task": "x"}, headers=bearer(tok), timeout=10).status_code == 201


def test_secret_files_modes_and_owners(target):
    expected = {".": (0o700, 0), "db": (0o700, 999), ".env": (0o600, 0), "sql/01-roles.sql": (0o600, 0),
                "db/superuser-password": (0o600, 999), "postgrest": (0o700, 1000),
                "postgrest/postgrest.conf": (0o600, 1000), "postgrest/jwks.json": (0o600, 1000)}
    for relative, (mode, uid) in expected.items():
        info = os.stat(target.app_dir / relative)
        assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (mode, uid, 0), relative
    assert (target.app_dir / "db/superuser-password").read_text() == NEW["STACK_POSTGRES_PASSWORD"]
    # Controller side: the development key is 0600 in a 0700 directory.
    key = target.workdir / "dev" / "signing-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and stat.S_IMODE(key.parent.stat().st_mode) == 0o700
