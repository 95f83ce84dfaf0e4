"""The probe's Docker check, run for real with stand-in commands: a ``docker`` client
with no daemon and no service is no engine (``docker missing``, so the deploy installs
one), not a stopped engine (which the deploy would try to start and fail)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from postgrest_stack import probe


def _probe(root: Path) -> str:
    """The probe, with each service path moved under ``root``."""
    script = probe.command(str(root / "no-app"), "engine-test", 1)
    for path in probe.ENGINE_SERVICES:
        assert script.count(f"[ -e {path} ]") == 1
        script = script.replace(f"[ -e {path} ]", f"[ -e {root}{path} ]")
    return script


def _run(tmp_path: Path, commands: dict[str, str], services: tuple[str, ...] = ()) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in commands.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    root = tmp_path / "root"
    for path in services:
        (root / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (root / path.lstrip("/")).write_text("")
    # Only the stand-ins and the shell's own tools: no real docker or dockerd on PATH.
    env = {**os.environ, "PATH": f"{bin_dir}:/nonexistent"}
    done = subprocess.run(["/bin/sh", "-c", _probe(root)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return "\n".join(line for line in done.stdout.splitlines() if line.startswith("docker "))


def test_a_client_without_daemon_or_service_is_missing(tmp_path):
    assert _run(tmp_path, {"docker": "exit 1"}) == "docker missing"


def test_a_client_with_the_daemon_is_stopped(tmp_path):
    assert _run(tmp_path, {"docker": "exit 1", "dockerd": "exit 0"}) == "docker stopped"


@pytest.mark.parametrize("service", probe.ENGINE_SERVICES)
def test_a_client_with_a_service_is_stopped(tmp_path, service):
    assert _run(tmp_path, {"docker": "exit 1"}, services=(service,)) == "docker stopped"


def test_an_answering_engine_is_running(tmp_path):
    assert _run(tmp_path, {"docker": "exit 0"}) == "docker running"


def test_no_client_is_missing(tmp_path):
    assert _run(tmp_path, {"dockerd": "exit 0"}) == "docker missing"
