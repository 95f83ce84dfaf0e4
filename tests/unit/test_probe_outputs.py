"""probe.parse against recorded probe outputs, one case a file, as pyinfra's
tests/facts/*/*.json are: tests/unit/probe_outputs/NAME.json holds the lines the probe
printed, run for real (scripts/record_probe_outputs.py: a bare host, no Docker, an
engine that does not answer, a deployed stack up and down, an external database, image
IDs, the status command's versions, odd file names), and the HostState they mean."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from postgrest_stack import probe

CASES = sorted((Path(__file__).parent / "probe_outputs").glob("*.json"))


def state_dict(state: probe.HostState) -> dict:
    """HostState as the files hold it: modes in octal (scripts/record_probe_outputs.py)."""
    value = dataclasses.asdict(state)
    for path in value["paths"].values():
        path["mode"] = f"{path['mode']:04o}"
    return value


def test_the_cases_are_there():
    names = {case.stem for case in CASES}
    assert {"bare-host", "docker-missing", "docker-stopped", "deployed-healthy", "deployed-no-ledger", "stack-down",
            "external-database", "images", "details", "odd-names", "backups"} <= names


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_recorded_output_parses_to_its_state(case):
    recorded = json.loads(case.read_text())
    assert state_dict(probe.parse(recorded["output"])) == recorded["state"]


def test_what_the_cases_hold():
    """The states themselves, for what each case is about (a re-recording that lost one
    fails here, not only in a diff)."""
    state = {case.stem: json.loads(case.read_text())["state"] for case in CASES}
    assert state["bare-host"] == {**state_dict(probe.HostState()), "init": state["bare-host"]["init"]}
    assert state["docker-missing"]["docker"] == "missing" and state["docker-missing"]["paths"]
    assert state["docker-stopped"]["docker"] == "stopped" and not state["docker-stopped"]["services"]
    healthy = state["deployed-healthy"]
    assert healthy["docker"] == "running" and healthy["ready"] == 200
    assert {name: (s["status"], s["health"]) for name, s in healthy["services"].items()} == {
        "db": ("running", "healthy"), "postgrest": ("running", "")}
    assert healthy["sql_digest"].startswith("sql-digest:") and len(healthy["ledger_digest"]) == 64
    assert healthy["jwks_kids"] == ["k-2026-01", "k-2025-07"]
    paths = healthy["paths"]
    for keyed in (".env", "db/superuser-password", "sql/01-roles.sql"):
        assert paths[keyed]["sha256"] is None and len(paths[keyed]["keyed_sha256"]) == 64, keyed
    assert all(p["sha256"] for name, p in paths.items() if p["kind"] == "f" and not p["keyed_sha256"])
    assert (paths["postgrest"]["mode"], paths["postgrest"]["uid"]) == ("0700", 1000)
    assert (paths["db/superuser-password"]["mode"], paths["db/superuser-password"]["uid"]) == ("0600", 999)
    assert (paths["bin/health-gate"]["mode"], paths["bin/health-gate"]["uid"]) == ("0700", 0)
    assert state["deployed-no-ledger"]["ledger_digest"] is None and state["deployed-no-ledger"]["sql_digest"]
    # The data volume's PG_VERSION, read with the db container up or down; none without one.
    assert healthy["data_major"] == 15 and state["stack-down"]["data_major"] == 15
    assert state["external-database"]["data_major"] is None and state["bare-host"]["data_major"] is None
    down = state["stack-down"]
    assert {s["status"] for s in down["services"].values()} == {"exited"}
    assert down["ready"] == 0 and down["sql_digest"] is None
    external = state["external-database"]
    assert set(external["services"]) == {"postgrest"} and external["sql_digest"] and external["ledger_digest"]
    images = state["images"]["images"]
    assert images.pop("localhost:5000/not-held:1") is None and all(i.startswith("sha256:") for i in images.values())
    assert state["details"]["engine_version"] and state["details"]["compose_version"]
    # The newest verified backup: not the newer .partial, folder without SHA256SUMS or other name.
    assert state["backups"]["latest_backup"] == "20261202T020000Z-pre-migrations"
    assert all(s["latest_backup"] is None for name, s in state.items() if name != "backups")
    assert "back\\slash.sql" in state["odd-names"]["paths"] and "two  spaces  .sql" in state["odd-names"]["paths"]
