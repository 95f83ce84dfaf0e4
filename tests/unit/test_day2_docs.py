"""The "Day 2" section of docs/operations.md: it explains every drift line `status` can print, the exit
statuses, the schedules shipped under ops/ and alert_command, and its sample report is
what postgrest_stack/status.py prints."""

from __future__ import annotations

import re

from postgrest_stack import status
from tests.conftest import ROOT


def day2() -> str:
    text = (ROOT / "docs" / "operations.md").read_text().partition("\n## Day 2")[2].partition("\n## ")[0]
    assert text, "docs/operations.md has no Day 2 section"
    return text


def test_every_drift_kind_has_a_row_saying_what_fixes_it():
    rows = [line for line in day2().splitlines() if line.startswith("| `")]
    for kind in status.DRIFT_KINDS:
        row = next((r for r in rows if r.startswith(f"| `{kind}")), None)
        assert row, f"no row for drift kind {kind!r}"
        assert re.search(r"`(deploy|rotate_keys|backup)\.py`", row.rsplit("|", 2)[1]), row


def test_exit_statuses_schedules_and_alerts_are_there():
    text = day2()
    for phrase in ("**0** every host matches", "**1** drift", "**2** something could not be", "alert_command",
                   "ALERT_WEBHOOK_URL", "PAGERDUTY_ROUTING_KEY", "--limit", "--json"):
        assert phrase in text, phrase
    for path in re.findall(r"`(ops/[^`]+)`", text):
        assert (ROOT / path).exists() or (ROOT / f"{path}.service").exists(), path


def test_the_sample_report_is_what_status_prints():
    sample = day2().split("```\ntenant ", 1)[1].split("```", 1)[0]
    lines = ("tenant " + sample).splitlines()
    tenant = status.TenantKeys("https://example-tenant.eu.auth0.com/.well-known/jwks.json", ("kA", "kB", "kC"))
    db = status.HostReport("db-1.prod.example.com", role="db", docker="running", engine_version="24.0.7",
                           compose_version="2.24.6", runs_db=True,
                           backup={"name": "20261202T020000Z", "age_hours": 7.5},
                           services={"db": {"image": "postgres:15.14-bookworm", "image_id": "sha256:66c17afc7cd4" + "0" * 52,
                                            "status": "running", "health": "healthy"}})
    api = status.HostReport("api-1.prod.example.com", role="api", docker="running", engine_version="24.0.7",
                            compose_version="2.24.6", ready=200, runs_api=True, kids=["kA", "kB"],
                            services={"postgrest": {"image": "postgrest/postgrest:v12.0.2",
                                                    "image_id": "sha256:706137383e3f" + "0" * 52,
                                                    "status": "running", "health": None}},
                            drift=[status.Drift("file", "postgrest/jwks.json",
                                                "content differs from the tenant's key set", "rotate_keys.py"),
                                   status.Drift("keys", "missing", "the tenant publishes kC, the host does not serve it",
                                                "rotate_keys.py")])
    gone = status.unreachable("api-2.prod.example.com", "Could not connect (timed out)", "api")
    assert status.FleetReport([db, api, gone], [tenant]).text().splitlines() == lines
