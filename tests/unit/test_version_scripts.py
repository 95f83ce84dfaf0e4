"""The health gate, the reload wait and the probe's ready line for PostgREST 14+ run for
real in sh, against stand-in `docker`, `curl` and `bin/compose` commands.

No PostgREST 14 or 16 binary can be fetched here, so these prove the shell of the
container branch (container health from `postgrest --ready`, `docker exec ... --ready`),
not PostgREST's answers. The 12.0.2 branch runs end to end in tests/e2e.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from postgrest_stack import probe, render, settings

STUB_DOCKER = """#!/bin/sh
echo "docker $*" >> "$STUB_LOG"
case "$1" in
  inspect) cat "$STUB_STATE/health-$4" 2>/dev/null ;;        # inspect -f FORMAT ID
  exec) exit "$(cat "$STUB_STATE/ready-rc")" ;;              # exec ID /bin/postgrest --ready CONF
  logs) echo "Config reloaded" ;;
  ps) [ -e "$STUB_STATE/no-containers" ] || echo pg1 ;;      # the probe's docker ps -q ... postgrest
esac
"""
# The admin port answers nothing: only the container branch can see PostgREST ready.
STUB_CURL = """#!/bin/sh
echo "curl $*" >> "$STUB_LOG"
case "$*" in
  */ready*) printf 000 ;;
  *"-X POST"*) printf 401 ;;
  *) printf 200 ;;
esac
"""
STUB_COMPOSE = """#!/bin/sh
echo "compose $*" >> "$STUB_LOG"
case "$1 $2 $3" in
  "ps -q db") echo db1 ;;
  "ps -q postgrest") echo pg1 ;;
esac
"""


@pytest.fixture
def stubs(tmp_path):
    path = tmp_path / "stub-bin"
    path.mkdir()
    for name, text in (("docker", STUB_DOCKER), ("curl", STUB_CURL)):
        (path / name).write_text(text)
        (path / name).chmod(0o755)
    state = tmp_path / "state"
    state.mkdir()
    (state / "health-db1").write_text("healthy\n")
    (state / "ready-rc").write_text("0\n")
    log = tmp_path / "log"
    log.write_text("")
    env = {**os.environ, "PATH": f"{path}:{os.environ['PATH']}", "STUB_LOG": str(log), "STUB_STATE": str(state)}
    return env, state, log


def install(data, secrets, tmp_path, release="14.17", **overrides) -> Path:
    resolved = settings.resolve(dict(data, postgrest_image=f"postgrest/postgrest:v{release}", **overrides))
    app = tmp_path / "app"
    render.write_tree(render.render(resolved, secrets), app)
    (app / "bin" / "compose").write_text(STUB_COMPOSE)
    return app


def run(app: Path, script: str, env) -> subprocess.CompletedProcess:
    return subprocess.run([str(app / "bin" / script)], capture_output=True, text=True, timeout=60, env=env)


def test_gate_passes_on_a_healthy_postgrest_container(data, secrets, tmp_path, stubs):
    env, state, log = stubs
    (state / "health-pg1").write_text("healthy\n")
    done = run(install(data, secrets, tmp_path), "health-gate", env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "health gate: ok"
    assert "docker inspect -f {{.State.Health.Status}} pg1" in log.read_text()


def test_gate_fails_while_the_container_is_not_healthy(data, secrets, tmp_path, stubs):
    env, state, log = stubs
    (state / "health-pg1").write_text("starting\n")
    done = run(install(data, secrets, tmp_path, health_timeout=2), "health-gate", env)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == "health gate: PostgREST container not healthy (postgrest --ready) within 2 s"
    assert "compose logs --no-color --tail 30 postgrest" in log.read_text()


def test_reload_asks_postgrest_ready_in_the_container_around_the_signal(data, secrets, tmp_path, stubs):
    env, state, log = stubs
    done = run(install(data, secrets, tmp_path), "reload-postgrest", env)
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    ready = "docker exec pg1 /bin/postgrest --ready /etc/postgrest/postgrest.conf"
    signal = next(number for number, call in enumerate(calls) if "SIGUSR2" in call)
    assert ready in calls[:signal] and ready in calls[signal:]
    assert not any(call.startswith("curl") for call in calls)


def test_reload_never_signals_a_postgrest_that_is_not_ready(data, secrets, tmp_path, stubs):
    env, state, log = stubs
    (state / "ready-rc").write_text("1\n")
    done = run(install(data, secrets, tmp_path, health_timeout=2), "reload-postgrest", env)
    assert done.returncode == 1
    assert done.stderr.strip() == "reload: PostgREST not ready (postgrest --ready) within 2 s; not signalling"
    assert "SIGUSR2" not in log.read_text()


@pytest.mark.parametrize(("rc", "ready"), [("0", 200), ("1", 503)])
def test_probe_ready_line_runs_postgrest_ready_in_the_container(stubs, tmp_path, rc, ready):
    env, state, log = stubs
    (state / "ready-rc").write_text(rc)
    script = probe.command(str(tmp_path / "no-app"), "stack", 3001, postgrest_version="16.2")
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert [line for line in done.stdout.splitlines() if line.startswith("ready")] == [f"ready {ready}"]
    assert probe.parse(done.stdout.splitlines()).ready == ready
    assert ("docker ps -q --filter label=com.docker.compose.project=stack --filter label=com.docker.compose.oneoff=False "
            "--filter label=com.docker.compose.service=postgrest") in log.read_text()
    assert "docker exec pg1 /bin/postgrest --ready /etc/postgrest/postgrest.conf" in log.read_text()
    assert "curl" not in log.read_text()


def test_probe_ready_line_without_a_postgrest_container_is_left_out(stubs, tmp_path):
    """No container to ask: no ready line (status shows none), not a 503."""
    env, state, log = stubs
    (state / "no-containers").write_text("")
    script = probe.command(str(tmp_path / "no-app"), "stack", 3001, postgrest_version="14.17")
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert "docker running" in done.stdout.splitlines()
    assert probe.parse(done.stdout.splitlines()).ready is None and "docker exec" not in log.read_text()


def test_probe_command_picks_the_ready_line_of_the_version():
    in_container = probe.command("/opt/app", "stack", 3001, postgrest_version="14.17")
    admin_port = probe.command("/opt/app", "stack", 3001, postgrest_version="13.0.8")
    assert "timeout 10 docker exec \"$id\" /bin/postgrest --ready /etc/postgrest/postgrest.conf" in in_container
    assert "http://127.0.0.1:3001/ready" not in in_container
    assert "http://127.0.0.1:3001/ready" in admin_port and "--ready" not in admin_port
    # Without a version: the release the stack pins by default (12.0.2: the admin port).
    assert probe.command("/opt/app", "stack", 3001) == probe.command("/opt/app", "stack", 3001,
                                                                     postgrest_version="12.0.2")


@pytest.mark.parametrize(("image", "in_container"), [("postgrest/postgrest:v12.0.2", False),
                                                     ("postgrest/postgrest:v13.0.8", False),
                                                     ("postgrest/postgrest:v14.17", True)])
def test_the_deploy_probes_each_host_with_the_ready_line_of_its_version(data, image, in_container):
    from tasks.probe_host import probe_arguments

    arguments = probe_arguments(settings.resolve(dict(data, postgrest_image=image)))
    assert arguments["postgrest_version"] == image.rsplit(":v", 1)[1]
    script = probe.command(**arguments)
    assert ("docker exec \"$id\" /bin/postgrest --ready" in script) == in_container
    assert ("http://127.0.0.1:3001/ready" in script) == (not in_container)
