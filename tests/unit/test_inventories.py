"""The shipped inventories: groups, effective settings per role, secrets masked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from postgrest_stack import settings
from postgrest_stack.secrets import SecretRef
from tests.conftest import ROOT

SECRET_VALUES = {"STACK_POSTGRES_PASSWORD": "debug-inventory-superuser-secret", "STACK_AUTHENTICATOR_PASSWORD": "debug-inventory-authenticator-secret"}


def effective(inventory: str, env=None) -> dict:
    done = subprocess.run([sys.executable, "-m", "postgrest_stack", "settings", inventory], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_roles_and_environment_settings(environment):
    hosts = effective(f"inventories/{environment}.py")
    assert sorted({values["stack_role"] for values in hosts.values()}) == ["api", "db"]
    for values in hosts.values():
        assert values["auth0_domain"].startswith("example-tenant")
        assert values["jwks_url"] == f"https://{values['auth0_domain']}/.well-known/jwks.json"
        assert values["swagger_enabled"] is (environment == "staging")
        if values["stack_role"] == "db":
            assert values["runs_db"] and not values["runs_api"] and values["db_bind"].startswith("10.")
        else:
            assert values["public_api_url"].startswith("https://api")
            assert values["runs_api"] and not values["runs_db"] and values["db_host"].startswith("10.")


def test_the_prod_example_serves_its_public_api_url_through_the_edge():
    """Once DNS points at it, each prod api host answers on its public_api_url: the Caddy
    edge serves that name with a certificate, PostgREST itself stays on loopback."""
    api_hosts = {name: values for name, values in effective("inventories/prod.py").items() if values["runs_api"]}
    assert len(api_hosts) == 2
    for name, values in api_hosts.items():
        assert values["tls_mode"] in ("acme", "internal"), name
        assert values["public_hostname"], name
        assert values["public_api_url"] == f"https://{values['public_hostname']}", name
        assert values["postgrest_bind"] == "127.0.0.1", name
        assert values["tls_mode"] != "acme" or values["acme_email"], name
    assert len({values["public_hostname"] for values in api_hosts.values()}) == 2, "ACME needs a name per host"


def test_settings_command_never_shows_secret_values():
    output = json.dumps(effective("inventories/prod.py", dict(os.environ, **SECRET_VALUES)))
    assert "<secret from $STACK_AUTHENTICATOR_PASSWORD or secrets_file>" in output
    assert not any(value in output for value in SECRET_VALUES.values())


def test_debug_inventory_masks_secrets():
    env = dict(os.environ, **SECRET_VALUES)
    done = subprocess.run([str(Path(sys.executable).with_name("pyinfra")), "inventories/prod.py", "debug-inventory"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert '"postgres_password": "<secret from $STACK_POSTGRES_PASSWORD or secrets_file>"' in output
    assert not any(value in output for value in SECRET_VALUES.values())


def test_secret_in_host_data_is_refused():
    from postgrest_stack import secrets

    with pytest.raises(settings.SettingsError, match="must not be given in host data or with --data"):
        secrets.load({"postgres_password": "given-on-the-command-line"}, SECRET_VALUES)
    placeholders = {"postgres_password": SecretRef("STACK_POSTGRES_PASSWORD"),
                    "authenticator_password": SecretRef("STACK_AUTHENTICATOR_PASSWORD")}
    assert secrets.load(placeholders, SECRET_VALUES)["postgres_password"] == SECRET_VALUES["STACK_POSTGRES_PASSWORD"]


def test_secret_ref_survives_copy():
    import copy

    ref = copy.copy(SecretRef("STACK_X"))
    assert isinstance(ref, SecretRef) and ref.variable == "STACK_X"
