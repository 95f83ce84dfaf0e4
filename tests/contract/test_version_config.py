"""The per-version configuration table (postgrest_stack/versions.py) against the one
PostgREST that runs here, 12.0.2: its key list is exactly what 12.0.2 reads, and 12.0.2
shows why the check exists (keys of other lines are dropped without a word, the 16
role-claim syntax stops it)."""

from __future__ import annotations

import re
import subprocess

from postgrest_stack import render, versions
from tests.contract.conftest import SECRETS, local_conf, stack_settings
from tests.harness.auth0 import Tenant
from tests.harness.postgrest import postgrest_binary


def dump(conf: bytes, tmp_path) -> subprocess.CompletedProcess:
    jwks_path = tmp_path / "jwks.json"
    jwks_path.write_bytes(Tenant.with_keys(("k1",), published=("k1",)).key_file())
    path = tmp_path / "postgrest.conf"
    path.write_bytes(local_conf(conf, db_port=1, jwks_path=jwks_path, server_port=1, admin_port=2))
    return subprocess.run([str(postgrest_binary()), "--dump-config", str(path)], capture_output=True, text=True,
                          timeout=30, env={"PGPASSWORD": "x", "PGCONNECT_TIMEOUT": "1"})


def rendered_conf(image: str) -> bytes:
    return render.render(stack_settings(postgrest_image=image), dict(SECRETS))["postgrest/postgrest.conf"].content


def dumped_keys(stdout: str) -> set[str]:
    return set(re.findall(r"^([a-z][a-z0-9-]*) = ", stdout, flags=re.M))


def test_the_binary_is_the_release_the_default_pin_names():
    done = subprocess.run([str(postgrest_binary()), "--version"], capture_output=True, text=True, timeout=30)
    assert done.stdout.split() == ["PostgREST", versions.TESTED_RELEASE]


def test_the_12_0_key_table_is_what_12_0_2_reads(tmp_path):
    done = dump(rendered_conf("postgrest/postgrest:v12.0.2"), tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert dumped_keys(done.stdout) == versions.CONFIG_KEYS["12.0"]
    assert "jwt-cache-max-lifetime = 0\n" in done.stdout


def test_12_0_2_drops_keys_of_later_lines_without_a_word(tmp_path):
    conf = rendered_conf("postgrest/postgrest:v12.0.2") + b'jwt-cache-max-entries = 0\nadmin-server-host = "0.0.0.0"\n'
    done = dump(conf, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "jwt-cache-max-entries" not in done.stdout + done.stderr
    assert "admin-server-host" not in done.stdout + done.stderr
    # Which is why render checks every key against the release's own list.
    problems = versions.config_problems(versions.profile("12.0.2"), conf.decode())
    assert any("'jwt-cache-max-entries' is no setting of PostgREST 12.0.2" in p for p in problems)
    assert any("'admin-server-host' is no setting of PostgREST 12.0.2" in p for p in problems)


def test_12_0_2_does_not_start_with_the_16_role_claim_syntax(tmp_path):
    """A host back on 12.0.2 needs the 12.0 config: the deploy renders it from the pin."""
    conf = rendered_conf("postgrest/postgrest:v16.2")
    assert b'jwt-role-claim-key = "$$[\\"https://postgrest-demo.de/role\\"]"\n' in conf
    done = dump(conf, tmp_path)
    assert done.returncode != 0
    assert "failed to parse role-claim-key value" in done.stderr
