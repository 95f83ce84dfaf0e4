"""The probe's status lines (``details``): engine and compose versions, run for real with
stand-in docker/docker-compose commands on PATH; and the image ID of each service's
container. (The key file's kids come with every probe: its `jwks` line.)"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from postgrest_stack import layout, probe

KEY_FILE = b'{"keys":[{"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","n":"AQAB","e":"AQAB"}]}\n'

FAKE_DOCKER = """#!/bin/sh
case "$1 $2" in
  "version --format") echo 24.0.7 ;;
  "compose version") [ -n "$NO_PLUGIN" ] && exit 1; [ "$3" = --short ] && echo 2.24.6 || echo "Docker Compose version v2.24.6" ;;
  "info "*) exit 0 ;;
  *) exit 0 ;;
esac
"""
TOOLS = ("sh", "cat", "find", "sha256sum", "tr", "head")
FAKE_COMPOSE_V1 = """#!/bin/sh
[ "$1 $2" = "version --short" ] && echo 1.29.2
"""


def run_probe(tmp_path, *, docker=True, compose_v1=False, plugin=True, details=True):
    app = tmp_path / "app"
    (app / "postgrest").mkdir(parents=True, exist_ok=True)
    (app / layout.JWKS_FILE).write_bytes(KEY_FILE)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, script, wanted in (("docker", FAKE_DOCKER, docker), ("docker-compose", FAKE_COMPOSE_V1, compose_v1)):
        path = bin_dir / name
        if wanted:
            path.write_text(script)
            path.chmod(0o755)
        elif path.exists():
            path.unlink()
    for tool in TOOLS:  # PATH is this folder alone: the real docker must not be found
        found = shutil.which(tool)
        if found and not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    env = {"PATH": str(bin_dir), **({} if plugin else {"NO_PLUGIN": "1"})}
    command = probe.command(str(app), "details-test", 1, secret_files=layout.KEYED_FILES, details=details)
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout, probe.parse(done.stdout.splitlines())


def test_versions_and_key_file(tmp_path):
    _out, state = run_probe(tmp_path)
    assert (state.engine_version, state.compose_version) == ("24.0.7", "2.24.6")
    assert state.jwks_kids == ["k1"]


def test_compose_v1_when_the_plugin_is_missing(tmp_path):
    _out, state = run_probe(tmp_path, compose_v1=True, plugin=False)
    assert state.compose_version == "1.29.2"


def test_no_docker_no_versions(tmp_path):
    _out, state = run_probe(tmp_path, docker=False)
    assert state.docker == "missing" and state.engine_version is None and state.compose_version is None
    assert state.jwks_kids == ["k1"]


def test_a_deploy_probe_has_none_of_it(tmp_path):
    output, state = run_probe(tmp_path, details=False)
    assert not any(line.startswith(("engine ", "compose ")) for line in output.splitlines())
    assert state.engine_version is None and state.compose_version is None
    assert "docker version" not in probe.command("/opt/app", "stack", 3001)


@pytest.mark.parametrize("line, image_id", [
    ("service postgrest running - t0 postgrest/postgrest:v12.0.2 sha256:" + "a" * 64, "sha256:" + "a" * 64),
    ("service postgrest running - t0 postgrest/postgrest:v12.0.2", ""),  # an older probe's line
])
def test_the_service_line_carries_the_image_id(line, image_id):
    state = probe.parse(["docker running", line])
    assert state.services["postgrest"].image_id == image_id
    assert state.services["postgrest"].image == "postgrest/postgrest:v12.0.2"


def test_the_probe_asks_docker_for_the_image_id():
    assert "{{.Config.Image}} {{.Image}}" in probe.command("/opt/app", "stack", 3001)


RUNNING = "service postgrest running - 2026-01-01T00:00:01Z postgrest/postgrest:v12.0.2 sha256:" + "a" * 64
LEFTOVER = "service postgrest exited - 2026-01-02T00:00:00Z postgrest/postgrest:v12.0.2 sha256:" + "e" * 64


@pytest.mark.parametrize("lines", [[LEFTOVER, RUNNING], [RUNNING, LEFTOVER]], ids=["leftover first", "leftover second"])
def test_the_running_container_of_a_service_wins_over_an_exited_leftover(lines):
    state = probe.parse(["docker running", *lines])
    assert state.services["postgrest"].status == "running"
    assert state.services["postgrest"].image_id == "sha256:" + "a" * 64

