"""Probed host states for the pure tests: what a host shows after a successful run."""

from __future__ import annotations

import hashlib

from postgrest_stack import loaded, probe
from postgrest_stack.plan import digest_key_of


def with_records(state: probe.HostState, files: dict) -> probe.HostState:
    """``state`` plus the records (loaded.py) a successful run of ``files`` leaves."""
    for record, content in loaded.expected(files, digest_key_of(files)).items():
        state.paths[record] = probe.PathState("f", 0o600, 0, 0, hashlib.sha256(content).hexdigest())
    return state
