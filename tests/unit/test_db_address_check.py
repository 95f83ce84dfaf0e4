"""Issue 23.7: an api host's db_host that is no address the db host binds (db_bind) is
refused once per run, while the first host is prepared, before any host is touched
(tasks/controller.check_db_addresses, called first thing in deploy.py)."""

from __future__ import annotations

import os

import pytest

from postgrest_stack import settings
from tasks import controller
from tasks.host_data import read_inventory

PROD_MESSAGE = ("api-1.prod.example.com: db_host 10.0.1.11 (--data, group_data/prod.py, group_data/all.py) is no address a database host listens on "
                "(db_bind: db-1.prod.example.com binds 10.0.1.10): set db_host to 10.0.1.10, or the db host's "
                "db_bind to the address api hosts reach it at")


def hosts_of(inventory: str, **override):
    """A pyinfra State over ``inventory`` as a deploy run has it (nothing connected)."""
    from pyinfra.api import State
    from pyinfra.context import ctx_state

    state = State(check_for_changes=False)
    with ctx_state.use(state):
        state.inventory = read_inventory(inventory, dict(auth0_domain="t.example.com", jwt_audience="x", **override))
        state.inventory.state = state
        for host in state.inventory:
            host.state = state
    return state


@pytest.fixture(autouse=True)
def _cwd(monkeypatch):
    from tests.conftest import ROOT
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if not k.startswith("STACK_")})


def test_the_shipped_prod_inventory_matches():
    controller.check_db_addresses(hosts_of("inventories/prod.py"))


def test_a_db_host_that_is_not_the_db_hosts_bind_is_one_line_naming_both():
    state = hosts_of("inventories/prod.py", db_host="10.0.1.11")
    with pytest.raises(settings.SettingsError) as error:
        controller.check_db_addresses(state)
    assert str(error.value) == PROD_MESSAGE


def test_checked_once_per_run():
    state = hosts_of("inventories/prod.py", db_host="10.0.1.11")
    with pytest.raises(settings.SettingsError):
        controller.check_db_addresses(state)
    controller.check_db_addresses(state)  # the run already stopped at the first host


def test_a_db_host_left_at_loopback_is_named(tmp_path):
    inventory = tmp_path / "inv.py"
    inventory.write_text("db = [('db-1', {'stack_role': 'db'})]\n"
                         "api = [('api-1', {'stack_role': 'api', 'db_host': '10.0.0.5'})]\n")
    with pytest.raises(settings.SettingsError) as error:
        controller.check_db_addresses(hosts_of(str(inventory)))
    # Outside the pyinfra command the inventory file is not known by name (deploy_origin).
    assert str(error.value) == ("api-1: db_host 10.0.0.5 (the inventory file, host 'api-1', group_data/all.py) is no "
                                "address a database host listens on (db_bind: db-1 binds 127.0.0.1): set the db "
                                "host's db_bind to its private address (10.0.0.5?)")


@pytest.mark.parametrize("db_bind, db_host", [("0.0.0.0", "10.0.0.5"), ("10.0.0.5", "db.internal"),
                                              ("10.0.0.5", "10.0.0.5")])
def test_what_cannot_be_told_apart_or_matches_is_accepted(tmp_path, db_bind, db_host):
    inventory = tmp_path / "inv.py"
    inventory.write_text(f"db = [('db-1', {{'stack_role': 'db', 'db_bind': {db_bind!r}}})]\n"
                         f"api = [('api-1', {{'stack_role': 'api', 'db_host': {db_host!r}}})]\n")
    controller.check_db_addresses(hosts_of(str(inventory)))


def test_no_db_host_in_the_inventory_is_not_checked(tmp_path):
    inventory = tmp_path / "inv.py"
    inventory.write_text("api = [('api-1', {'stack_role': 'api', 'db_host': '10.0.0.5'})]\n")
    controller.check_db_addresses(hosts_of(str(inventory)))
