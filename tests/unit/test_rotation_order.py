"""Key rotations of a run: inventory order, one host at a time, stop at the first failure,
and each host's operation reports its own outcome, whichever runs first."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tasks import rotation, run


class FakeHost:
    def __init__(self, name):
        self.name, self.logged = name, []

    def log_styled(self, message, **_kwargs):
        self.logged.append(message)

    print_prefix = ""


@pytest.fixture
def fleet(monkeypatch):
    hosts = [FakeHost(name) for name in ("a", "b", "c")]
    state = SimpleNamespace(inventory=hosts, active_hosts=set(hosts))
    rotated: list[str] = []
    failing: set[str] = set()

    def rotate_host(target, _settings, _key_file, _before, **_options):
        rotated.append(target.name)
        return f"{target.name}: smoke token answered 401; rolled back" if target.name in failing else ""

    monkeypatch.setattr(rotation.keys, "rotate_host", rotate_host)
    for host in hosts:
        run.of(state).rotations[host.name] = rotation.HostRotation(None, b"{}", ["k1"], ["k2"])
    return state, hosts, rotated, failing


def test_inventory_order_whichever_operation_runs_first(fleet):
    state, (a, b, c), rotated, _failing = fleet
    # pyinfra's serial order is its set's: say c's operation runs first.
    assert rotation._rotate_this_host(state, c) is True
    assert rotated == ["a", "b", "c"]
    assert rotation._rotate_this_host(state, a) is True and rotation._rotate_this_host(state, b) is True
    assert rotated == ["a", "b", "c"]  # each host rotated once


def test_the_first_failure_stops_the_rest_and_each_host_reports_its_own(fleet):
    state, (a, b, c), rotated, failing = fleet
    failing.add("b")
    assert rotation._rotate_this_host(state, b) is False
    assert rotated == ["a", "b"]
    assert b.logged == ["b: smoke token answered 401; rolled back"]
    assert rotation._rotate_this_host(state, c) is False
    assert c.logged == ["c: not rotated: the run stopped after b failed"]
    assert rotation._rotate_this_host(state, a) is True and rotated == ["a", "b"]


def test_a_host_that_dropped_out_is_reported_not_rotated(fleet):
    state, (a, b, c), rotated, _failing = fleet
    state.active_hosts.discard(a)
    assert rotation._rotate_this_host(state, c) is True
    assert rotated == ["b", "c"]
    assert run.of(state).rotations["a"].outcome == "a: not rotated: the host dropped out of the run"


def test_run_state_belongs_to_one_run():
    first, second = SimpleNamespace(), SimpleNamespace()
    run.of(first).rotations["x"] = "planned"
    assert run.of(first) is run.of(first) and run.of(second).rotations == {}


def test_a_rotation_that_raised_is_never_run_again_by_the_next_host(fleet, monkeypatch):
    state, (a, b, _c), rotated, _failing = fleet

    def broken(target, *_args, **_kwargs):
        rotated.append(target.name)
        raise RuntimeError("connection lost")

    monkeypatch.setattr(rotation.keys, "rotate_host", broken)
    with pytest.raises(RuntimeError):
        rotation._rotate_this_host(state, a)
    assert not rotation._rotate_this_host(state, b)
    assert rotated == ["a"]  # a's rotation ran once; b's operation did not run it again
    assert b.logged == ["b: not rotated: the run stopped after a failed"]
