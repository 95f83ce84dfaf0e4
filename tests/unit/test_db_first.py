"""An api host changes nothing while a database host of the run failed or could not be
reached (tasks/db_first.py), and deploy.py orders the db hosts' steps first."""

from __future__ import annotations

import ast
from types import SimpleNamespace

import pytest

from tasks import db_first
from tests.conftest import ROOT


class FakeHost:
    def __init__(self, name, runs_db):
        self.name, self.runs_db, self.logged = name, runs_db, []

    def log_styled(self, message, **_kwargs):
        self.logged.append(message)


@pytest.fixture
def fleet(monkeypatch):
    db, api1, api2 = FakeHost("db-1", True), FakeHost("api-1", False), FakeHost("api-2", False)
    hosts = [db, api1, api2]
    state = SimpleNamespace(inventory=hosts, failed_hosts=set(), activated_hosts=set(hosts), limit=None)
    state.is_host_in_limit = lambda target: state.limit is None or target in state.limit
    monkeypatch.setattr(db_first, "_runs_db", lambda target: target.runs_db)
    return state, db, api1, api2


def test_all_connected_and_none_failed_lets_the_api_hosts_go_on(fleet):
    state, _db, api1, _api2 = fleet
    assert db_first._check(state, api1) is True and api1.logged == []


@pytest.mark.parametrize("how", ["failed", "unreachable"])
def test_a_db_host_down_stops_each_api_host_with_one_line_naming_it(fleet, how):
    state, db, api1, api2 = fleet
    if how == "failed":
        state.failed_hosts.add(db)
    else:
        state.activated_hosts.discard(db)
    for api in (api1, api2):
        assert db_first._check(state, api) is False
        assert api.logged == ["not deployed: the database host db-1 failed or could not be reached; "
                              "nothing changed here"]


def test_a_db_host_passes_the_shared_wait(fleet):
    state, db, _api1, _api2 = fleet
    state.failed_hosts.add(_api1)
    assert db_first._check(state, db) is True and db.logged == []


def test_a_db_host_left_out_by_limit_is_not_waited_for(fleet):
    state, db, api1, _api2 = fleet
    state.activated_hosts.discard(db)
    state.limit = [api1]
    assert db_first._check(state, api1) is True


def test_another_api_host_failing_does_not_stop_this_one(fleet):
    state, _db, api1, api2 = fleet
    state.failed_hosts.add(api2)
    assert db_first._check(state, api1) is True


def test_deploy_calls_the_shared_wait_between_the_db_and_the_api_hosts_steps():
    """The wait every host adds from one line is one node of pyinfra's operation graph:
    it must follow the db hosts' converge() and precede the api hosts' (the real order
    is run in tests/e2e/test_multi_host.py)."""
    tree = ast.parse((ROOT / "deploy.py").read_text())
    calls = [(node.lineno, node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
             for node in ast.walk(tree) if isinstance(node, ast.Call)
             and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("converge", "wait_for_db_hosts")]
    order = [name for _line, name in sorted(calls)]
    assert order == ["wait_for_db_hosts", "converge", "wait_for_db_hosts", "converge"]


@pytest.mark.parametrize(("roles", "wanted"), [
    ({"db-1": (True, False), "api-1": (False, True)}, True),
    ({"all-1": (True, False), "api-1": (False, True)}, True),
    ({"all-1": (True, False)}, False),  # one host running everything: no wait
    ({"api-1": (False, True), "api-2": (False, True)}, False),  # an external database
])
def test_the_wait_only_where_db_hosts_and_api_hosts_share_the_run(monkeypatch, roles, wanted):
    hosts = [FakeHost(name, False) for name in roles]
    state = SimpleNamespace(inventory=hosts, is_host_in_limit=lambda _target: True)
    monkeypatch.setattr(db_first, "_roles", lambda target: roles[target.name])
    assert db_first.needed(state) is wanted


def test_a_db_host_outside_the_limit_makes_no_wait(monkeypatch):
    db, api = FakeHost("db-1", True), FakeHost("api-1", False)
    state = SimpleNamespace(inventory=[db, api], is_host_in_limit=lambda target: target is api)
    monkeypatch.setattr(db_first, "_roles", lambda target: (target.runs_db, not target.runs_db))
    assert db_first.needed(state) is False
