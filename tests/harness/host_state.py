"""Probed host states for the pure tests: what a host shows after a successful run."""

from __future__ import annotations

import hashlib

from postgrest_stack import loaded, migrations, probe
from postgrest_stack.compare import digest_key_of


def with_records(state: probe.HostState, files: dict) -> probe.HostState:
    """``state`` plus the records (loaded.py) a successful run of ``files`` leaves, and
    where the SQL is applied, a ledger holding every rendered migration."""
    for record, content in loaded.expected(files, digest_key_of(files)).items():
        state.paths[record] = probe.PathState("f", 0o600, 0, 0, hashlib.sha256(content).hexdigest())
    if any(name.startswith("sql/") for name in files):
        state.ledger_digest = migrations.digest_of_files({name: f.content for name, f in files.items()})
    return state
